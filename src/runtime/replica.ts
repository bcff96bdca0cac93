import { getLogger } from '@logtape/logtape';
import { decodeFrame, frameRange, isScionError, verifyFrame, type Commit, type CompactedIndex, type FrameRef, type Page, type PageIdx, type SegmentId, type SegmentRef, type Snapshot } from '../core/index.ts';
import type { LocalStore } from '../local/index.ts';
import type { ReadStats } from '../protocol/index.ts';
import type { ByteRange, Remote } from '../remote/index.ts';

const logger = getLogger(['scion', 'runtime']);

interface FrameAt {
  readonly segment: SegmentRef;
  readonly index: number;
  readonly first: number;
}

/**
 * A volume's compacted index (`volumes/{vid}/compacted`) as a read replica: the live pages as of
 * its LSN K in a few segments of sequential frames. A page a snapshot shows from commit h of the
 * volume may be read from it when h ≤ K ≤ the snapshot's end on that volume — then no commit in
 * (h, K] rewrote it, so its bytes as of K are h's. Its pages are cached under h's segment, where
 * every reader looks them up, so the local index never names a compacted segment.
 */
export class ReplicaIndex {
  readonly index: CompactedIndex;
  /** Every frame, ascending by first page (frames hold ascending, disjoint pages). */
  readonly #frames: FrameAt[];

  constructor(index: CompactedIndex) {
    this.index = index;
    this.#frames = index.segments.flatMap((segment) => segment.frames.map((f, i) => ({ segment, index: i, first: f.pages.first ?? 0 }))).sort((a, b) => a.first - b.first);
  }

  /** The compacted frame holding `idx`, if the replica may serve `holder`'s version of it to `snapshot`. */
  frameFor(snapshot: Snapshot, holder: Commit, idx: PageIdx): FrameAt | undefined {
    const { vid, lsn } = this.index;
    if (holder.vid !== vid || holder.lsn > lsn) return undefined;
    const range = snapshot.path.find((r) => r.vid === vid);
    if (!range || range.end < lsn) return undefined;
    let lo = 0;
    let hi = this.#frames.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#frames[mid] as FrameAt).first <= idx) lo = mid;
      else hi = mid - 1;
    }
    const at = this.#frames[lo];
    return at && at.segment.frames[at.index]?.pages.has(idx) ? at : undefined;
  }
}

/** What a replica read needs from the runtime. */
export interface ReplicaReader {
  readonly store: LocalStore;
  readonly remote: Remote;
  readonly stats: ReadStats;
  locatePage(snapshot: Snapshot, idx: PageIdx): Commit | undefined;
}

/**
 * Plans the read of `idx` (shown by `snapshot` from `holder`) from the replica: the compacted frame
 * and those after it up to `readAheadPages` pages, as one ranged GET. Undefined when the replica
 * does not serve it.
 */
export function planReplicaRead(replica: ReplicaIndex | undefined, snapshot: Snapshot, holder: Commit, idx: PageIdx, readAheadPages = 0): { segment: SegmentRef; first: number; last: number; range: ByteRange } | undefined {
  const at = replica?.frameFor(snapshot, holder, idx);
  if (!at) return undefined;
  const frames = at.segment.frames;
  let last = at.index;
  for (let ahead = 0; last + 1 < frames.length && ahead + (frames[last + 1] as FrameRef).pages.size <= readAheadPages; last++) ahead += (frames[last + 1] as FrameRef).pages.size;
  const start = frameRange(frames, at.index).start;
  return { segment: at.segment, first: at.index, last, range: { start, end: frameRange(frames, last).end } };
}

/**
 * Checks and decodes the fetched compacted frames, caches each page the replica serves to
 * `snapshot` under the segment of the commit the snapshot shows it from, and returns page `idx`.
 */
export function cacheReplicaFrames(r: ReplicaReader, replica: ReplicaIndex, snapshot: Snapshot, plan: NonNullable<ReturnType<typeof planReplicaRead>>, bytes: Uint8Array, idx: PageIdx): Page {
  const frames = plan.segment.frames;
  const bySegment = new Map<SegmentId, Map<PageIdx, Page>>();
  let wanted: Page | undefined;
  for (let i = plan.first; i <= plan.last; i++) {
    const frame = frames[i] as FrameRef;
    const range = frameRange(frames, i);
    const body = bytes.subarray(range.start - plan.range.start, range.end - plan.range.start);
    verifyFrame(frame, body, `compacted segment ${plan.segment.sid} of ${replica.index.vid}`);
    const pages = decodeFrame(body, frame.pages);
    r.stats.framesFetched++;
    r.stats.pagesFetched += pages.size;
    for (const [q, page] of pages) {
      const holder = r.locatePage(snapshot, q);
      const sid = holder?.segment?.sid;
      if (!holder || !sid || !replica.frameFor(snapshot, holder, q) || r.store.hasPageSync(sid, q)) continue;
      let group = bySegment.get(sid);
      if (!group) bySegment.set(sid, (group = new Map()));
      group.set(q, page);
      if (q === idx) wanted = page;
    }
    if (pages.has(idx)) wanted ??= pages.get(idx);
  }
  for (const [sid, pages] of bySegment) r.store.putPagesSync(sid, pages);
  return wanted as Page;
}

/**
 * Whether a failed replica read should fall back to the commit's own segment: a compacted segment
 * deleted (a newer compaction superseded it) or bytes that fail their digest never fail a read the
 * original segment can serve.
 */
export function replicaFailed(vid: string, e: unknown): boolean {
  if (!isScionError(e, 'Corrupt')) return false;
  logger.warn('the compacted copy of {vid} failed ({message}); reading the original segments', { vid, message: (e as Error).message });
  return true;
}

/**
 * Reads page `idx` (shown by `snapshot` from `holder`) through the volume's replica, if it has one
 * that serves it: one blocking ranged GET. Undefined when it does not (or failed: a Corrupt replica
 * is forgotten); the caller then reads the commit's own segment.
 */
export function readViaReplicaSync(r: ReplicaReader, replicas: Map<string, ReplicaIndex>, snapshot: Snapshot, holder: Commit, idx: PageIdx, readAheadPages = 0): Page | undefined {
  const replica = replicas.get(holder.vid);
  const plan = planReplicaRead(replica, snapshot, holder, idx, readAheadPages);
  if (!replica || !plan) return undefined;
  try {
    const bytes = r.remote.getSegmentRangeSync(plan.segment, plan.range);
    r.stats.pagesMissed++;
    return cacheReplicaFrames(r, replica, snapshot, plan, bytes, idx);
  } catch (e) {
    if (replicaFailed(holder.vid, e)) replicas.delete(holder.vid);
    return undefined;
  }
}

/** As readViaReplicaSync, with fetch. */
export async function readViaReplica(r: ReplicaReader, replicas: Map<string, ReplicaIndex>, snapshot: Snapshot, holder: Commit, idx: PageIdx, readAheadPages = 0): Promise<Page | undefined> {
  const replica = replicas.get(holder.vid);
  const plan = planReplicaRead(replica, snapshot, holder, idx, readAheadPages);
  if (!replica || !plan) return undefined;
  try {
    const bytes = await r.remote.getSegmentRange(plan.segment, plan.range);
    r.stats.pagesMissed++;
    return cacheReplicaFrames(r, replica, snapshot, plan, bytes, idx);
  } catch (e) {
    if (replicaFailed(holder.vid, e)) replicas.delete(holder.vid);
    return undefined;
  }
}
