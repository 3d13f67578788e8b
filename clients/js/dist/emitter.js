// A small typed event emitter: `on` returns the function that removes the handler, and a
// throwing handler cannot stop the others (it is reported on the console).
export class Emitter {
    constructor() {
        this.handlers = new Map();
    }
    on(type, fn) {
        let set = this.handlers.get(type);
        if (!set)
            this.handlers.set(type, (set = new Set()));
        set.add(fn);
        return () => this.off(type, fn);
    }
    off(type, fn) {
        this.handlers.get(type)?.delete(fn);
    }
    /** The next event of `type` (that `pred` accepts), as a promise. */
    once(type, pred = () => true) {
        return new Promise((resolve) => {
            const off = this.on(type, (d) => {
                if (pred(d)) {
                    off();
                    resolve(d);
                }
            });
        });
    }
    emit(type, data) {
        for (const fn of [...(this.handlers.get(type) ?? [])]) {
            try {
                fn(data);
            }
            catch (e) {
                console.error(`stratus: a '${String(type)}' handler threw`, e);
            }
        }
    }
}
