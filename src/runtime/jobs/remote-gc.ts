import { getLogger } from '@logtape/logtape';
import { Commit, CompactedIndex, corrupt, invalidInput, isScionError, PageSet, RemoteKey, segmentObjects, URL_EXPIRES_MAX_SECONDS, type LSN, type SegmentAddress, type SegmentId, type VolumeId } from '../../core/index.ts';
import type { JobContext } from '../job-context.ts';
import { LOG_END_TRUST_MS } from './fetch-log.ts';
import { readLatestHint } from './latest.ts';
import { PROBE_FRESH_MS } from './push.ts';

const logger = getLogger(['scion', 'gc']);

/**
 * How much remote history stays checkout-able: a snapshot (volume, LSN) is retained if it is among
 * the volume's last `commits` LSNs **or** its commit is younger than `ms`. Unset fields retain all.
 */
export interface RemoteRetention {
  readonly commits?: number | undefined;
  readonly ms?: number | undefined;
}

export interface RemoteGcOptions {
  /** Segments younger than this are kept even if no retained snapshot reaches them: a push may be about to commit them. Default 1 h. */
  graceMs?: number;
  /** Which snapshots stay readable. Default: all of them (only segments no commit names are deleted). */
  retain?: RemoteRetention;
  /** Report what would be deleted without deleting. */
  dryRun?: boolean;
  /**
   * Also delete old commit records: those below the oldest retained LSN, below a checkpoint commit
   * the volume's latest hint names (so clones and pulls start there), that landed more than
   * `graceMs` ago. Then `graceMs` must exceed minPruneGraceMs(urlExpirySeconds) (InvalidInput otherwise).
   */
  pruneCommits?: boolean;
  /** The presign service's `expiresInSeconds` (default: the most it allows, 3600): how long a signed commit PUT may still land. */
  urlExpirySeconds?: number;
  now?: () => number;
  signal?: AbortSignal;
}

export interface RemoteGcResult {
  /** Commit records read (or found locally) to learn what retained snapshots reach. */
  readonly commitsScanned: number;
  readonly segmentsReferenced: number;
  readonly segmentsDeleted: readonly SegmentId[];
  readonly bytesDeleted: number;
  /** Unreachable but inside the grace period. */
  readonly segmentsKept: number;
  /** Per volume, the oldest retained LSN: checkouts before it may find their segments gone. */
  readonly retainedFrom: Readonly<Record<string, number>>;
  /** Commit records deleted (`pruneCommits`). */
  readonly commitsDeleted: number;
  /** Per volume whose history was pruned, the LSN its log now starts at (a checkpoint commit). */
  readonly prunedBelow: Readonly<Record<string, number>>;
}

/** Difference allowed between the clocks of the presign service, the bucket and GC. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * The shortest grace period with which remote GC may delete commit records. A stale writer could
 * otherwise re-create a deleted LSN with its create-only PUT. Every pusher probes its LSN before
 * its commit PUT, sends the PUT within PROBE_FRESH_MS of that probe, and the PUT's URL lands no
 * later than its expiry after it was signed (before the PUT is sent); pullers trust a log end they
 * found for LOG_END_TRUST_MS. A record pruned only once it landed longer ago than all of that (and
 * the clocks' skew) was therefore present at every probe that could still lead to a PUT of its LSN,
 * and that PUT fails (see the README, "Remote retention").
 */
export function minPruneGraceMs(urlExpirySeconds: number = URL_EXPIRES_MAX_SECONDS): number {
  return Math.max(urlExpirySeconds * 1000 + PROBE_FRESH_MS, LOG_END_TRUST_MS) + CLOCK_SKEW_MS;
}

interface Listed {
  readonly at: SegmentAddress;
  readonly key: string;
  readonly size: number;
  readonly lastModified: number;
}

/** Commit records read at once. */
const WINDOW = 64;

/**
 * Remote GC with retention (admin grant: it lists and deletes). Keeps every segment a retained
 * snapshot of any volume reaches — the segments of its retained commits and, at its oldest retained
 * LSN, those still holding the newest version of a page — keyed by the segment's home, so a fork's
 * references into its parent's prefix keep them alive. Deletes every other segment older than the
 * grace period. Commit records and hints are never deleted: the create-only commit keys are how
 * every device finds the end of a log. One pass with no state of its own: a run cut short anywhere
 * is finished by the next, and pushes, pulls and clones may run meanwhile (a new commit names only
 * its own fresh segment, or holders the retained range reaches anyway).
 */
export async function collectRemoteGarbage(ctx: JobContext, options: RemoteGcOptions = {}): Promise<RemoteGcResult> {
  const now = (options.now ?? Date.now)();
  const grace = options.graceMs ?? 60 * 60 * 1000;
  const signal = options.signal;
  if (options.pruneCommits) {
    const expiry = options.urlExpirySeconds ?? URL_EXPIRES_MAX_SECONDS;
    if (!Number.isInteger(expiry) || expiry < 1 || expiry > URL_EXPIRES_MAX_SECONDS) throw invalidInput(`urlExpirySeconds must be an integer in 1–${URL_EXPIRES_MAX_SECONDS}; got ${expiry}.`);
    if (options.retain === undefined) throw invalidInput('pruneCommits needs retain: without it every snapshot is retained and no commit record may go.');
    const min = minPruneGraceMs(expiry);
    if (!(grace > min)) {
      throw invalidInput(`pruneCommits needs graceMs above ${min} ms (the presign URLs' expiry of ${expiry} s, a push's probe window and clock skew): a shorter grace would let a stale pusher re-create a deleted commit. Got ${grace}.`, { graceMs: grace, minGraceMs: min });
    }
  }
  const segments: Listed[] = [];
  const logs = new Map<VolumeId, Map<number, number>>();
  const compacted: VolumeId[] = [];
  for (const prefix of ['volumes/', 'segments/'] as const) {
    for await (const object of ctx.remote.list(prefix, { signal })) {
      const key = RemoteKey.parse(object.key);
      if (key.kind === 'segment') segments.push({ at: key, key: object.key, size: object.size, lastModified: object.lastModified });
      else if (key.kind === 'compacted') compacted.push(key.vid);
      else if (key.kind === 'commit') {
        let log = logs.get(key.vid);
        if (!log) logs.set(key.vid, (log = new Map()));
        log.set(key.lsn, object.lastModified);
      }
    }
  }
  const referenced = new Set<string>();
  const retainedFrom: Record<string, number> = {};
  let commitsScanned = 0;
  const read = async (vid: VolumeId, lsns: readonly number[]): Promise<(Commit | undefined)[]> => {
    commitsScanned += lsns.length;
    return Promise.all(lsns.map((lsn) => readCommit(ctx, vid, lsn as LSN, signal)));
  };
  const belowFloor: { vid: VolumeId; lsn: LSN }[] = [];
  const inlineHolders = new Set<string>();
  const prunedBelow: Record<string, number> = {};
  for (const [vid, log] of logs) {
    let latest = 0;
    for (const lsn of log.keys()) latest = Math.max(latest, lsn);
    const from = retainedFloor(log, latest, options.retain, now);
    retainedFrom[vid] = from;
    const retained = await readRange(read, vid, from, latest);
    // A fork's log starts at its first commit, a checkpoint: the LSNs below it are only in it (and
    // so does a log pruned before).
    const oldest = retained.find((c) => c !== undefined);
    const below = oldest ? await holdersAt(read, oldest) : { holders: [], checkpoint: undefined };
    for (const commit of [...retained, ...below.holders]) {
      if (!commit?.segment) continue;
      for (const at of segmentObjects(commit.segment)) referenced.add(RemoteKey.segment(at));
      // A small push's frames are inside its commit object: that record is never pruned while they are reached.
      const { inline, home } = commit.segment;
      if (inline && home) inlineHolders.add(RemoteKey.commit(home, inline.lsn));
    }
    if (options.pruneCommits && below.checkpoint !== undefined) {
      const floor = await pruneFloor(ctx, read, vid, below.checkpoint, signal);
      if (floor !== undefined) {
        prunedBelow[vid] = floor;
        for (const [lsn, landed] of log) if (lsn < floor && now - landed > grace) belowFloor.push({ vid, lsn: lsn as LSN });
      }
    }
  }
  // Decided once every volume's holders are known (a fork's may sit in its parent's log).
  const doomedCommits = belowFloor.filter((c) => !inlineHolders.has(RemoteKey.commit(c.vid, c.lsn)));
  // A volume's compacted index (the remote compactor's) keeps its segments; those of an index it
  // replaced go (readers fall back to the commits' own segments).
  for (const vid of compacted) {
    const bytes = await ctx.remote.getCompacted(vid, { signal });
    if (!bytes) continue;
    let index: CompactedIndex;
    try {
      index = CompactedIndex.decode(bytes, vid);
    } catch (e) {
      // Readers ignore a damaged index too: its segments serve nobody.
      if (!isScionError(e)) throw e;
      logger.warn('ignoring the damaged compacted index of {vid}: {message}', { vid, message: e.message });
      continue;
    }
    for (const seg of index.segments) referenced.add(RemoteKey.segment(seg));
  }
  const deleted: SegmentId[] = [];
  let kept = 0;
  let bytesDeleted = 0;
  const doomed: Listed[] = [];
  for (const segment of segments) {
    if (referenced.has(segment.key)) continue;
    if (now - segment.lastModified < grace) kept++;
    else doomed.push(segment);
  }
  // Deleted WINDOW at a time (the remote bounds its own concurrency); each is reported once done.
  for (let i = 0; i < doomed.length; i += WINDOW) {
    const batch = doomed.slice(i, i + WINDOW);
    if (!options.dryRun) await Promise.all(batch.map((s) => ctx.remote.deleteSegment(s.at, { signal })));
    for (const s of batch) {
      deleted.push(s.at.sid);
      bytesDeleted += s.size;
    }
  }
  // Oldest first, a window at a time: a run cut short leaves each log a contiguous run of LSNs.
  doomedCommits.sort((a, b) => a.lsn - b.lsn);
  for (let i = 0; i < doomedCommits.length && !options.dryRun; i += WINDOW) {
    await Promise.all(doomedCommits.slice(i, i + WINDOW).map((c) => ctx.remote.deleteCommit(c.vid, c.lsn, { signal })));
  }
  logger.info('remote gc: {deleted} deleted ({bytes} bytes), {kept} in grace, {referenced} referenced, {commits} commit records pruned', { deleted: deleted.length, bytes: bytesDeleted, kept, referenced: referenced.size, commitsScanned, commits: doomedCommits.length });
  return { commitsScanned, segmentsReferenced: referenced.size, segmentsDeleted: deleted, bytesDeleted, segmentsKept: kept, retainedFrom, commitsDeleted: doomedCommits.length, prunedBelow };
}

/** The oldest retained LSN: within the last `commits`, or younger than `ms` (by its commit object's time), whichever reaches further back. */
export function retainedFloor(log: ReadonlyMap<number, number>, latest: number, retain: RemoteRetention | undefined, now: number): number {
  if (retain?.commits === undefined && retain?.ms === undefined) return 1;
  let from = retain.commits === undefined ? latest : Math.max(1, latest - Math.max(1, retain.commits) + 1);
  if (retain.ms !== undefined) {
    for (let lsn = from - 1; lsn >= 1; lsn--) {
      const at = log.get(lsn);
      if (at === undefined || now - at >= retain.ms) break;
      from = lsn;
    }
  }
  return from;
}

type Reader = (vid: VolumeId, lsns: readonly number[]) => Promise<(Commit | undefined)[]>;

async function readRange(read: Reader, vid: VolumeId, start: number, end: number): Promise<(Commit | undefined)[]> {
  const out: (Commit | undefined)[] = [];
  for (let lsn = start; lsn <= end; lsn += WINDOW) {
    out.push(...(await read(vid, Array.from({ length: Math.min(WINDOW, end - lsn + 1) }, (_, i) => lsn + i))));
  }
  return out;
}

/**
 * The commits below `top` holding the newest version, as of it, of a page `top` does not write: read newest first until every page is placed, or a checkpoint commit's list places the rest.
 */
async function holdersAt(read: Reader, top: Commit): Promise<{ holders: Commit[]; checkpoint: number | undefined }> {
  const [vid, at] = [top.vid, top.lsn];
  let open = PageSet.all(top.pageCount).difference(top.segment?.pages ?? PageSet.EMPTY);
  const holders: Commit[] = [];
  const place = (c: Commit): void => {
    const hit = c.segment ? open.intersect(c.segment.pages) : PageSet.EMPTY;
    if (hit.isEmpty) return;
    holders.push(c);
    open = open.difference(hit);
  };
  if (top.checkpoint) {
    for (const c of [...top.checkpoint].reverse()) place(c);
    return { holders, checkpoint: at };
  }
  for (let hi = at - 1; hi >= 1 && !open.isEmpty; hi -= WINDOW) {
    const lsns = Array.from({ length: Math.min(WINDOW, hi) }, (_, i) => hi - i);
    for (const c of await read(vid, lsns)) {
      if (!c || open.isEmpty) continue;
      place(c);
      if (c.checkpoint) {
        for (const older of [...c.checkpoint].reverse()) place(older);
        return { holders, checkpoint: c.lsn };
      }
    }
  }
  return { holders, checkpoint: undefined };
}

/**
 * The LSN below which `vid`'s commit records may go: a checkpoint commit at or below both the oldest
 * retained LSN (`retainedCheckpoint` is the newest checkpoint there) and the checkpoint the latest
 * hint names, so every reader starts at or above it. Undefined (prune nothing) without such a hint.
 */
async function pruneFloor(ctx: JobContext, read: Reader, vid: VolumeId, retainedCheckpoint: number, signal?: AbortSignal): Promise<number | undefined> {
  const hint = await readLatestHint(ctx, vid, signal).catch((e: unknown) => {
    if (signal?.aborted || !isScionError(e)) throw e;
    return undefined;
  });
  if (!hint?.checkpoint) return undefined;
  if (hint.checkpoint >= retainedCheckpoint) return retainedCheckpoint;
  const [named] = await read(vid, [hint.checkpoint]);
  return named?.checkpoint ? named.lsn : undefined;
}

/**
 * A commit from the remote (the truth: the local store may hold a log squashed or started at a
 * checkpoint), checked to be the one its key names. Where its segment lives is taken as written
 * (readers decide whether they trust another volume's prefix; GC only must not delete what is named).
 */
async function readCommit(ctx: JobContext, vid: VolumeId, lsn: LSN, signal?: AbortSignal): Promise<Commit | undefined> {
  const bytes = await ctx.remote.getCommit(vid, lsn, { signal });
  if (!bytes) return undefined;
  const commit = Commit.decode(bytes);
  if (commit.vid !== vid || commit.lsn !== lsn) throw corrupt(`The remote object for ${vid}@${lsn} holds commit ${commit.vid}@${commit.lsn}.`, { volume: vid, lsn });
  return commit;
}
