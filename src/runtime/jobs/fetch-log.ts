import { getLogger } from '@logtape/logtape';
import { CHECKPOINT_INTERVAL, Commit, corrupt, isScionError, LatestHint, LSN, type VolumeId } from '../../core/index.ts';
import type { PlannedRequest } from '../../remote/index.ts';
import type { JobContext } from '../job-context.ts';

const logger = getLogger(['scion', 'runtime']);

/** Most LSNs probed at once past what is known (the hint, or the last commit found). */
const MAX_PROBE_WINDOW = 8;
/** Most commits up to the hint fetched in one round (one presign batch). */
const HINT_WINDOW = 256;

export interface FetchLogOptions {
  maxLsn?: LSN | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Downloads the commit records (never pages) of `vid` after the newest one held locally, up to
 * `maxLsn` or the end of the log, and stores them. Returns the newest LSN now held.
 * The create-only commit keys are the truth: the end is the first missing LSN. An up-to-date log
 * costs one request (the next LSN, absent). A log that grew is read with the latest hint's help:
 * every commit up to the LSN it names in one parallel round, then probing past it (a hint lags a
 * push that crashed or lost its hint write, and may lie: it only ever saves round trips).
 */
export async function fetchLog(ctx: JobContext, vid: VolumeId, options: FetchLogOptions = {}): Promise<LSN | undefined> {
  const within = (lsn: LSN): boolean => options.maxLsn === undefined || lsn <= options.maxLsn;
  const first = LSN.next(ctx.store.latestLsnSync(vid));
  if (!within(first)) return ctx.store.latestLsnSync(vid);
  // The first two rounds' URLs in one presign round trip (signing costs the bucket nothing). Only a
  // hint: if it fails, the requests themselves sign again and report the error.
  await ctx.remote.prepare?.(logEndRequests(vid, first), { signal: options.signal }).catch(() => undefined);
  // Nothing held yet (a clone): the hint first. It names the newest checkpoint, and the log is read
  // from there (or from 1), up to the hint in one round.
  const cloning = first === LSN.FIRST;
  let next = first;
  let hint: LSN | undefined;
  let probes = 1;
  if (cloning) {
    hint = await readLatestHint(ctx, vid, options.signal);
    // No hint (a new or format 1 volume): probe LSN 1 alone first.
    if (hint === undefined) probes = 0;
    const at = hint === undefined ? undefined : checkpointAt(hint);
    if (at !== undefined && within(at) && (await startAtCheckpoint(ctx, vid, at, options.signal))) next = LSN.next(at);
  } else {
    if (!(await fetchWindow(ctx, vid, [first], options.signal))) return ctx.store.latestLsnSync(vid);
    next = LSN.next(first);
  }
  if (!cloning && within(next)) {
    const [more, late] = await Promise.all([fetchWindow(ctx, vid, [next], options.signal), readLatestHint(ctx, vid, options.signal)]);
    if (!more) return ctx.store.latestLsnSync(vid);
    next = LSN.next(next);
    hint = late;
  }
  for (;;) {
    // Up to the hint and the LSN after it (in rounds of at most HINT_WINDOW), then doubling probes.
    const size = hint !== undefined && hint >= next ? Math.min(HINT_WINDOW, hint - next + 2) : Math.min(MAX_PROBE_WINDOW, 2 ** probes++);
    const window: LSN[] = [];
    for (let lsn = next; window.length < size && within(lsn); lsn = LSN.next(lsn)) window.push(lsn);
    if (window.length === 0 || !(await fetchWindow(ctx, vid, window, options.signal))) break;
    next = LSN.next(window.at(-1));
  }
  return ctx.store.latestLsnSync(vid);
}

/** The newest LSN at or before `lsn` a pusher makes a checkpoint, if any. */
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
  // A concurrent fetch of the same log may have stored some of these meanwhile.
  const fresh = found.filter((c) => c.lsn > (ctx.store.latestLsnSync(vid) ?? 0));
  if (fresh.length > 0) ctx.store.appendCommitsSync(fresh.map((commit) => ({ commit })));
  return found.length === window.length;
}

/** The LSN the volume's latest hint names, or undefined when there is none or it does not decode. */
async function readLatestHint(ctx: JobContext, vid: VolumeId, signal?: AbortSignal): Promise<LSN | undefined> {
  const bytes = await ctx.remote.getLatest(vid, { signal });
  if (!bytes) return undefined;
  try {
    return LatestHint.decode(bytes, vid).lsn;
  } catch (e) {
    // Only a hint: the commits it points at are verified one by one, and probing finds the truth.
    logger.warn('ignoring the damaged latest hint of {vid}: {message}', { vid, message: (e as Error).message });
    return undefined;
  }
}

/**
 * Writes the latest hint after a push landed `lsn` (or recovery found where the log ends). Best
 * effort: the push is already durable, and a hint not written only costs readers round trips.
 */
export async function publishLatest(ctx: JobContext, vid: VolumeId, latest: LSN | Uint8Array, signal?: AbortSignal): Promise<void> {
  const bytes = typeof latest === 'number' ? LatestHint.encode({ vid, lsn: latest }) : latest;
  try {
    await ctx.remote.putLatest(vid, bytes, { signal });
  } catch (e) {
    if (signal?.aborted || !isScionError(e)) throw e;
    logger.warn('could not update the latest hint of {vid}: {message}', { vid, message: e.message });
  }
}

/** A remote commit object, checked to be the one its key names and to carry its hash. */
export function decodeRemoteCommit(bytes: Uint8Array, vid: VolumeId, lsn: LSN): Commit {
  const commit = Commit.decode(bytes);
  if (commit.vid !== vid || commit.lsn !== lsn || !commit.hash) {
    throw corrupt(`The remote object for ${vid}@${lsn} holds commit ${commit.vid}@${commit.lsn}${commit.hash ? '' : ' without a hash'}.`, { volume: vid, lsn });
  }
  // Format 2 binds a segment under the volume's own prefix to its commit by digests. A record that
  // names another volume's prefix, or a format-2 segment without digests, would let a writer of this
  // volume serve bytes it does not vouch for to readers who may read both.
  const seg = commit.segment;
  if (seg?.home !== undefined) {
    if (seg.home !== vid) throw corrupt(`The commit ${vid}@${lsn} names a segment of another volume (${seg.home}); Scion does not write such commits.`, { volume: vid, lsn });
    if (seg.frames.some((f) => f.digest === undefined)) throw corrupt(`The commit ${vid}@${lsn} names a format-2 segment without frame digests; Scion does not write such commits.`, { volume: vid, lsn });
  }
  return commit;
}
