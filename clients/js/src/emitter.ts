// A small typed event emitter: `on` returns the function that removes the handler, and a
// throwing handler cannot stop the others (it is reported on the console).

type Handler<T> = (data: T) => void;

export class Emitter<Events extends object> {
  private handlers = new Map<keyof Events, Set<Handler<never>>>();

  on<K extends keyof Events>(type: K, fn: Handler<Events[K]>): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(fn as Handler<never>);
    return () => this.off(type, fn);
  }

  off<K extends keyof Events>(type: K, fn: Handler<Events[K]>): void {
    this.handlers.get(type)?.delete(fn as Handler<never>);
  }

  /** The next event of `type` (that `pred` accepts), as a promise. */
  once<K extends keyof Events>(type: K, pred: (data: Events[K]) => boolean = () => true): Promise<Events[K]> {
    return new Promise((resolve) => {
      const off = this.on(type, (d) => {
        if (pred(d)) {
          off();
          resolve(d);
        }
      });
    });
  }

  protected emit<K extends keyof Events>(type: K, data: Events[K]): void {
    for (const fn of [...(this.handlers.get(type) ?? [])]) {
      try {
        (fn as Handler<Events[K]>)(data);
      } catch (e) {
        console.error(`stratus: a '${String(type)}' handler threw`, e);
      }
    }
  }
}
