import type { PageIdx } from '../core/index.ts';

/**
 * Decides how many frames a page miss fetches: one, doubling (up to a cap) while misses keep moving
 * forward through the file — a scan — and back to one on a jump. Graft's lookahead idea (§6.2), in
 * the simple form sql.js-httpvfs uses.
 */
export class ReadOracle {
  readonly #max: number;
  #window = 1;
  #lastMiss: number | undefined;

  constructor(maxFrames: number) {
    this.#max = Math.max(1, maxFrames);
  }

  /** Frames to fetch if reading `pageIdx` misses. */
  get window(): number {
    return this.#window;
  }

  /** Records that reading `pageIdx` missed. */
  missed(pageIdx: PageIdx): void {
    const last = this.#lastMiss;
    const forward = last !== undefined && pageIdx > last && pageIdx - last <= 64 * (this.#window + 1);
    this.#window = forward ? Math.min(this.#max, this.#window * 2) : 1;
    this.#lastMiss = pageIdx;
  }
}
