import { getLogger } from '@logtape/logtape';
import { Commit, corrupt, PageSet, RemoteKey, segmentObjects, type LSN, type SegmentAddress, type SegmentId, type VolumeId } from '../../core/index.ts';
import type { JobContext } from '../job-context.ts';

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
  const segments: Listed[] = [];
  const logs = new Map<VolumeId, Map<number, number>>();
  for (const prefix of ['volumes/', 'segments/'] as const) {
    for await (const object of ctx.remote.list(prefix, { signal })) {
      const key = RemoteKey.parse(object.key);
      if (key.kind === 'segment') segments.push({ at: key, key: object.key, size: object.size, lastModified: object.lastModified });
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
  for (const [vid, log] of logs) {
    let latest = 0;
    for (const lsn of log.keys()) latest = Math.max(latest, lsn);
    const from = retainedFloor(log, latest, options.retain, now);
    retainedFrom[vid] = from;
    const retained = await readRange(read, vid, from, latest);
    // A fork's log starts at its first commit, a checkpoint: the LSNs below it are only in it.
    const oldest = retained.find((c) => c !== undefined);
    for (const commit of [...retained, ...(oldest ? await holdersAt(read, oldest) : [])]) if (commit?.segment) for (const at of segmentObjects(commit.segment)) referenced.add(RemoteKey.segment(at));
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
  logger.info('remote gc: {deleted} deleted ({bytes} bytes), {kept} in grace, {referenced} referenced', { deleted: deleted.length, bytes: bytesDeleted, kept, referenced: referenced.size, commitsScanned });
  return { commitsScanned, segmentsReferenced: referenced.size, segmentsDeleted: deleted, bytesDeleted, segmentsKept: kept, retainedFrom };
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
async function holdersAt(read: Reader, top: Commit): Promise<Commit[]> {
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
    return holders;
  }
  for (let hi = at - 1; hi >= 1 && !open.isEmpty; hi -= WINDOW) {
    const lsns = Array.from({ length: Math.min(WINDOW, hi) }, (_, i) => hi - i);
    for (const c of await read(vid, lsns)) {
      if (!c || open.isEmpty) continue;
      place(c);
      if (c.checkpoint) {
        for (const older of [...c.checkpoint].reverse()) place(older);
        return holders;
      }
    }
  }
  return holders;
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
