// Runs async jobs one at a time, in order. A PeerConnection must not be renegotiated while
// another negotiation on it is in flight, so every offer/answer exchange goes through one.
export class SerialQueue {
    constructor() {
        this.tail = Promise.resolve();
    }
    run(job) {
        const next = this.tail.then(job, job);
        this.tail = next.catch(() => undefined);
        return next;
    }
}
