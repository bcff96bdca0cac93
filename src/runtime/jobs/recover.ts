import { corrupt, Graft, isScionError, LSN, MAX_ABANDONED, PageSet, type Commit, type PendingCommit, type VolumeId } from '../../core/index.ts';
import type { JobContext } from '../job-context.ts';
import { decodeRemoteCommit, fetchLog } from './fetch-log.ts';
import { publishRecovered } from './latest.ts';
import { collectPushPages, landCommit } from './push.ts';

/**
 * Resolves a push that may or may not have landed (RecoverPendingCommit): read the remote commit at
 * the pending LSN. Ours (same hash) → the push succeeded; an abandoned push of ours → it landed late
 * (`{ adopted }`: the local commits after it are still to push); another → we lost the race (diverged);
 * absent → it has not landed, and may never: it is kept among the graft's abandoned pushes, so that
 * if the PUT was only delayed and lands later, a push or pull recognises the commit as ours
 * (adoptAbandoned). The pending commit is cleared in every case.
 */
export async function recoverPendingCommit(ctx: JobContext, vid: VolumeId, options: { signal?: AbortSignal } = {}): Promise<'landed' | { adopted: Commit } | 'diverged' | 'absent' | 'none'> {
  const graft = ctx.mustGetGraft(vid);
  const pending = graft.pending;
  if (!pending) return 'none';
  const bytes = await ctx.remote.getCommit(graft.remote, pending.remote, options);
  if (!bytes) {
    await ctx.saveGraft({ ...graft, pending: undefined, abandoned: [...(graft.abandoned ?? []), pending].slice(-MAX_ABANDONED) });
    return 'absent';
  }
  const commit = decodeRemoteCommit(bytes, graft.remote, pending.remote);
  if (commit.hash !== pending.hash) {
    await ctx.saveGraft({ ...graft, pending: undefined });
    if (await landIfAbandoned(ctx, vid, commit)) return { adopted: commit };
    // Someone else holds the LSN: learn where the log ends, and repair the hint if it lagged.
    const latest = await fetchLog(ctx, graft.remote, options).catch((e: unknown) => {
      if (!isScionError(e, 'RemoteUnavailable')) throw e;
      return undefined;
    });
    if (latest !== undefined) await publishRecovered(ctx, graft.remote, latest, false, options.signal);
    return 'diverged';
  }
  await landOwn(ctx, vid, commit, pending);
  // The push that crashed after its commit never wrote the hint.
  await publishRecovered(ctx, graft.remote, commit.lsn, commit.checkpoint !== undefined, options.signal);
  return 'landed';
}

/**
 * After a fetch: if the fetched commit at the LSN after the sync point is one of the graft's
 * abandoned pushes, land it (and return it). If it is someone else's, the abandoned pushes are dropped (the
 * LSN is taken, they can never land). No commit there yet: they stay.
 */
export async function adoptAbandoned(ctx: JobContext, vid: VolumeId): Promise<Commit | undefined> {
  const graft = ctx.mustGetGraft(vid);
  if (!graft.abandoned) return undefined;
  const next = ctx.store.getCommitSync(graft.remote, LSN.next(graft.sync?.remote));
  return next && (await landIfAbandoned(ctx, vid, next)) ? next : undefined;
}

/** `commit` took the LSN after the sync point: land it if it is an abandoned push of ours, else forget them all. */
async function landIfAbandoned(ctx: JobContext, vid: VolumeId, commit: Commit): Promise<boolean> {
  const graft = ctx.mustGetGraft(vid);
  if (!graft.abandoned) return false;
  const unpushed = Graft.unpushed(graft, ctx.store.latestLsnSync(graft.local));
  const ours = commit.lsn === LSN.next(graft.sync?.remote) && unpushed
    ? graft.abandoned.find((a) => a.remote === commit.lsn && a.hash === commit.hash && a.local >= unpushed.start && a.local <= unpushed.end)
    : undefined;
  if (!ours) {
    await ctx.saveGraft({ ...graft, abandoned: undefined });
    return false;
  }
  await landOwn(ctx, vid, commit, ours);
  return true;
}

/** Lands `commit`, the remote record of the push `covered` (same hash), after checking it holds that push's pages. */
async function landOwn(ctx: JobContext, vid: VolumeId, commit: Commit, covered: PendingCommit): Promise<void> {
  const graft = ctx.mustGetGraft(vid);
  const source = collectPushPages(ctx, graft, { start: LSN.next(graft.sync?.localWatermark), end: covered.local });
  if (!source.pages.equals(commit.segment?.pages ?? PageSet.EMPTY)) {
    throw corrupt(`The remote commit ${commit.vid}@${commit.lsn} matches our hash but not our pages.`, { volume: commit.vid, lsn: commit.lsn });
  }
  await landCommit(ctx, vid, commit, source, covered);
}
