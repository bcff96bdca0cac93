import { decodeFrame, frameObject, frameOf, frameRange, frameSpan, ScionError, verifyFrame, type Commit, type FrameRef, type Page, type PageIdx } from '../core/index.ts';
import type { LocalStore } from '../local/index.ts';
import type { ReadStats } from '../protocol/index.ts';
import type { Remote } from '../remote/index.ts';


export const emptyReadStats = (): ReadStats => ({ pagesMissed: 0, framesFetched: 0, pagesFetched: 0, bytesFetched: 0, bytesUploaded: 0, requests: 0 });

/** The frame of `commit`'s segment that holds `pageIdx` and its byte range. */
export function locateFrame(commit: Commit, pageIdx: PageIdx): { index: number; frame: FrameRef; start: number; end: number } {
  const frames = commit.segment?.frames ?? [];
  const i = frameOf(frames, pageIdx);
  if (i < 0) {
    throw new ScionError('PageNotLocal', `Page ${pageIdx} of ${commit.vid}@${commit.lsn} is not held locally and its commit was never pushed, so no remote holds it.`, {
      volume: commit.vid, lsn: commit.lsn, pageIdx,
    });
  }
  return { index: i, frame: frames[i] as FrameRef, ...frameRange(frames, i) };
}

/**
 * Checks fetched frame bytes against the commit (size, SHA-256), decodes them, caches every page of
 * the frame, and counts it. Throws Corrupt for bytes that are not the commit's.
 */
export function cacheFrame(store: LocalStore, stats: ReadStats, commit: Commit, frame: FrameRef, bytes: Uint8Array): Map<PageIdx, Page> {
  verifyFrame(frame, bytes, `segment ${commit.segment?.sid} of ${commit.vid}@${commit.lsn}`);
  const pages = decodeFrame(bytes, frame.pages);
  store.putPagesSync((commit.segment as NonNullable<Commit['segment']>).sid, pages);
  stats.framesFetched++;
  stats.pagesFetched += pages.size;
  return pages;
}

/**
 * Blocking miss path: one ranged GET of the frame holding the page (sync XHR in the DB worker), and
 * the frames after it up to `readAheadPages` pages in the same request (read-ahead: adjacent frames
 * are adjacent bytes). Every fetched page is cached.
 */
export function fetchPageSync(store: LocalStore, remote: Remote | undefined, stats: ReadStats, commit: Commit, pageIdx: PageIdx, readAheadPages = 0): Page {
  const plan = planFetch(stats, commit, pageIdx, readAheadPages, remote);
  let bytes: Uint8Array;
  try {
    const span = frameSpan(plan.segment, plan.first, plan.last);
    bytes = plan.remote.getSegmentRangeSync(span.at, span);
  } catch (e) {
    throw offline(commit, pageIdx, e);
  }
  return cacheFetched(store, stats, commit, plan, bytes, pageIdx);
}

/** Async miss path: the same request with fetch; same cache, same verification. */
export async function fetchPage(store: LocalStore, remote: Remote | undefined, stats: ReadStats, commit: Commit, pageIdx: PageIdx, readAheadPages = 0): Promise<Page> {
  const plan = planFetch(stats, commit, pageIdx, readAheadPages, remote);
  let bytes: Uint8Array;
  try {
    const span = frameSpan(plan.segment, plan.first, plan.last);
    bytes = await plan.remote.getSegmentRange(span.at, span);
  } catch (e) {
    throw offline(commit, pageIdx, e);
  }
  return cacheFetched(store, stats, commit, plan, bytes, pageIdx);
}

interface FetchPlan {
  readonly remote: Remote;
  readonly segment: NonNullable<Commit['segment']>;
  /** The frames fetched: the page's (`first`) up to `last`, bytes [start, end) of the segment (its frames back to back, whatever objects hold them). */
  readonly first: number;
  readonly last: number;
  readonly start: number;
  readonly end: number;
}

/** The one request of a miss: the page's frame and the whole frames after it that fit in `readAheadPages` pages. */
function planFetch(stats: ReadStats, commit: Commit, pageIdx: PageIdx, readAheadPages: number, remote: Remote | undefined): FetchPlan {
  stats.pagesMissed++;
  const { index, start } = locateFrame(commit, pageIdx);
  if (!remote) throw notLocal(commit, pageIdx);
  const segment = commit.segment as NonNullable<Commit['segment']>;
  const all = segment.frames;
  let last = index;
  // Read-ahead stays within the object holding the page (a large push splits its segment into several).
  const object = frameObject(segment, index).index;
  const inObject = (i: number) => i < all.length && frameObject(segment, i).index === object;
  for (let ahead = 0; inObject(last + 1) && ahead + (all[last + 1] as FrameRef).pages.size <= readAheadPages; last++) ahead += (all[last + 1] as FrameRef).pages.size;
  return { remote, segment, first: index, last, start, end: frameRange(all, last).end };
}

/** Verifies and caches every frame fetched; returns the page asked for. */
function cacheFetched(store: LocalStore, stats: ReadStats, commit: Commit, plan: FetchPlan, bytes: Uint8Array, pageIdx: PageIdx): Page {
  const all = plan.segment.frames;
  for (let i = plan.first + 1; i <= plan.last; i++) {
    const r = frameRange(all, i);
    cacheFrame(store, stats, commit, all[i] as FrameRef, bytes.subarray(r.start - plan.start, r.end - plan.start));
  }
  const frame = all[plan.first] as FrameRef;
  return cacheFrame(store, stats, commit, frame, bytes.subarray(0, frame.bytes)).get(pageIdx) as Page;
}

/** An unreachable remote makes a miss PageNotLocal (readable offline only once fetched); other failures pass. */
function offline(commit: Commit, pageIdx: PageIdx, e: unknown): unknown {
  return e instanceof ScionError && (e.code === 'RemoteUnavailable' || e.code === 'UrlExpired') ? notLocal(commit, pageIdx, e) : e;
}

function notLocal(commit: Commit, pageIdx: PageIdx, cause?: unknown): ScionError {
  const offline = cause !== undefined;
  return new ScionError(
    'PageNotLocal',
    offline
      ? `Page ${pageIdx} is not available offline: it was never fetched and the remote is unreachable (${(cause as Error).message}). Nothing was committed. Go online and retry, or hydrate() while online so the database reads and writes offline.`
      : `Page ${pageIdx} of ${commit.vid}@${commit.lsn} is not held locally and this runtime has no remote. Open the runtime with a remote.`,
    { volume: commit.vid, lsn: commit.lsn, pageIdx },
    { cause },
  );
}
