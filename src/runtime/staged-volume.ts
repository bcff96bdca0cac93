import { LSN, Page, PageCount, PageIdx, PageSet, ScionError, SegmentId, VolumeId, type IdSource, type SegmentRef, type Snapshot } from '../core/index.ts';
import type { LocalStore } from '../local/index.ts';

/**
 * A volume no graft names, written in steps: a large write (an import) lands here page run by page
 * run, so memory holds one run at a time, and can be read back (SQLite checks it through the VFS)
 * before anything is visible. `Runtime.graftCommitStaged` then makes it one commit of the graft that
 * refers to the very pages stored here (written once). Every step is its own commit of this volume,
 * all in one segment, so the graft's commit is one segment of pages 1..pageCount. Local GC keeps the
 * pages while it lives; a crash leaves a volume no graft names, which the next open drops.
 */
export class StagedVolume {
  readonly vid: VolumeId;
  /** The one segment of every step, and of the graft's commit made from it. */
  readonly sid: SegmentId;
  readonly #store: LocalStore;
  readonly #retain: (snapshot: Snapshot) => () => void;
  #release: (() => void) | undefined;
  #lsn = 0;
  #pageCount = 0;
  #done = false;

  constructor(store: LocalStore, ids: IdSource, retain: (snapshot: Snapshot) => () => void) {
    this.#store = store;
    this.#retain = retain;
    this.vid = VolumeId.random(ids);
    this.sid = SegmentId.random(ids);
  }

  get pageCount(): PageCount {
    return PageCount.parse(this.#pageCount);
  }

  /** What was staged so far, as a snapshot (read it with Runtime.volumeReader or the VFS). */
  get snapshot(): Snapshot {
    if (this.#lsn === 0) return { pageCount: PageCount.ZERO, path: [] };
    return { pageCount: this.pageCount, path: [{ vid: this.vid, start: LSN.FIRST, end: LSN.parse(this.#lsn) }] };
  }

  /** The segment of pages 1..pageCount, all held locally. */
  get segment(): SegmentRef {
    return { sid: this.sid, pages: PageSet.all(this.pageCount), frames: [] };
  }

  /**
   * Stores `pages` as the next pages (pageCount + 1 on), durable on return. The pages are written
   * out before this returns: the caller may reuse their buffers. Throws QuotaExceeded on a full disk
   * (nothing of this step is stored).
   */
  append(pages: readonly Uint8Array[]): void {
    this.#checkOpen();
    if (pages.length === 0) return;
    const first = this.#pageCount + 1;
    const held = new Map<PageIdx, Page>();
    pages.forEach((bytes, i) => held.set(PageIdx.parse(first + i), Page.from(bytes)));
    const last = first + pages.length - 1;
    const lsn = LSN.parse(this.#lsn + 1);
    this.#store.appendCommitsSync([{
      commit: { vid: this.vid, lsn, pageCount: PageCount.parse(last), segment: { sid: this.sid, pages: PageSet.range(PageIdx.parse(first), PageIdx.parse(last)), frames: [] } },
      pages: held,
    }]);
    this.#lsn = lsn;
    this.#pageCount = last;
    // Local GC keeps what the snapshot reaches: move the lease onto the new snapshot.
    const previous = this.#release;
    this.#release = this.#retain(this.snapshot);
    previous?.();
  }

  /**
   * Forgets the staging volume; its pages go unless the graft's commit now refers to them. A drop that
   * fails (a full disk, a closed store) is left to the next open, which drops volumes no graft names.
   */
  discard(): void {
    if (this.#done) return;
    this.#done = true;
    this.#release?.();
    this.#release = undefined;
    if (this.#lsn === 0) return;
    try {
      this.#store.dropVolumeSync(this.vid);
    } catch {
      // Dropped at the next open (see above).
    }
  }

  get isDone(): boolean {
    return this.#done;
  }

  #checkOpen(): void {
    if (this.#done) throw new ScionError('Closed', 'This staged volume was committed or discarded. Stage a new one.');
  }
}
