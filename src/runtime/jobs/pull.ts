import { getLogger } from '@logtape/logtape';
import { Graft, segmentReadsOf, type LSN, type ScionError, type VolumeId } from '../../core/index.ts';
import type { PullResult } from '../../protocol/index.ts';
import type { PlannedRequest } from '../../remote/index.ts';
import type { JobContext } from '../job-context.ts';
import { cloneLog, fetchLog, isPrunedGap } from './fetch-log.ts';
import { DIVERGED_WAYS_OUT } from './push.ts';
import { adoptAbandoned, recoverPendingCommit } from './recover.ts';

const logger = getLogger(['scion', 'runtime']);


/**
 * Fetches the remote log and fast-forwards the sync point to its latest commit. No commit or page
 * is copied: pages arrive lazily on read. If the graft also has unpushed commits it has diverged,
 * reported as data.
 */
export async function pullGraft(ctx: JobContext, vid: VolumeId, options: { signal?: AbortSignal } = {}): Promise<PullResult> {
  if (ctx.mustGetGraft(vid).pending) await recoverPendingCommit(ctx, vid, options);
  let remoteLatest: LSN | undefined;
  try {
    remoteLatest = await fetchLog(ctx, ctx.mustGetGraft(vid).remote, options);
  } catch (e) {
    if (!isPrunedGap(e)) throw e;
    const restarted = await restartPrunedLog(ctx, vid, e, options);
    if (typeof restarted === 'object') return restarted;
    remoteLatest = restarted;
  }
  // A late-landing push of ours at the next LSN is ours, not a divergence: land it first.
  await adoptAbandoned(ctx, vid);
  const graft = ctx.mustGetGraft(vid);
  const from = graft.sync?.remote;
  if (remoteLatest === undefined || remoteLatest <= (from ?? 0)) return { outcome: 'up-to-date' };
  const ahead = Graft.ahead(graft, ctx.store.latestLsnSync(graft.local));
  if (ahead > 0) return { outcome: 'diverged', ahead, behind: Graft.behind(graft, remoteLatest), waysOut: DIVERGED_WAYS_OUT };
  // No await between the `ahead` check above and this call: a commit made now would be refused.
  await ctx.saveGraft({ ...graft, sync: { remote: remoteLatest, localWatermark: graft.sync?.localWatermark } }, { rebases: true });
  const segments: PlannedRequest[] = [];
  for (let lsn = (from ?? 0) + 1; lsn <= remoteLatest; lsn++) {
    const commit = ctx.store.getCommitSync(graft.remote, lsn as LSN);
    // Every object its frames are in: the segment, its parts, or (inline frames) the commit object.
    if (commit?.segment && commit.segment.frames.length > 0) for (const at of segmentReadsOf(commit)) segments.push({ op: 'getSegment', at });
  }
  // Only a hint (mint the GET URLs before the VFS needs them synchronously): never fail the pull over it.
  await ctx.remote.prepare?.(segments).catch((e: unknown) => logger.warn('could not prepare segment reads: {message}', { message: (e as Error).message }));
  return { outcome: 'pulled', from, to: remoteLatest };
}

/**
 * The commits after the held remote log were pruned (`gap`): a graft with nothing unpushed drops its
 * copy of the remote log and starts it again at the newest checkpoint, as a clone does (its cached
 * remote pages go with it, and are fetched again when read); one with unpushed, pending or
 * abandoned commits cannot, since those are based on the history that is gone: diverged, with the
 * ways out in the message.
 */
async function restartPrunedLog(ctx: JobContext, vid: VolumeId, gap: ScionError, options: { signal?: AbortSignal }): Promise<LSN | undefined | PullResult> {
  const graft = ctx.mustGetGraft(vid);
  const ahead = Graft.ahead(graft, ctx.store.latestLsnSync(graft.local));
  // The copy of the remote log is shared by every graft on that remote: restarting it would take the base of another's unpushed commits.
  const based = (g: Graft) => Graft.ahead(g, ctx.store.latestLsnSync(g.local)) > 0 || g.pending !== undefined || g.abandoned !== undefined;
  const others = ctx.grafts().filter((g) => g.local !== vid && g.remote === graft.remote && based(g));
  if (ahead > 0 || graft.pending || graft.abandoned || others.length > 0) {
    const lsn = (gap.details as { lsn?: number } | undefined)?.lsn ?? 0;
    return {
      outcome: 'diverged', ahead, behind: Math.max(0, lsn - (graft.sync?.remote ?? 0)), waysOut: DIVERGED_WAYS_OUT,
      message: ahead > 0 || graft.pending || graft.abandoned
        ? `${gap.message} This graft has ${ahead} unpushed commits on that history: rebase them onto the remote (replay), fork them into a new volume, or reset (discarding them) / clone again.`
        : `${gap.message} Another graft on this remote (${others[0]?.local}) has unpushed commits on that history: rebase, fork or reset it first, or clone this one again.`,
    };
  }
  logger.info('the remote log of {vid} was pruned past what is held: restarting it at the newest checkpoint', { vid: graft.remote });
  ctx.store.dropVolumeSync(graft.remote);
  ctx.logEnds.delete(graft.remote);
  return cloneLog(ctx, graft.remote, options);
}
