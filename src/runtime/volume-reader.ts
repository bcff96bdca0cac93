import { Page, type PageCount, type PageIdx, type Snapshot } from '../core/index.ts';

/** How a page miss is served. */
export interface ReadOptions {
  /** On a miss, also fetch the following frames of the segment, up to this many pages, in the same request (read-ahead). Default 0. */
  readonly readAheadPages?: number;
}

/** How a runtime reads one page of a snapshot into `target` (PAGE_SIZE bytes, all of which it sets). */
export type ReadPageIntoFn = (snapshot: Snapshot, pageIdx: PageIdx, target: Uint8Array, options?: ReadOptions) => void;

/** Reads pages of one fixed snapshot. Blocking; DB worker only. */
export class VolumeReader {
  readonly snapshot: Snapshot;
  readonly #read: ReadPageIntoFn;

  constructor(snapshot: Snapshot, read: ReadPageIntoFn) {
    this.snapshot = snapshot;
    this.#read = read;
  }

  get pageCount(): PageCount {
    return this.snapshot.pageCount;
  }

  /** The page's content; zeros past the end or where never written. Throws PageNotLocal on a miss. */
  readPage(pageIdx: PageIdx, options?: ReadOptions): Page {
    const page = Page.zeroed();
    this.#read(this.snapshot, pageIdx, page, options);
    return page;
  }

  /** As readPage, into `target` (e.g. SQLite's buffer): a page read from the local store allocates nothing. */
  readPageInto(pageIdx: PageIdx, target: Uint8Array, options?: ReadOptions): void {
    this.#read(this.snapshot, pageIdx, target, options);
  }
}
