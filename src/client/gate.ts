/**
 * Holds a database's other calls while a transaction runs: calls pass straight through (keeping their
 * order) unless a transaction holds the gate, in which case they wait for it to end.
 */
export class Gate {
  #held: Promise<void> | undefined;

  /** Whether a transaction holds the gate now. */
  get isHeld(): boolean {
    return this.#held !== undefined;
  }

  /** Runs `fn` once no transaction holds the gate. */
  async pass<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#held) await this.#held;
    return fn();
  }

  /** Runs `fn` holding the gate: later `pass` calls wait until it settles. */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#held) await this.#held;
    let release!: () => void;
    this.#held = new Promise<void>((resolve) => (release = resolve));
    try {
      return await fn();
    } finally {
      this.#held = undefined;
      release();
    }
  }
}
