import { Graft, type LSN } from '../core/index.ts';
import type { GraftStatus } from '../protocol/index.ts';


/** Pure: the status of `graft` given the newest local and fetched-remote LSNs held locally. */
export function graftStatus(graft: Graft, localLatest: LSN | undefined, remoteLatest: LSN | undefined): GraftStatus {
  const ahead = Graft.ahead(graft, localLatest);
  const behind = Graft.behind(graft, remoteLatest);
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
