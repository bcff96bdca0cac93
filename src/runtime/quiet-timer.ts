/**
 * Runs `work` once `quietMs` have passed since the last `touch`: upkeep that should wait until writes
 * pause. A touch only notes the time (commits touch it, so it must cost next to nothing); the one
 * pending timer re-arms itself for what is left of the quiet period.
 */
export class QuietTimer {
  readonly #quietMs: number;
  readonly #work: () => void;
  #lastTouch = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(quietMs: number, work: () => void) {
    this.#quietMs = quietMs;
    this.#work = work;
  }

  touch(): void {
    this.#lastTouch = performance.now();
    if (this.#timer === undefined) this.#arm(this.#quietMs);
  }

  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    const timer = setTimeout(() => {
      this.#timer = undefined;
      const left = this.#lastTouch + this.#quietMs - performance.now();
      if (left > 0) this.#arm(left);
      else this.#work();
    }, ms);
    // In Node, a pending timer alone must not keep the process alive.
    (timer as { unref?: () => void }).unref?.();
    this.#timer = timer;
  }
}
