import type { Graft, LSN } from '../core/index.ts';
import type { GraftStatus } from '../protocol/index.ts';


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
