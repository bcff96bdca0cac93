/**
 * One async critical section per key, in call order. The worker runs every SQL call and every
 * operation that moves a graft's sync point or tag (pull, clone, fork, import) for a database name
 * under its lock, so a pull never lands between a transaction's reads and its commit bookkeeping.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => T | Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(() => fn());
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }
}
