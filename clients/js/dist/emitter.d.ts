type Handler<T> = (data: T) => void;
export declare class Emitter<Events extends object> {
    private handlers;
    on<K extends keyof Events>(type: K, fn: Handler<Events[K]>): () => void;
    off<K extends keyof Events>(type: K, fn: Handler<Events[K]>): void;
    /** The next event of `type` (that `pred` accepts), as a promise. */
    once<K extends keyof Events>(type: K, pred?: (data: Events[K]) => boolean): Promise<Events[K]>;
    protected emit<K extends keyof Events>(type: K, data: Events[K]): void;
}
export {};
