export declare class SerialQueue {
    private tail;
    run<T>(job: () => Promise<T>): Promise<T>;
}
