import type { Commit, Graft, IdSource, LSN, Page, PageIdx, Snapshot, VolumeId } from '../core/index.ts';
import type { LocalStore } from '../local/index.ts';
import type { Remote } from '../remote/index.ts';
import type { ReplicaIndex } from './replica.ts';
import type { HintWriter } from './jobs/latest.ts';

/** How a push groups its pages: frames of ≤ 64 pages, every page exactly once; the first `hotFrames` are read first. */
export interface FramePlan {
  readonly frames: PageIdx[][];
  readonly hotFrames: number;
}

/** A push's pages as a planner sees them: each read when asked for (a large push never holds them all; a Map is one). */
export type PageLookup = Pick<ReadonlyMap<PageIdx, Page>, 'size' | 'has' | 'get' | 'keys'>;

/** Splits a push's pages into frames; the SQLite VFS puts page 1 and B-tree interior pages first. */
export type FramePlanner = (pages: PageLookup) => FramePlan;

/** What sync jobs need from the runtime, without reaching into its private state. */
export interface JobContext {
  readonly store: LocalStore;
  readonly remote: Remote;
  readonly ids: IdSource;
  readonly planFrames: FramePlanner;
  /** A push of at most this many bytes of frames carries them in its commit object. */
  readonly inlineMaxBytes: number;
  /** Per remote volume, the newest checkpoint LSN this runtime saw in a latest hint (0: none yet, the log's start); in memory. */
  readonly checkpoints: Map<VolumeId, number>;
  /** Per remote volume, when (`ids.now()`) this runtime last found where its log ends; in memory (see fetchLog). */
  readonly logEnds: Map<VolumeId, number>;
  /** Per remote volume, its compacted index as a read replica, once a clone or pull read it; in memory. */
  readonly replicas: Map<VolumeId, ReplicaIndex>;
  /** A clone of a log at least this long reads the compacted index. */
  readonly replicaMinLsn: number;
  /** Latest hints written after their push resolved. */
  readonly hints: HintWriter;
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
  /** Keeps the snapshot's pages from local GC until the returned function is called. */
  retainSnapshot(snapshot: Snapshot): () => void;
  mustGetCommit(vid: VolumeId, lsn: LSN): Commit;
}

/** The part of the context that local-only jobs (local GC) need. */
export type LocalJobContext = Pick<JobContext, 'store' | 'locatePage' | 'mustGetCommit'>;
