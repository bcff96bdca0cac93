import type { Commit, LSN, Page, PageIdx, PageSet, SegmentId, VolumeId } from '../core/index.ts';

/** A commit to append, with the pages it wrote when they are held locally (local commits). */
export interface CommitEntry {
  readonly commit: Commit;
  /** Exactly the commit's pages, ascending; omitted for commits whose pages live remotely. */
  readonly pages?: ReadonlyMap<PageIdx, Page> | undefined;
}

export interface StoreStats {
  readonly commits: number;
  /** Pages held, counted by (segment, page): a page shared by two segments counts twice. */
  readonly pages: number;
  /** Distinct page slots in use (bytes of page data = slots × 4096). */
  readonly slots: number;
  /** Slots inside the page file not in use yet reclaimed by compaction. */
  readonly freeSlots: number;
  /** Bytes of every file the store keeps. */
  readonly fileBytes: number;
  /** Bytes of the active journal (metadata). */
  readonly journalBytes: number;
  /** Bytes of it after its last checkpoint: what an open replays record by record. */
  readonly journalTailBytes: number;
}

/**
 * Durable local storage of volume logs and pages. Every method is blocking and must run on the
 * DB worker's thread (OPFS sync access handles); writes are durable when they return, and a write
 * that throws committed nothing.
 */
export interface LocalStore {
  readonly medium: 'memory' | 'opfs';

  /** The newest LSN of a volume's log held locally, or undefined if none. */
  latestLsnSync(vid: VolumeId): LSN | undefined;
  /**
   * A held commit: every commit from `oldestLsnSync(vid)` on, and older ones that still hold the
   * newest version of a page at that LSN (the log's checkpoint).
   */
  getCommitSync(vid: VolumeId, lsn: LSN): Commit | undefined;
  /**
   * The oldest LSN a snapshot of `vid` may end at (1 unless history was squashed), or undefined if
   * no log is held. Lookups (`findPageVersionSync`) are only meaningful for `end` at or after it.
   */
  oldestLsnSync(vid: VolumeId): LSN | undefined;
  /** The newest LSN in `start..=end` of `vid`'s log whose commit wrote `pageIdx`. */
  findPageVersionSync(vid: VolumeId, pageIdx: PageIdx, start: LSN, end: LSN): LSN | undefined;
  /** Volumes with at least one commit stored. */
  volumesSync(): VolumeId[];

  /** Throws Corrupt if the stored bytes fail their checksum; undefined if not held locally. */
  readPageSync(sid: SegmentId, pageIdx: PageIdx): Page | undefined;
  /**
   * As readPageSync, but into `target` (PAGE_SIZE bytes, e.g. SQLite's own buffer), allocating nothing:
   * true if the page is held (`target` holds it), false if not (`target` untouched). Throws Corrupt as readPageSync.
   */
  readPageIntoSync(sid: SegmentId, pageIdx: PageIdx, target: Uint8Array): boolean;
  hasPageSync(sid: SegmentId, pageIdx: PageIdx): boolean;
  /** The pages of `sid` held locally among `pageIdxs` (absent ones are left out), read in as few calls as possible. */
  readPagesSync(sid: SegmentId, pageIdxs: Iterable<PageIdx>): Map<PageIdx, Page>;

  /**
   * Appends commits, all or none, each at its volume's next LSN (throws Internal otherwise).
   * Acknowledged only once durable. A full disk throws QuotaExceeded.
   */
  appendCommitsSync(entries: readonly CommitEntry[]): void;
  /** Caches pages of a segment fetched from a remote (pages held already are skipped). Durable on return. */
  putPagesSync(sid: SegmentId, pages: ReadonlyMap<PageIdx, Page>): void;
  /**
   * Holds page `idx` of `sid` as the very bytes already held for page `idx` of `sources.get(idx)`,
   * without writing them again (a pushed segment's pages are the local pages it was made of).
   * Returns the pages linked; a source not held is skipped.
   */
  linkPagesSync(sid: SegmentId, sources: ReadonlyMap<PageIdx, SegmentId>): PageSet;
  /**
   * Starts `vid`'s log (which must hold no commit) at a checkpoint: `commits` are the commits below
   * `first` that hold the newest version of some page at `first`, ascending, then commit `first`
   * itself (a clone from a remote checkpoint). The log then goes on with `appendCommitsSync` at
   * `first` + 1, and `oldestLsnSync` is `first`. Durable on return.
   */
  startLogSync(vid: VolumeId, first: LSN, commits: readonly Commit[]): void;
  /**
   * Squashes history: each volume's log then starts at the given LSN (≤ its latest; older starts are
   * ignored). Commits below it that hold no page newest at it are forgotten, with the pages only
   * they referenced. One durable record for all volumes.
   */
  squashSync(bases: ReadonlyMap<VolumeId, LSN>): void;
  /** Forgets a volume's log; pages no remaining commit references are freed. */
  dropVolumeSync(vid: VolumeId): void;

  /** Forgets cached pages (their bytes can be fetched again from the remote), all in one record. */
  evictPagesSync(pages: ReadonlyMap<SegmentId, PageSet>): void;
  /** Every page held, by segment. */
  cachedPagesSync(): Map<SegmentId, PageSet>;

  /**
   * One bounded step of background upkeep (moving a few pages into freed slots so the file can
   * shrink, or checkpointing the journal). Returns whether more work is left.
   */
  compactStepSync(): boolean;
  /**
   * Checkpoints the journal if what an open would replay after the last checkpoint is more than a
   * few ms of work (an import's or a pull's large records, a run of small commits); the runtime calls
   * it once writes pause and at close. Returns whether it wrote one.
   */
  checkpointTailSync(): boolean;

  statsSync(): StoreStats;
  closeSync(): void;
}
