import { getLogger } from '@logtape/logtape';
import { CHECKPOINT_INTERVAL, Commit, CompactedIndex, corrupt, isScionError, LSN, ScionError, type LatestHint, type VolumeId } from '../../core/index.ts';
import { ReplicaIndex } from '../replica.ts';
import type { PlannedRequest } from '../../remote/index.ts';
import type { JobContext } from '../job-context.ts';
import { readLatestHint } from './latest.ts';

const logger = getLogger(['scion', 'runtime']);

/** Most LSNs probed at once past what is known (the hint, or the last commit found). */
const MAX_PROBE_WINDOW = 8;
/** By default, a clone of a log at least this long also reads the volume's compacted index (shorter ones are rarely compacted). */
export const REPLICA_MIN_LSN = 2 * CHECKPOINT_INTERVAL;
/** Most commits up to the hint fetched in one round (one presign batch). */
const HINT_WINDOW = 256;

/**
 * How long a log end this runtime found stays trusted without the hint. Remote GC prunes only
 * commits that landed longer ago than its grace period, which must exceed this (see
 * MIN_PRUNE_GRACE_MS): so a next LSN found absent within this window of the last look is truly the
 * end, never a pruned commit. Past it, the probe of the next LSN reads the hint beside it.
 */
export const LOG_END_TRUST_MS = 30 * 60 * 1000;

/**
 * The commits after `held` are gone from the remote (remote GC pruned history below a checkpoint)
 * while the log goes on to `lsn` (the hint's, or the next one a listing found): the held copy of the
 * log cannot be continued, only restarted at a checkpoint as a clone does.
 */
export function prunedGap(vid: VolumeId, held: LSN | undefined, lsn: LSN, checkpoint = 0): ScionError {
  return new ScionError(
    'CommitNotFound',
    `The remote log of ${vid} goes on to LSN ${lsn}, but the commits after LSN ${held ?? 0} held here were pruned by remote GC (history older than the bucket's retention). Pull to restart from the newest checkpoint (a graft with unpushed commits cannot: rebase, fork or clone again).`,
    { volume: vid, lsn, pruned: true, held: held ?? 0, checkpoint },
  );
}

/** Whether `e` is a prunedGap error. */
export function isPrunedGap(e: unknown): e is ScionError {
  return isScionError(e, 'CommitNotFound') && (e.details as { pruned?: unknown } | undefined)?.pruned === true;
}

export interface FetchLogOptions {
  maxLsn?: LSN | undefined;
  signal?: AbortSignal | undefined;
  /** The caller signed `logEndRequests` already, in its own presign round trip (a push): ask the service for nothing more. */
  prepared?: boolean | undefined;
}

/**
 * Downloads the commit records (never pages) of `vid` after the newest one held locally, up to
 * `maxLsn` or the end of the log, and stores them. Returns the newest LSN now held.
 * The create-only commit keys are the truth: the end is the first missing LSN. An up-to-date log
 * costs one request (the next LSN, absent). A clone reads the latest hint first: a version 2 hint
 * names a checkpoint and carries the commits after it, so the clone reads the checkpoint commit and
 * the LSN after the hint (in one round) — three requests whatever the log's length. A log that grew
 * takes the new commits from the hint's tail where it covers them, else reads every commit up to
 * the hint in parallel rounds, then probes past it (a hint lags a push that crashed or lost its hint
 * write, and may lie: it only ever saves round trips).
 */
export async function fetchLog(ctx: JobContext, vid: VolumeId, options: FetchLogOptions = {}): Promise<LSN | undefined> {
  const within = (lsn: LSN): boolean => options.maxLsn === undefined || lsn <= options.maxLsn;
  const first = LSN.next(ctx.store.latestLsnSync(vid));
  if (!within(first)) return ctx.store.latestLsnSync(vid);
  // The first two rounds in one presign round trip: the service reads them (readLog) and sends their
  // bodies with the URLs of the segments they name, so a clone or an up-to-date pull needs no bucket
  // request of its own. Only a shortcut: if it fails, the requests themselves sign again and report the error.
  if (!options.prepared) {
    await ctx.remote.prepare?.([...logEndRequests(vid, first), { op: 'readLog', vid, from: first }], { signal: options.signal }).catch(() => undefined);
  }
  let next = first;
  let hint: LatestHint | undefined;
  // Whether this fetch read the hint (absent or damaged counts): if not, an absent LSN is the end (see LOG_END_TRUST_MS).
  let hintRead = false;
  // Probes past what is known start with one LSN (the end is most likely there), then double.
  let probes = 0;
  if (first === LSN.FIRST) {
    // Nothing held yet (a clone): the hint first, and the log from its checkpoint (or from 1).
    hint = checkedTail(await readLatestHint(ctx, vid, options.signal));
    hintRead = true;
    const start = hint ? await startFromHint(ctx, vid, hint, within, options.signal) : { next: first, done: false };
    if (start.done) return endFound(ctx, vid);
    next = start.next;
  } else {
    // A log end not confirmed lately may hide pruned history: the hint beside the probe tells.
    const seen = ctx.logEnds.get(vid);
    const stale = seen === undefined || ctx.ids.now() - seen > LOG_END_TRUST_MS;
    // Then too (at most once per LOG_END_TRUST_MS) a long log's compacted index, for the cold pages this device reads.
    const [found, early] = await Promise.all([
      fetchWindow(ctx, vid, [first], options.signal),
      stale ? readLatestHint(ctx, vid, options.signal) : undefined,
      stale && first > ctx.replicaMinLsn ? loadReplica(ctx, vid, options.signal) : undefined,
    ]);
    if (!found) return endOrGap(ctx, vid, stale ? { hint: early } : undefined, options.signal);
    hintRead = stale;
    next = LSN.next(first);
    if (early) {
      hint = checkedTail(early);
      if (hint) next = storeFromTail(ctx, vid, hint, next, within);
    } else if (within(next)) {
      const [more, late] = await Promise.all([fetchWindow(ctx, vid, [next], options.signal), readLatestHint(ctx, vid, options.signal)]);
      if (!more) return endOrGap(ctx, vid, { hint: late }, options.signal);
      hintRead = true;
      next = LSN.next(next);
      hint = checkedTail(late);
      if (hint) next = storeFromTail(ctx, vid, hint, next, within);
    }
  }
  for (;;) {
    // Up to the hint's checkpoint (then its tail), or up to the hint and the LSN after it, in rounds
    // of at most HINT_WINDOW; then doubling probes.
    const tailFrom = hint?.tail && hint.checkpoint !== undefined && next <= hint.checkpoint ? hint.checkpoint : undefined;
    const size = tailFrom !== undefined ? Math.min(HINT_WINDOW, tailFrom - next + 1)
      : hint !== undefined && hint.lsn >= next ? Math.min(HINT_WINDOW, hint.lsn - next + 2) : Math.min(MAX_PROBE_WINDOW, 2 ** probes++);
    const window: LSN[] = [];
    for (let lsn = next; window.length < size && within(lsn); lsn = LSN.next(lsn)) window.push(lsn);
    if (window.length === 0) break;
    if (!(await fetchWindow(ctx, vid, window, options.signal))) return endOrGap(ctx, vid, hintRead ? { hint } : undefined, options.signal);
    next = LSN.next(window.at(-1));
    if (hint) next = storeFromTail(ctx, vid, hint, next, within);
  }
  return ctx.store.latestLsnSync(vid);
}

/**
 * Fetches the log of `vid` when none of it is held (a clone, or a restart after pruning), as
 * fetchLog does, and where that finds no commit, or a gap of pruned history after a record left
 * below the floor (the hint lost, LSN 1 such a record), by listing (fetchLogFromListing).
 * Undefined when the volume has no commits.
 */
export async function cloneLog(ctx: JobContext, vid: VolumeId, options: FetchLogOptions = {}): Promise<LSN | undefined> {
  const fresh = ctx.store.latestLsnSync(vid) === undefined;
  try {
    return (await fetchLog(ctx, vid, options)) ?? (fresh ? await fetchLogFromListing(ctx, vid, options) : undefined);
  } catch (e) {
    if (!fresh || !isPrunedGap(e)) throw e;
    ctx.store.dropVolumeSync(vid);
    ctx.logEnds.delete(vid);
    return fetchLogFromListing(ctx, vid, options, LSN.parse((e.details as { lsn: number }).lsn));
  }
}

/**
 * For a clone that found no commit (no usable hint, LSN 1 absent), or a gap after the first ones it
 * found (`after`, the next LSN present): where the log starts, by listing.
 * A fork's log starts at its first push, a checkpoint past LSN 1 holding the commits below it, so
 * when that push's hint was never written (its pusher died between commit and hint) the keys alone
 * still find it. A pruned log whose hint was lost starts at its floor checkpoint, but records below
 * it may be left (those holding retained inline frames, or a pruning run cut short): the log starts
 * at the first checkpoint at or after the first record, and where the commits after it have a gap,
 * at the first checkpoint after that gap. Undefined when the volume has no commits (or no checkpoint).
 */
async function fetchLogFromListing(ctx: JobContext, vid: VolumeId, options: FetchLogOptions, after?: LSN): Promise<LSN | undefined> {
  if (ctx.store.latestLsnSync(vid) !== undefined) return ctx.store.latestLsnSync(vid);
  let from = after ?? (await ctx.remote.firstLsn(vid, { signal: options.signal }));
  if (from === LSN.FIRST) return undefined;
  for (;;) {
    const at = from === undefined ? undefined : await firstCheckpointFrom(ctx, vid, from, options.signal);
    if (at === undefined || (options.maxLsn !== undefined && at.lsn > options.maxLsn)) return undefined;
    if (ctx.store.latestLsnSync(vid) !== undefined) return ctx.store.latestLsnSync(vid);
    ctx.store.startLogSync(vid, at.lsn, [...(at.checkpoint ?? []), at]);
    try {
      return await fetchLog(ctx, vid, options);
    } catch (e) {
      if (!isPrunedGap(e)) throw e;
      // A checkpoint left below the floor: start again past the gap.
      ctx.store.dropVolumeSync(vid);
      ctx.logEnds.delete(vid);
      from = LSN.parse((e.details as { lsn: number }).lsn);
    }
  }
}

/** The first checkpoint commit of `vid` at or after `from`, reading MAX_PROBE_WINDOW LSNs at a time and listing past absent runs. */
async function firstCheckpointFrom(ctx: JobContext, vid: VolumeId, from: LSN, signal?: AbortSignal): Promise<Commit | undefined> {
  let lsn: LSN | undefined = from;
  while (lsn !== undefined) {
    const window = Array.from({ length: MAX_PROBE_WINDOW }, (_, i) => (lsn as LSN) + i as LSN);
    const bodies = await Promise.all(window.map((at) => ctx.remote.getCommit(vid, at, { signal })));
    for (const [i, bytes] of bodies.entries()) {
      const commit = bytes && decodeRemoteCommit(bytes, vid, window[i] as LSN);
      if (commit?.checkpoint) return commit;
    }
    lsn = await ctx.remote.firstLsn(vid, { after: window.at(-1) as LSN, signal });
  }
  return undefined;
}

/**
 * The LSN after what is held was found absent: the end of the log, unless it was pruned (remote GC
 * deletes only runs of commits below a checkpoint, never the checkpoint). With a hint naming a
 * checkpoint: pruned if the absent LSN lies below that checkpoint and the checkpoint commit exists
 * (absent at the checkpoint itself is the end: that commit landed after the probe). A hint that
 * merely claims more (lagging hints never do; a lying one may) costs one request and changes
 * nothing. With the hint read but gone, damaged or naming no checkpoint: one listing says whether
 * the log goes on past the absent LSN. `read` undefined: the hint was not read, as the log's end was
 * seen within LOG_END_TRUST_MS (nothing so recent is pruned), so the absent LSN is the end.
 */
async function endOrGap(ctx: JobContext, vid: VolumeId, read: { hint: LatestHint | undefined } | undefined, signal?: AbortSignal): Promise<LSN | undefined> {
  const held = ctx.store.latestLsnSync(vid);
  const checkpoint = read?.hint?.checkpoint;
  if (read && held !== undefined) {
    if (read.hint && checkpoint !== undefined) {
      if (held + 1 < checkpoint && (await ctx.remote.getCommit(vid, checkpoint as LSN, { signal }))) throw prunedGap(vid, held, read.hint.lsn, checkpoint);
    } else {
      const after = await ctx.remote.firstLsn(vid, { after: held, signal });
      if (after !== undefined && after > held + 1) throw prunedGap(vid, held, after);
    }
  }
  return endFound(ctx, vid);
}

/** The log ends after what is held now (an LSN was found absent): remembered (by the runtime's clock, `ids.now`) for LOG_END_TRUST_MS. */
function endFound(ctx: JobContext, vid: VolumeId): LSN | undefined {
  ctx.logEnds.set(vid, ctx.ids.now());
  return ctx.store.latestLsnSync(vid);
}

/**
 * A clone's start from the hint. With a tail (version 2): the checkpoint commit it names and the
 * LSN after the hint in one round, then the log starts at the checkpoint and the tail follows —
 * `done` when that LSN was absent. Version 1: the newest multiple of CHECKPOINT_INTERVAL at or
 * below the hint, where pushers of that version made checkpoints. Anything that does not fit (no
 * checkpoint there, `maxLsn` below it, a concurrent fetch) falls back to reading from the log's start.
 */
async function startFromHint(ctx: JobContext, vid: VolumeId, hint: LatestHint, within: (lsn: LSN) => boolean, signal?: AbortSignal): Promise<{ next: LSN; done: boolean }> {
  const fromStart = { next: LSN.FIRST, done: false };
  if (hint.tail === undefined || hint.checkpoint === undefined) {
    const at = checkpointAt(hint.lsn);
    return at !== undefined && within(at) && (await startAtCheckpoint(ctx, vid, at, signal)) ? { next: LSN.next(at), done: false } : fromStart;
  }
  const after = LSN.next(hint.lsn);
  const [, checkpoint, probe] = await Promise.all([
    // A long log may have a compacted index (the remote compactor's): read it beside.
    hint.lsn >= ctx.replicaMinLsn ? loadReplica(ctx, vid, signal).then(() => undefined) : undefined,
    hint.checkpoint > 0 && within(hint.checkpoint as LSN) ? ctx.remote.getCommit(vid, hint.checkpoint as LSN, { signal }) : undefined,
    within(after) ? ctx.remote.getCommit(vid, after, { signal }) : undefined,
  ]);
  if (hint.checkpoint > 0) {
    const commit = checkpoint && decodeRemoteCommit(checkpoint, vid, hint.checkpoint as LSN);
    if (!commit?.checkpoint || ctx.store.latestLsnSync(vid) !== undefined) return fromStart;
    ctx.store.startLogSync(vid, commit.lsn, [...commit.checkpoint, commit]);
  }
  const next = storeFromTail(ctx, vid, hint, LSN.next(ctx.store.latestLsnSync(vid)), within);
  if (next !== after) return { next, done: false };
  if (!probe) return { next, done: true };
  storeFresh(ctx, vid, [decodeRemoteCommit(probe, vid, after)]);
  return { next: LSN.next(after), done: false };
}

/**
 * Reads the volume's compacted index (if the remote compactor wrote one) into the runtime's
 * replicas, and has the URLs of its segments signed for the blocking read path. Only an
 * optimisation: a missing, damaged or unreadable index changes nothing else.
 */
async function loadReplica(ctx: JobContext, vid: VolumeId, signal?: AbortSignal): Promise<void> {
  try {
    const bytes = await ctx.remote.getCompacted(vid, { signal });
    if (!bytes) return;
    const index = CompactedIndex.decode(bytes, vid);
    if ((ctx.replicas.get(vid)?.index.lsn ?? 0) > index.lsn) return;
    ctx.replicas.set(vid, new ReplicaIndex(index));
    await ctx.remote.prepare?.(index.segments.map((at) => ({ op: 'getSegment' as const, at })), { signal });
  } catch (e) {
    if (signal?.aborted || !isScionError(e)) throw e;
    logger.warn('ignoring the compacted index of {vid}: {message}', { vid, message: e.message });
  }
}

/** Stores the commits of the hint's tail from `next` on (within `maxLsn`); returns the first LSN not held after it. */
function storeFromTail(ctx: JobContext, vid: VolumeId, hint: LatestHint, next: LSN, within: (lsn: LSN) => boolean): LSN {
  if (!hint.tail || hint.checkpoint === undefined || next <= hint.checkpoint || next > hint.lsn) return next;
  const taken = hint.tail.filter((c) => c.lsn >= next && within(c.lsn));
  storeFresh(ctx, vid, taken);
  return LSN.next(ctx.store.latestLsnSync(vid));
}

/**
 * The hint, without its tail if a record in it would be Corrupt at its key (a writer's bug or lie):
 * then the commits are read from their keys, and each is checked there.
 */
function checkedTail(hint: LatestHint | undefined): LatestHint | undefined {
  if (!hint?.tail) return hint;
  try {
    for (const c of hint.tail) checkRemoteCommit(c, hint.vid, c.lsn);
    return hint;
  } catch (e) {
    logger.warn('ignoring the tail of the latest hint of {vid}: {message}', { vid: hint.vid, message: (e as Error).message });
    return { vid: hint.vid, lsn: hint.lsn };
  }
}

/** The newest LSN at or before `lsn` a pusher of hint version 1 made a checkpoint, if any. */
function checkpointAt(lsn: LSN): LSN | undefined {
  const at = lsn - (lsn % CHECKPOINT_INTERVAL);
  return at > 0 ? (at as LSN) : undefined;
}

/**
 * Starts the (empty) local copy of `vid`'s log at the checkpoint commit `at`; false if that commit is
 * absent, carries no checkpoint (written before checkpoints, or by a pusher that made none), or a
 * concurrent fetch stored commits meanwhile — then the log is read from its start.
 */
async function startAtCheckpoint(ctx: JobContext, vid: VolumeId, at: LSN, signal?: AbortSignal): Promise<boolean> {
  const bytes = await ctx.remote.getCommit(vid, at, { signal });
  if (!bytes) return false;
  const commit = decodeRemoteCommit(bytes, vid, at);
  if (!commit.checkpoint || ctx.store.latestLsnSync(vid) !== undefined) return false;
  ctx.store.startLogSync(vid, at, [...commit.checkpoint, commit]);
  return true;
}

/** The requests that find where a log ends after `first` - 1 when it grew by at most one commit. */
export function logEndRequests(vid: VolumeId, first: LSN): PlannedRequest[] {
  return [{ op: 'getCommit', vid, lsn: first }, { op: 'getCommit', vid, lsn: LSN.next(first) }, { op: 'getLatest', vid }];
}

/** GETs the commits of `window` at once and stores those before the first missing one; true if none was missing. */
async function fetchWindow(ctx: JobContext, vid: VolumeId, window: readonly LSN[], signal?: AbortSignal): Promise<boolean> {
  const bodies = await Promise.all(window.map((lsn) => ctx.remote.getCommit(vid, lsn, { signal })));
  const found: Commit[] = [];
  for (const [i, bytes] of bodies.entries()) {
    if (!bytes) break;
    found.push(decodeRemoteCommit(bytes, vid, window[i] as LSN));
  }
  storeFresh(ctx, vid, found);
  return found.length === window.length;
}

/** Appends consecutive commits of `vid`, skipping those a concurrent fetch of the same log stored meanwhile. */
function storeFresh(ctx: JobContext, vid: VolumeId, commits: readonly Commit[]): void {
  const fresh = commits.filter((c) => c.lsn > (ctx.store.latestLsnSync(vid) ?? 0));
  if (fresh.length > 0 && fresh[0]?.lsn === LSN.next(ctx.store.latestLsnSync(vid))) ctx.store.appendCommitsSync(fresh.map((commit) => ({ commit })));
}

/** A remote commit object, checked to be the one its key names and to carry its hash. */
export function decodeRemoteCommit(bytes: Uint8Array, vid: VolumeId, lsn: LSN): Commit {
  return checkRemoteCommit(Commit.decode(bytes), vid, lsn);
}

/** A decoded remote commit (from its key, or a copy in the latest hint's tail), checked as decodeRemoteCommit does. */
export function checkRemoteCommit(commit: Commit, vid: VolumeId, lsn: LSN): Commit {
  if (commit.vid !== vid || commit.lsn !== lsn || !commit.hash) {
    throw corrupt(`The remote object for ${vid}@${lsn} holds commit ${commit.vid}@${commit.lsn}${commit.hash ? '' : ' without a hash'}.`, { volume: vid, lsn });
  }
  // Format 2 binds a segment under the volume's own prefix to its commit by digests. A record that
  // names another volume's prefix, or a format-2 segment without digests, would let a writer of this
  // volume serve bytes it does not vouch for to readers who may read both.
  checkSegmentHome(commit, vid, lsn, [vid]);
  // A checkpoint's commits may also name the segments of the ancestors it lists (a fork references
  // its parent's pages instead of uploading them again), never those of any other volume.
  const allowed = [vid, ...(commit.ancestors ?? [])];
  for (const older of commit.checkpoint ?? []) checkSegmentHome(older, vid, lsn, allowed);
  return commit;
}

function checkSegmentHome(commit: Commit, vid: VolumeId, lsn: LSN, allowed: readonly VolumeId[]): void {
  const seg = commit.segment;
  if (seg?.home === undefined) return;
  if (!allowed.includes(seg.home)) throw corrupt(`The commit ${vid}@${lsn} names a segment of ${seg.home}, a volume it does not list as an ancestor; Scion does not write such commits.`, { volume: vid, lsn });
  if (seg.frames.some((f) => f.digest === undefined)) throw corrupt(`The commit ${vid}@${lsn} names a format-2 segment without frame digests; Scion does not write such commits.`, { volume: vid, lsn });
  // Frames inside a commit object of the volume itself are inside that commit's own object.
  if (seg.inline && seg.home === commit.vid && seg.inline.lsn !== commit.lsn) throw corrupt(`The commit ${vid}@${lsn} places its frames in the commit object at ${seg.inline.lsn}; Scion does not write such commits.`, { volume: vid, lsn });
}
