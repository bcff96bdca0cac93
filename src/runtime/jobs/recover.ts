import { Commit, corrupt, fromBase64, isScionError, LSN, PageSet, type VolumeId } from '../../core/index.ts';
import type { JobContext } from '../job-context.ts';
import { decodeRemoteCommit, fetchLog, publishLatest } from './fetch-log.ts';
import { collectPushPages, landCommit } from './push.ts';

/**
 * Resolves a push that may or may not have landed (RecoverPendingCommit): read the remote commit at
 * the pending LSN. Ours (same hash) → the push succeeded; another → we lost the race (diverged);
 * absent → the same record is created again (its segment was uploaded before the pending commit
 * was saved), so a first PUT still in flight and this one cannot disagree; a pending commit saved
 * without its record (earlier versions) is dropped instead ('absent'). The pending commit is
 * cleared in every case.
 */
export async function recoverPendingCommit(ctx: JobContext, vid: VolumeId, options: { signal?: AbortSignal } = {}): Promise<'landed' | 'diverged' | 'absent' | 'none'> {
  const graft = ctx.mustGetGraft(vid);
  const pending = graft.pending;
  if (!pending) return 'none';
  let bytes = await ctx.remote.getCommit(graft.remote, pending.remote, options);
  if (!bytes && pending.record !== undefined) {
    const record = fromBase64(pending.record, `The pending commit of graft ${vid}`);
    // Remote GC deletes a segment no commit names once it is older than its grace period: a push
    // resumed much later must not publish a commit whose segment is gone.
    if (await segmentStillThere(ctx, Commit.decode(record), options)) {
      bytes = (await ctx.remote.putCommit(graft.remote, pending.remote, record, options)) === 'created'
        ? record
        : await ctx.remote.getCommit(graft.remote, pending.remote, options);
    }
  }
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
    if (latest !== undefined) await publishLatest(ctx, graft.remote, latest, options.signal);
    return 'diverged';
  }
  const { pages } = collectPushPages(ctx, graft, { start: LSN.next(graft.sync?.localWatermark), end: pending.local });
  if (!PageSet.of(pages.map(([idx]) => idx)).equals(commit.segment?.pages ?? PageSet.EMPTY)) {
    throw corrupt(`The remote commit ${commit.vid}@${commit.lsn} matches our hash but not our pages.`, { volume: commit.vid, lsn: commit.lsn });
  }
  await landCommit(ctx, vid, commit, pages);
  // The push that crashed after its commit never wrote the hint.
  await publishLatest(ctx, graft.remote, commit.lsn, options.signal);
  return 'landed';
}

async function segmentStillThere(ctx: JobContext, commit: Commit, options: { signal?: AbortSignal }): Promise<boolean> {
  const segment = commit.segment;
  if (!segment || segment.frames.length === 0) return true;
  try {
    await ctx.remote.getSegmentRange(segment, { start: 0, end: 1 }, options);
    return true;
  } catch (e) {
    if (isScionError(e, 'Corrupt')) return false;
    throw e;
  }
}
