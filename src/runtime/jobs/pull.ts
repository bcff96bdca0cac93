import { getLogger } from '@logtape/logtape';
import { Graft, type LSN, type VolumeId } from '../../core/index.ts';
import type { PullResult } from '../../protocol/index.ts';
import type { PlannedRequest } from '../../remote/index.ts';
import type { JobContext } from '../job-context.ts';
import { fetchLog } from './fetch-log.ts';
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
  const remoteLatest = await fetchLog(ctx, ctx.mustGetGraft(vid).remote, options);
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
    const seg = ctx.store.getCommitSync(graft.remote, lsn as LSN)?.segment;
    if (seg && seg.frames.length > 0) segments.push({ op: 'getSegment', at: seg });
  }
  // Only a hint (mint the GET URLs before the VFS needs them synchronously): never fail the pull over it.
  await ctx.remote.prepare?.(segments).catch((e: unknown) => logger.warn('could not prepare segment reads: {message}', { message: (e as Error).message }));
  return { outcome: 'pulled', from, to: remoteLatest };
}
