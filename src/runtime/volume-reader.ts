import type { Page, PageCount, PageIdx, Snapshot } from '../core/index.ts';

/** How a page miss is served. */
export interface ReadOptions {
  /** On a miss, also fetch the following frames of the segment, up to this many pages, in the same request (read-ahead). Default 0. */
  readonly readAheadPages?: number;
}

/** How a runtime reads one page of a snapshot. */
export type ReadPageFn = (snapshot: Snapshot, pageIdx: PageIdx, options?: ReadOptions) => Page;

/** Reads pages of one fixed snapshot. Blocking; DB worker only. */
export class VolumeReader {
  readonly snapshot: Snapshot;
  readonly #read: ReadPageFn;

  constructor(snapshot: Snapshot, read: ReadPageFn) {
    this.snapshot = snapshot;
    this.#read = read;
  }

  get pageCount(): PageCount {
    return this.snapshot.pageCount;
  }

  /** The page's content; zeros past the end or where never written. Throws PageNotLocal on a miss. */
  readPage(pageIdx: PageIdx, options?: ReadOptions): Page {
    return this.#read(this.snapshot, pageIdx, options);
  }
}
