import { CommitHash } from './commit-hash.ts';
import { invalidInput } from './errors.ts';
import { LSN } from './lsn.ts';
import type { LsnRange } from './snapshot.ts';
import { VolumeId } from './volume-id.ts';

/** Where a graft's local and remote volumes last agreed. */
export interface SyncPoint {
  /** The remote LSN the graft is attached to. */
  readonly remote: LSN;
  /** Every local LSN ≤ this has been pushed; absent if no local commit was ever pushed. */
  readonly localWatermark?: LSN | undefined;
}

/** A push in flight: recorded durably before the remote commit is written, cleared once resolved. */
export interface PendingCommit {
  /** The newest local LSN the push carries. */
  readonly local: LSN;
  /** The remote LSN it is creating. */
  readonly remote: LSN;
  readonly hash: CommitHash;
}

/**
 * The sync state between a local volume (where writes land) and a remote volume (where they are
 * pushed). Identified by its local VolumeId. Plain data: stored in the catalog as is.
 */
export interface Graft {
  readonly local: VolumeId;
  readonly remote: VolumeId;
  readonly sync?: SyncPoint | undefined;
  readonly pending?: PendingCommit | undefined;
  /**
   * Set by a fork: the remote volumes (its parent's and theirs) whose uploaded segments its local
   * commits name. The first push references those segments instead of uploading their pages again.
   */
  readonly ancestors?: readonly VolumeId[] | undefined;
  /**
   * Pushes recovery found absent at their remote LSN and stopped waiting for: a PUT delayed in the
   * network may still land one of them there. All are at the LSN after the sync point and cover
   * unpushed local commits, so when a later push or pull finds that LSN taken by a commit with one
   * of these hashes, the commit is ours and lands; taken by any other, they are dropped. Oldest first,
   * at most MAX_ABANDONED.
   */
  readonly abandoned?: readonly PendingCommit[] | undefined;
}

/** Abandoned pushes kept per graft: the oldest goes first (its late landing then reads as divergence). */
export const MAX_ABANDONED = 8;

type Loose = Record<string, unknown> | null | undefined;

function parsePending(p: Loose): PendingCommit {
  if (typeof p !== 'object' || p === null) throw invalidInput('Not a graft record: a pending commit must be an object.');
  return { local: LSN.parse(Number(p.local)), remote: LSN.parse(Number(p.remote)), hash: CommitHash.parse(String(p.hash)) };
}

export const Graft = {
  /** Validates a graft read from storage or a message. Throws InvalidInput. */
  parse(input: unknown): Graft {
    const o = input as Loose;
    if (typeof o !== 'object' || o === null) throw invalidInput('Not a graft record: expected an object.');
    const sync = o.sync as Loose;
    const pending = o.pending as Loose;
    const abandoned = o.abandoned as Loose[] | undefined;
    if (abandoned !== undefined && !Array.isArray(abandoned)) throw invalidInput('Not a graft record: abandoned must be a list.');
    return {
      local: VolumeId.parse(String(o.local)),
      remote: VolumeId.parse(String(o.remote)),
      sync: sync
        ? {
            remote: LSN.parse(Number(sync.remote)),
            localWatermark: sync.localWatermark === undefined ? undefined : LSN.parse(Number(sync.localWatermark)),
          }
        : undefined,
      pending: pending ? parsePending(pending) : undefined,
      abandoned: abandoned && abandoned.length > 0 ? abandoned.map(parsePending) : undefined,
      ...(Array.isArray(o.ancestors) && o.ancestors.length > 0 ? { ancestors: o.ancestors.map((a) => VolumeId.parse(String(a))) } : {}),
    };
  },

  /** The pushes that may still land: the pending one and the abandoned ones. Their local commits stay unsquashed. */
  unlanded: (g: Graft): PendingCommit[] => [...(g.abandoned ?? []), ...(g.pending ? [g.pending] : [])],

  /** Local commits not pushed yet, given the newest local LSN. */
  ahead: (g: Graft, localLatest: LSN | undefined): number => (localLatest ?? 0) - (g.sync?.localWatermark ?? 0),

  /** Fetched remote commits not pulled yet, given the newest fetched remote LSN. */
  behind: (g: Graft, remoteLatest: LSN | undefined): number => (remoteLatest ?? 0) - (g.sync?.remote ?? 0),

  /** The graft's local commits after its watermark up to `localEnd` (not pushed yet), if there are any. */
  unpushed(g: Graft, localEnd: LSN | undefined): LsnRange | undefined {
    if (localEnd === undefined || Graft.ahead(g, localEnd) <= 0) return undefined;
    return { vid: g.local, start: LSN.next(g.sync?.localWatermark), end: localEnd };
  },

  /**
   * The snapshot path of the graft whose newest local commit is `localEnd`: its unpushed local commits
   * over the remote log at the sync point. Local commits ≤ the watermark are not on it: their content
   * is in the remote commit.
   */
  path(g: Graft, localEnd: LSN | undefined): LsnRange[] {
    const local = Graft.unpushed(g, localEnd);
    const remote = g.sync && { vid: g.remote, start: LSN.FIRST, end: g.sync.remote };
    return [local, remote].filter((r) => r !== undefined);
  },
} as const;
