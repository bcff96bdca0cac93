import { crc32c, PAGE_SIZE } from '../core/index.ts';
import { CHANGE_COUNTER_OFFSET, VERSION_VALID_FOR_OFFSET } from './header.ts';

/**
 * The change counter one connection's SQLite is shown in the database header (bytes 24..27, and
 * 92..95 which SQLite keeps equal). SQLite keeps its page cache across transactions only while those
 * bytes read back as it last read or wrote them. So a connection is shown the counter it holds
 * exactly while the graft's content is the content its cache holds; otherwise a counter derived from
 * the content version and different from every counter it might hold, so it drops its cache.
 * Kept per connection: two connections writing on the same content write the same counter (one of
 * them refused), and only the connection itself knows which one its cache holds.
 */
export class HeaderCounter {
  /** The counter SQLite holds and the content version its cache holds, while both are known. */
  #known: { counter: number; version: string } | undefined;
  /** Every counter SQLite may hold now (more than one after a write transaction that did not commit). */
  #possible = new Set<number>();
  /** The counter SQLite wrote into page 1 in the open write transaction. */
  #written: number | undefined;

  /** Patches the counter fields inside `dest` (bytes `within`.. of page 1) for content `version`. */
  present(dest: Uint8Array, within: number, version: string): void {
    const counter = this.#counterFor(version);
    for (const field of [CHANGE_COUNTER_OFFSET, VERSION_VALID_FOR_OFFSET]) {
      for (let i = 0; i < 4; i++) {
        const at = field + i - within;
        if (at >= 0 && at < dest.byteLength) dest[at] = (counter >>> (8 * (3 - i))) & 0xff;
      }
    }
    // A whole-page read of page 1 is where SQLite takes the counter it then holds (its own, while it is writing).
    if (within === 0 && dest.byteLength === PAGE_SIZE && this.#written === undefined) {
      this.#known = { counter, version };
      this.#possible = new Set([counter]);
    }
  }

  /** SQLite wrote page 1 (its new counter) in the open write transaction. */
  wrote(page1: Uint8Array): void {
    this.#written = new DataView(page1.buffer, page1.byteOffset, page1.byteLength).getUint32(CHANGE_COUNTER_OFFSET, false);
    this.#possible.add(this.#written);
  }

  /** The write transaction committed: SQLite's cache is the content at `version`. */
  committed(version: string): void {
    if (this.#written !== undefined) {
      this.#known = { counter: this.#written, version };
      this.#possible = new Set([this.#written]);
    } else if (this.#known) {
      this.#known = { counter: this.#known.counter, version };
    }
    this.#written = undefined;
  }

  /** A write transaction ended without committing: what SQLite's cache holds is no longer known. */
  forget(): void {
    this.#known = undefined;
    this.#written = undefined;
  }

  #counterFor(version: string): number {
    if (this.#written !== undefined) return this.#written;
    if (this.#known?.version === version) return this.#known.counter;
    let counter = crc32c(new TextEncoder().encode(version));
    while (this.#possible.has(counter)) counter = (counter + 1) >>> 0;
    return counter;
  }
}
