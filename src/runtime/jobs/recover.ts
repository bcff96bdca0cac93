import { corrupt, isScionError, LSN, PageSet, type VolumeId } from '../../core/index.ts';
import type { JobContext } from '../job-context.ts';
import { decodeRemoteCommit, fetchLog } from './fetch-log.ts';
import { publishRecovered } from './latest.ts';
import { collectPushPages, landCommit } from './push.ts';

/**
 * Resolves a push that may or may not have landed (RecoverPendingCommit): read the remote commit at
 * the pending LSN. Ours (same hash) → the push succeeded; another → we lost the race (diverged);
 * absent → it never landed. The pending commit is cleared in every case.
 */
export async function recoverPendingCommit(ctx: JobContext, vid: VolumeId, options: { signal?: AbortSignal } = {}): Promise<'landed' | 'diverged' | 'absent' | 'none'> {
  const graft = ctx.mustGetGraft(vid);
  const pending = graft.pending;
  if (!pending) return 'none';
  const bytes = await ctx.remote.getCommit(graft.remote, pending.remote, options);
  if (!bytes) {
    await ctx.saveGraft({ ...graft, pending: undefined });
    return 'absent';
  }
  const commit = decodeRemoteCommit(bytes, graft.remote, pending.remote);
  if (commit.hash !== pending.hash) {
    await ctx.saveGraft({ ...graft, pending: undefined });
    // Someone else holds the LSN: learn where the log ends, and repair the hint if it lagged.
    const latest = await fetchLog(ctx, graft.remote, options).catch((e: unknown) => {
      if (!isScionError(e, 'RemoteUnavailable')) throw e;
      return undefined;
    });
    if (latest !== undefined) await publishRecovered(ctx, graft.remote, latest, false, options.signal);
    return 'diverged';
  }
  const { pages } = collectPushPages(ctx, graft, { start: LSN.next(graft.sync?.localWatermark), end: pending.local });
  if (!PageSet.of(pages.map(([idx]) => idx)).equals(commit.segment?.pages ?? PageSet.EMPTY)) {
    throw corrupt(`The remote commit ${commit.vid}@${commit.lsn} matches our hash but not our pages.`, { volume: commit.vid, lsn: commit.lsn });
  }
  await landCommit(ctx, vid, commit, pages);
  // The push that crashed after its commit never wrote the hint.
  await publishRecovered(ctx, graft.remote, commit.lsn, commit.checkpoint !== undefined, options.signal);
  return 'landed';
}
