import { getLogger } from '@logtape/logtape';
import {
  Commit, CompactedIndex, decodeFrame, encodeSegment, frameObject, frameRange, frameSpanOf, groupBy, invalidInput, PageSet, ScionError, SegmentId, verifyFrame,
  type FrameRef, type LSN, type Page, type PageCount, type PageIdx, type SegmentRef, type VolumeId,
} from '../../core/index.ts';
import type { JobContext } from '../job-context.ts';
import { decodeRemoteCommit } from './fetch-log.ts';
import { readLatestHint } from './latest.ts';
import { chunkFrames, nativeDeflate } from './push.ts';

const logger = getLogger(['scion', 'gc']);

/** Pages per compacted segment (64 MiB raw): bounds the compactor's memory and one upload's size. */
export const COMPACTED_SEGMENT_PAGES = 16_384;
/** Frame reads in flight. */
const CONCURRENCY = 8;

export interface CompactOptions {
  /** The remote volume to compact. */
  readonly volume: VolumeId;
  /** Pages per compacted segment (default COMPACTED_SEGMENT_PAGES). */
  readonly segmentPages?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export type CompactResult =
  | { readonly outcome: 'compacted'; readonly lsn: LSN; readonly pages: number; readonly segments: number; readonly bytesFetched: number; readonly bytesUploaded: number }
  /** The compacted index is already as new as the latest hint. */
  | { readonly outcome: 'up-to-date'; readonly lsn: LSN };

/**
 * The remote compactor (admin grant with write): copies the volume's live pages as of the LSN its
 * latest hint names into fresh segments under the volume's prefix (sequential frames of 64 pages,
 * each with its SHA-256), then publishes them as `volumes/{vid}/compacted` (CompactedIndex), so a
 * clone reads a page with its neighbours in one request instead of one request per commit that
 * last wrote them. It writes nothing to the log: pushers never race it, and every commit record
 * stays the truth (readers check each page they take from it against their own index). Stateless
 * and idempotent: a run cut short leaves only unnamed segments (remote GC deletes them after its
 * grace period); two runs at once each publish a valid index (the newest write wins).
 */
export async function compactRemote(ctx: JobContext, options: CompactOptions): Promise<CompactResult> {
  const { volume: vid, signal } = options;
  const perSegment = options.segmentPages ?? COMPACTED_SEGMENT_PAGES;
  if (!Number.isInteger(perSegment) || perSegment < 64) throw invalidInput(`segmentPages must be an integer ≥ 64; got ${perSegment}.`);
  const hint = await readLatestHint(ctx, vid, signal);
  if (!hint?.tail || hint.checkpoint === undefined) {
    throw new ScionError('InvalidInput', `The volume ${vid} has no latest hint with its checkpoint (written by every push of this Scion): push to it once, then compact.`, { volume: vid });
  }
  const previous = await ctx.remote.getCompacted(vid, { signal });
  const done = previous && tryDecode(previous, vid);
  if (done && done.lsn >= hint.lsn) return { outcome: 'up-to-date', lsn: done.lsn };

  // The page index as of the hint's LSN: its tail, newest first, then the checkpoint commit and its list.
  const index: Commit[] = [...hint.tail].reverse();
  if (hint.checkpoint > 0) {
    const bytes = await ctx.remote.getCommit(vid, hint.checkpoint as LSN, { signal });
    if (!bytes) throw new ScionError('Corrupt', `The checkpoint ${vid}@${hint.checkpoint} the latest hint names is missing.`, { volume: vid, lsn: hint.checkpoint });
    const checkpoint = decodeRemoteCommit(bytes, vid, hint.checkpoint as LSN);
    index.push(Commit.withoutCheckpoint(checkpoint), ...[...(checkpoint.checkpoint ?? [])].reverse());
  }
  const pageCount = (index[0] as Commit).pageCount;
  const holders = holdersOf(index, pageCount);
  const live = [...holders.keys()].sort((a, b) => a - b);

  const stats = { bytesFetched: 0, bytesUploaded: 0 };
  const segments: SegmentRef[] = [];
  for (let i = 0; i < live.length; i += perSegment) {
    const chunk = live.slice(i, i + perSegment);
    const pages = await readLive(ctx, chunk, holders, stats, signal);
    const built = await encodeSegment(chunkFrames(chunk).map((group) => group.map((idx) => [idx, pages.get(idx) as Page] as [PageIdx, Page])), nativeDeflate);
    const sid = await createSegment(ctx, vid, built.bytes, signal);
    stats.bytesUploaded += built.bytes.byteLength;
    segments.push({ sid, home: vid, pages: PageSet.of(chunk), frames: built.frames, hotFrames: 0 });
  }
  await ctx.remote.putCompacted(vid, CompactedIndex.encode({ vid, lsn: hint.lsn, pageCount, segments }), { signal });
  logger.info('compacted {vid}@{lsn}: {pages} pages into {segments} segments', { vid, lsn: hint.lsn, pages: live.length, segments: segments.length, ...stats });
  return { outcome: 'compacted', lsn: hint.lsn, pages: live.length, segments: segments.length, ...stats };
}

/** Per live page (within `pageCount`), the newest commit of `newestFirst` that wrote it. */
function holdersOf(newestFirst: readonly Commit[], pageCount: PageCount): Map<PageIdx, Commit> {
  const holders = new Map<PageIdx, Commit>();
  let open = PageSet.all(pageCount);
  for (const c of newestFirst) {
    const hit = c.segment ? open.intersect(c.segment.pages) : PageSet.EMPTY;
    if (hit.isEmpty) continue;
    for (const idx of hit) holders.set(idx, c);
    open = open.difference(hit);
    if (open.isEmpty) break;
  }
  return holders;
}

/** The bytes of `pages` from their holders' segments: the frames holding them, adjacent frames in one ranged GET, each checked against its commit. */
async function readLive(ctx: JobContext, pages: readonly PageIdx[], holders: ReadonlyMap<PageIdx, Commit>, stats: { bytesFetched: number }, signal?: AbortSignal): Promise<Map<PageIdx, Page>> {
  const out = new Map<PageIdx, Page>();
  const reads: { commit: Commit; first: number; last: number }[] = [];
  for (const [, idxs] of groupBy(pages, (idx) => (holders.get(idx) as Commit).segment?.sid)) {
    const commit = holders.get(idxs[0] as PageIdx) as Commit;
    const frames = (commit.segment as SegmentRef).frames;
    const wanted = [...new Set(idxs.map((idx) => frames.findIndex((f) => f.pages.has(idx))))].sort((a, b) => a - b);
    if (wanted.includes(-1)) throw new ScionError('Corrupt', `The commit ${commit.vid}@${commit.lsn} names pages its segment has no frame for.`, { volume: commit.vid, lsn: commit.lsn });
    for (const i of wanted) {
      const run = reads.at(-1);
      // A run stays within one object (a large push's segment is stored in parts).
      if (run && run.commit === commit && run.last === i - 1 && frameObject(commit.segment as SegmentRef, i).index === frameObject(commit.segment as SegmentRef, run.first).index) run.last = i;
      else reads.push({ commit, first: i, last: i });
    }
  }
  let next = 0;
  const lane = async () => {
    for (let k = next++; k < reads.length; k = next++) {
      const { commit, first, last } = reads[k] as (typeof reads)[number];
      const seg = commit.segment as SegmentRef;
      const start = frameRange(seg.frames, first).start;
      const span = frameSpanOf(commit, first, last);
      const body = await ctx.remote.getSegmentRange(span.at, span, { signal });
      stats.bytesFetched += body.byteLength;
      for (let i = first; i <= last; i++) {
        const frame = seg.frames[i] as FrameRef;
        const r = frameRange(seg.frames, i);
        const bytes = body.subarray(r.start - start, r.end - start);
        verifyFrame(frame, bytes, `segment ${seg.sid} of ${commit.vid}@${commit.lsn}`);
        for (const [idx, page] of decodeFrame(bytes, frame.pages)) if (holders.get(idx) === commit) out.set(idx, page);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, reads.length) }, lane));
  return out;
}

/** Uploads a fresh segment under `vid` (create-only; a taken id is retried under another). */
async function createSegment(ctx: JobContext, vid: VolumeId, bytes: Uint8Array, signal?: AbortSignal): Promise<SegmentId> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const sid = SegmentId.random(ctx.ids);
    if ((await ctx.remote.putSegment(vid, sid, bytes, { signal })) === 'created') return sid;
  }
  throw new ScionError('RemoteUnavailable', 'Three segment uploads in a row found their fresh id taken (lost responses retried, most likely). Run the compaction again.');
}

function tryDecode(bytes: Uint8Array, vid: VolumeId): CompactedIndex | undefined {
  try {
    return CompactedIndex.decode(bytes, vid);
  } catch {
    return undefined;
  }
}

