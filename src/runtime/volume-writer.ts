import { Page, PageCount, ScionError, type PageIdx, type Snapshot } from '../core/index.ts';
import { VolumeReader, type PageSource, type ReadOptions } from './volume-reader.ts';

/**
 * Page buffers a finished writer gave back, reused by the next writer's copies: a small transaction
 * otherwise leaves a few short-lived 4 KiB buffers per commit, and at thousands of commits those were
 * most of the worker's memory until the next GC. Bounded, so it holds at most 512 KiB.
 */
const SPARE_PAGES_MAX = 128;
const sparePages: Page[] = [];
/** The pages this module copied (adopted pages belong to their caller and are never reused). */
const ownCopies = new WeakSet<Page>();

function copyOf(page: Page): Page {
  const copy = sparePages.pop() ?? Page.zeroed();
  copy.set(page);
  ownCopies.add(copy);
  return copy;
}

function giveBack(page: Page): void {
  if (ownCopies.has(page) && sparePages.length < SPARE_PAGES_MAX) sparePages.push(page);
}

declare const graftVersionBrand: unique symbol;
/** Opaque name of a graft's content at one moment (see Runtime.graftVersion); compare with ===. */
export type GraftVersion = string & { readonly [graftVersionBrand]: true };

/** What the runtime does with a finished transaction: one new local LSN, or a typed refusal. */
export type CommitFn = (base: Snapshot, pageCount: PageCount, truncatedTo: PageCount, pages: ReadonlyMap<PageIdx, Page>) => Snapshot;

/**
 * A transaction on a graft's local volume: pages are buffered in memory (read-your-writes) until
 * `commit`, which produces exactly one new local LSN or throws ConcurrentWrite if the graft's content
 * changed since `version` (see Runtime.graftVersion). Either way the writer is finished afterwards and holds nothing.
 */
export class VolumeWriter {
  readonly snapshot: Snapshot;
  /** The graft's content version the transaction began on. */
  readonly version: GraftVersion;
  readonly #source: PageSource;
  readonly #commit: CommitFn;
  readonly #pages = new Map<PageIdx, Page>();
  #pageCount: PageCount;
  /** The smallest size the volume had during this transaction: pages past it must not reappear. */
  #truncatedTo: PageCount;
  #done = false;
  readonly #onDone: (() => void) | undefined;

  /** `onDone` runs once the writer committed (or failed to) or was discarded: the runtime stops retaining its snapshot. */
  constructor(snapshot: Snapshot, version: GraftVersion, source: PageSource, commit: CommitFn, onDone?: () => void) {
    this.snapshot = snapshot;
    this.version = version;
    this.#source = source;
    this.#commit = commit;
    this.#onDone = onDone;
    this.#pageCount = snapshot.pageCount;
    this.#truncatedTo = snapshot.pageCount;
  }

  get pageCount(): PageCount {
    return this.#pageCount;
  }

  /** Pages written so far in this transaction. */
  get dirtyPages(): number {
    return this.#pages.size;
  }

  readPage(pageIdx: PageIdx, options?: ReadOptions): Page {
    const page = Page.zeroed();
    this.readPageInto(pageIdx, page, options);
    return page;
  }

  /** As readPage, into `target` (e.g. SQLite's buffer). */
  readPageInto(pageIdx: PageIdx, target: Uint8Array, options?: ReadOptions): void {
    this.#checkOpen();
    const own = pageIdx <= this.#pageCount ? this.#pages.get(pageIdx) : undefined;
    if (own) target.set(own);
    else if (pageIdx > this.#pageCount || pageIdx > this.#truncatedTo) target.fill(0);
    else this.#source.readInto(this.snapshot, pageIdx, target, options);
  }

  /** Buffers a copy of `page`; grows the volume to include `pageIdx`. */
  writePage(pageIdx: PageIdx, page: Uint8Array): void {
    this.#checkOpen();
    const own = this.#pages.get(pageIdx);
    if (own && ownCopies.has(own)) own.set(Page.from(page));
    else this.#pages.set(pageIdx, copyOf(Page.from(page)));
    if (pageIdx > this.#pageCount) this.#pageCount = PageCount.parse(pageIdx);
  }

  /**
   * Like writePage, but keeps `page` itself instead of a copy: the caller hands it over and never
   * changes it again. An import passes views of the file it was given, so it holds no second copy.
   */
  adoptPage(pageIdx: PageIdx, page: Page): void {
    this.#checkOpen();
    this.#pages.set(pageIdx, page);
    if (pageIdx > this.#pageCount) this.#pageCount = PageCount.parse(pageIdx);
  }

  /** Sets the volume's size; pages past it are hidden (and read as zeros if the volume grows again). */
  softTruncate(pageCount: PageCount): void {
    this.#checkOpen();
    this.#pageCount = pageCount;
    if (pageCount < this.#truncatedTo) this.#truncatedTo = pageCount;
    for (const [idx, page] of this.#pages) {
      if (idx <= pageCount) continue;
      this.#pages.delete(idx);
      giveBack(page);
    }
  }

  /** Makes the buffered pages one new local commit, durable on return. */
  commit(): VolumeReader {
    this.#checkOpen();
    this.#done = true;
    try {
      const snapshot = this.#commit(this.snapshot, this.#pageCount, this.#truncatedTo, this.#pages);
      return new VolumeReader(snapshot, this.#source);
    } finally {
      // The commit wrote the pages out (or failed): nothing holds them now.
      this.#clearPages();
      this.#onDone?.();
    }
  }

  /** Drops the buffered pages; nothing is written. */
  discard(): void {
    if (!this.#done) this.#onDone?.();
    this.#done = true;
    this.#clearPages();
  }

  get isDone(): boolean {
    return this.#done;
  }

  #clearPages(): void {
    for (const page of this.#pages.values()) giveBack(page);
    this.#pages.clear();
  }

  #checkOpen(): void {
    if (this.#done) throw new ScionError('Closed', 'This writer has already committed or been discarded. Start a new writer.');
  }
}
