import pLimit from 'p-limit';
import { frameObject, frameOf, frameRange, frameSpanOf, groupBy, type Commit, type FrameRef, type PageIdx, type PageSet, type Snapshot } from '../../core/index.ts';
import type { HydrateProgress, ReadStats } from '../../protocol/index.ts';
import { cacheFrames, emptyReadStats } from '../volume-reader.ts';
import type { JobContext } from '../job-context.ts';
import { heldCommits } from '../held-commits.ts';


export interface HydrateOptions {
  signal?: AbortSignal;
  /** Range requests in flight at once. Default 4. */
  concurrency?: number;
  onProgress?: (p: HydrateProgress) => void;
  stats?: ReadStats;
  /** Only the hot frames (page 1 and B-tree interior pages, as the pusher planned them): what a cold reader needs first. */
  hotOnly?: boolean;
  /** Only these of the snapshot's pages (a push fetches only the pages it uploads). */
  pages?: PageSet;
}

/** Adjacent frames of one segment fetched by one request, up to this size. */
const MAX_COALESCED_BYTES = 4 * 1024 * 1024;

interface FrameWant {
  readonly commit: Commit;
  readonly index: number;
}

/**
 * Fetches every frame holding a visible page of `snapshot` that is not held locally: adjacent
 * frames of a segment are coalesced into one ranged GET, with bounded concurrency.
 */
export async function hydrateSnapshot(ctx: JobContext, snapshot: Snapshot, options: HydrateOptions = {}): Promise<HydrateProgress> {
  const wanted = options.hotOnly ? hotFrames(ctx, snapshot) : new Map<string, FrameWant>();
  for (let idx = 1 as PageIdx; !options.hotOnly && idx <= snapshot.pageCount; idx++) {
    if (options.pages && !options.pages.has(idx)) continue;
    const commit = ctx.locatePage(snapshot, idx);
    const seg = commit?.segment;
    if (!commit || !seg || ctx.store.hasPageSync(seg.sid, idx)) continue;
    const index = frameOf(seg.frames, idx);
    if (index >= 0) wanted.set(`${seg.sid}:${index}`, { commit, index });
  }
  const runs = coalesce([...wanted.values()]);
  const stats = options.stats ?? emptyReadStats();
  const framesTotal = wanted.size;
  let framesDone = 0;
  let bytes = 0;
  const limit = pLimit(options.concurrency ?? 4);
  await Promise.all(
    runs.map((run) =>
      limit(async () => {
        const first = run[0] as FrameWant;
        const frames = (first.commit.segment as NonNullable<Commit['segment']>).frames;
        const start = frameRange(frames, first.index).start;
        const end = frameRange(frames, (run.at(-1) as FrameWant).index).end;
        const span = frameSpanOf(first.commit, first.index, (run.at(-1) as FrameWant).index);
        const body = await ctx.remote.getSegmentRange(span.at, span, { signal: options.signal });
        cacheFrames(ctx.store, stats, first.commit, run.map((want) => {
          const r = frameRange(frames, want.index);
          return { frame: frames[want.index] as FrameRef, bytes: body.subarray(r.start - start, r.end - start) };
        }));
        framesDone += run.length;
        bytes += body.byteLength;
        options.onProgress?.({ framesDone, framesTotal, bytes });
      }),
    ),
  );
  return { framesDone, framesTotal, bytes };
}

/** Hot frames of the commits on the path that still hold a visible page not held locally. */
function hotFrames(ctx: JobContext, snapshot: Snapshot): Map<string, FrameWant> {
  const wanted = new Map<string, FrameWant>();
  for (const range of snapshot.path) {
    for (const commit of heldCommits(ctx.store, range).reverse()) {
      const seg = commit.segment;
      for (let index = 0; seg && index < (seg.hotFrames ?? 0); index++) {
        const visible = [...(seg.frames[index] as FrameRef).pages].some((idx) => {
          const holder = ctx.locatePage(snapshot, idx);
          return holder?.vid === commit.vid && holder.lsn === commit.lsn && !ctx.store.hasPageSync(seg.sid, idx);
        });
        if (visible) wanted.set(`${seg.sid}:${index}`, { commit, index });
      }
    }
  }
  return wanted;
}

/** Groups wanted frames into runs of consecutive frames of one segment object. */
function coalesce(wants: FrameWant[]): FrameWant[][] {
  const bySegment = groupBy(wants, (w) => w.commit.segment?.sid);
  const runs: FrameWant[][] = [];
  for (const list of bySegment.values()) {
    list.sort((a, b) => a.index - b.index);
    let run: FrameWant[] = [];
    let runBytes = 0;
    for (const w of list) {
      const seg = w.commit.segment as NonNullable<Commit['segment']>;
      const size = (seg.frames[w.index] as FrameRef).bytes;
      const prev = run.at(-1);
      if (prev && (w.index !== prev.index + 1 || runBytes + size > MAX_COALESCED_BYTES || frameObject(seg, w.index).index !== frameObject(seg, prev.index).index)) {
        runs.push(run);
        run = [];
        runBytes = 0;
      }
      run.push(w);
      runBytes += size;
    }
    if (run.length > 0) runs.push(run);
  }
  return runs;
}
