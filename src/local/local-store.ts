import type { Commit, LSN, Page, PageIdx, PageSet, SegmentId, VolumeId } from '../core/index.ts';

/** A commit to append, with the pages it wrote when they are held locally (local commits). */
export interface CommitEntry {
  readonly commit: Commit;
  /** Exactly the commit's pages, ascending; omitted for commits whose pages live remotely. */
  readonly pages?: ReadonlyMap<PageIdx, Page> | undefined;
}

/**
 * Durable local storage of volume logs and pages. Every method is blocking and must run on the
 * DB worker's thread (OPFS sync access handles); writes are durable when they return.
 */
export interface LocalStore {
  readonly medium: 'memory' | 'opfs';

  /** The newest LSN of a volume's log held locally, or undefined if none. */
  latestLsnSync(vid: VolumeId): LSN | undefined;
  getCommitSync(vid: VolumeId, lsn: LSN): Commit | undefined;
  /** The newest LSN in `start..=end` of `vid`'s log whose commit wrote `pageIdx`. */
  findPageVersionSync(vid: VolumeId, pageIdx: PageIdx, start: LSN, end: LSN): LSN | undefined;
  /** Volumes with at least one commit stored. */
  volumesSync(): VolumeId[];

  /** Throws Corrupt if the stored bytes fail their checksum; undefined if not held locally. */
  readPageSync(sid: SegmentId, pageIdx: PageIdx): Page | undefined;
  hasPageSync(sid: SegmentId, pageIdx: PageIdx): boolean;
  /** The pages of `sid` held locally among `pageIdxs` (absent ones are left out), read in as few calls as possible. */
  readPagesSync(sid: SegmentId, pageIdxs: Iterable<PageIdx>): Map<PageIdx, Page>;

  /**
   * Appends commits, all or none, each at its volume's next LSN (throws Internal otherwise).
   * Acknowledged only once durable.
   */
  appendCommitsSync(entries: readonly CommitEntry[]): void;
  /** Caches pages of a segment fetched from a remote. Durable on return. */
  putPagesSync(sid: SegmentId, pages: ReadonlyMap<PageIdx, Page>): void;
  /** Forgets a volume's log; pages no remaining commit references become unreachable. */
  dropVolumeSync(vid: VolumeId): void;

  /** Forgets cached pages (their bytes can be fetched again from the remote). */
  evictPagesSync(sid: SegmentId, pages: PageSet): void;
  /** Every page held, by segment. */
  cachedPagesSync(): Map<SegmentId, PageSet>;

  /** Bytes of page data held, for budgets and benchmarks. */
  statsSync(): { commits: number; pages: number; fileBytes: number };
  closeSync(): void;
}
