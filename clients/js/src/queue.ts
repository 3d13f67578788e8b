// Runs async jobs one at a time, in order. A PeerConnection must not be renegotiated while
// another negotiation on it is in flight, so every offer/answer exchange goes through one.
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const next = this.tail.then(job, job);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
