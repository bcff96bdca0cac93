import type { PageIdx } from '../core/index.ts';

/** Pages read ahead at the first forward miss; the window doubles from here. */
const FIRST_WINDOW_PAGES = 64;

/**
 * Decides how many pages past the frame of a page miss the same request also fetches: none, then
 * 64 pages doubling (up to a cap) while misses keep moving forward through the file — a scan — and
 * back to none on a jump. Graft's lookahead idea (§6.2), in the simple form sql.js-httpvfs uses.
 * Counted in pages, not frames, so it reads as far ahead whatever size the pusher gave the frames.
 */
export class ReadOracle {
  readonly #max: number;
  #window = 0;
  #lastMiss: number | undefined;

  /** `maxPages` 0 turns read-ahead off. */
  constructor(maxPages: number) {
    this.#max = Math.max(0, maxPages);
  }

  /** Pages to read ahead if reading a page misses. */
  get window(): number {
    return this.#window;
  }

  /** Records that reading `pageIdx` missed. */
  missed(pageIdx: PageIdx): void {
    const last = this.#lastMiss;
    const forward = last !== undefined && pageIdx > last && pageIdx - last <= this.#window + 2 * FIRST_WINDOW_PAGES;
    this.#window = forward ? Math.min(this.#max, Math.max(FIRST_WINDOW_PAGES, this.#window * 2)) : 0;
    this.#lastMiss = pageIdx;
  }
}
