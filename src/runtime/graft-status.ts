import type { Graft, LSN, VolumeId } from '../core/index.ts';

/** Where a graft stands against its remote, as data (JSON-safe). */
export interface GraftStatus {
  readonly local: VolumeId;
  readonly remote: VolumeId;
  /** Newest local LSN, if any local commit exists. */
  readonly localLsn: LSN | undefined;
  /** Local LSNs ≤ this have been pushed. */
  readonly localWatermark: LSN | undefined;
  /** The remote LSN the graft is attached to (its sync point). */
  readonly remoteLsn: LSN | undefined;
  /** Newest remote LSN fetched so far; ≥ remoteLsn. */
  readonly remoteLatest: LSN | undefined;
  /** Local commits not yet pushed. */
  readonly ahead: number;
  /** Fetched remote commits not yet pulled. */
  readonly behind: number;
  readonly state: 'in-sync' | 'ahead' | 'behind' | 'diverged';
  /** A push whose outcome is not yet known; resolved by the next push or pull. */
  readonly pendingPush: { readonly local: LSN; readonly remote: LSN } | undefined;
}

/** Pure: the status of `graft` given the newest local and fetched-remote LSNs held locally. */
export function graftStatus(graft: Graft, localLatest: LSN | undefined, remoteLatest: LSN | undefined): GraftStatus {
  const ahead = (localLatest ?? 0) - (graft.sync?.localWatermark ?? 0);
  const behind = (remoteLatest ?? 0) - (graft.sync?.remote ?? 0);
  return {
    local: graft.local,
    remote: graft.remote,
    localLsn: localLatest,
    localWatermark: graft.sync?.localWatermark,
    remoteLsn: graft.sync?.remote,
    remoteLatest,
    ahead,
    behind,
    state: ahead > 0 && behind > 0 ? 'diverged' : ahead > 0 ? 'ahead' : behind > 0 ? 'behind' : 'in-sync',
    pendingPush: graft.pending && { local: graft.pending.local, remote: graft.pending.remote },
  };
}
