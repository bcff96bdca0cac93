import type { Commit, Graft, IdSource, LSN, Page, PageIdx, Snapshot, VolumeId } from '../core/index.ts';
import type { LocalStore } from '../local/index.ts';
import type { Remote } from '../remote/index.ts';
import type { ReplicaIndex } from './replica.ts';

/** How a push groups its pages: frames of ≤ 64 pages, every page exactly once; the first `hotFrames` are read first. */
export interface FramePlan {
  readonly frames: PageIdx[][];
  readonly hotFrames: number;
}

/** Splits a push's pages into frames; the SQLite VFS puts page 1 and B-tree interior pages first. */
export type FramePlanner = (pages: ReadonlyMap<PageIdx, Page>) => FramePlan;

/** What sync jobs need from the runtime, without reaching into its private state. */
export interface JobContext {
  readonly store: LocalStore;
  readonly remote: Remote;
  readonly ids: IdSource;
  readonly planFrames: FramePlanner;
  /** Per remote volume, the newest checkpoint LSN this runtime saw in a latest hint (0: none yet, the log's start); in memory. */
  readonly checkpoints: Map<VolumeId, number>;
  /** Per remote volume, when (`ids.now()`) this runtime last found where its log ends; in memory (see fetchLog). */
  readonly logEnds: Map<VolumeId, number>;
  /** Per remote volume, its compacted index as a read replica, once a clone or pull read it; in memory. */
  readonly replicas: Map<VolumeId, ReplicaIndex>;
  /** A clone of a log at least this long reads the compacted index. */
  readonly replicaMinLsn: number;
  mustGetGraft(vid: VolumeId): Graft;
  /** Every graft of the runtime. */
  grafts(): readonly Graft[];
  /**
   * Durably records the graft (catalog first, then the in-memory mirror). With `rebases` (a pull
   * moving the sync point to commits the graft never saw), local commits are refused meanwhile.
   */
  saveGraft(graft: Graft, options?: { rebases?: boolean }): Promise<void>;
  /** The commit that last wrote `pageIdx` along the snapshot's path (undefined: zeros). */
  locatePage(snapshot: Snapshot, pageIdx: PageIdx): Commit | undefined;
  readPage(snapshot: Snapshot, pageIdx: PageIdx): Page;
  mustGetCommit(vid: VolumeId, lsn: LSN): Commit;
}

/** The part of the context that local-only jobs (local GC) need. */
export type LocalJobContext = Pick<JobContext, 'store' | 'locatePage' | 'mustGetCommit'>;
