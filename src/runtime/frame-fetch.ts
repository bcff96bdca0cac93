import { decodeFrame, frameOf, frameRange, ScionError, verifyFrame, type Commit, type FrameRef, type Page, type PageIdx } from '../core/index.ts';
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
 * with `frames` > 1 the frames after it in the same request (read-ahead). Every fetched page is cached.
 */
export function fetchPageSync(store: LocalStore, remote: Remote | undefined, stats: ReadStats, commit: Commit, pageIdx: PageIdx, frames = 1): Page {
  stats.pagesMissed++;
  const { index, frame, start } = locateFrame(commit, pageIdx);
  const all = (commit.segment as NonNullable<Commit['segment']>).frames;
  const last = Math.min(all.length, index + Math.max(1, frames)) - 1;
  const end = frameRange(all, last).end;
  const bytes = offlineAware(commit, pageIdx, remote, (r) => r.getSegmentRangeSync(commit.segment as NonNullable<Commit['segment']>, { start, end }));
  for (let i = index + 1; i <= last; i++) {
    const r = frameRange(all, i);
    cacheFrame(store, stats, commit, all[i] as FrameRef, bytes.subarray(r.start - start, r.end - start));
  }
  return cacheFrame(store, stats, commit, frame, bytes.subarray(0, frame.bytes)).get(pageIdx) as Page;
}

/** Async miss path: the same request with fetch; same cache, same verification. */
export async function fetchPage(store: LocalStore, remote: Remote | undefined, stats: ReadStats, commit: Commit, pageIdx: PageIdx): Promise<Page> {
  stats.pagesMissed++;
  const { frame, start, end } = locateFrame(commit, pageIdx);
  const bytes = await offlineAwareAsync(commit, pageIdx, remote, (r) => r.getSegmentRange(commit.segment as NonNullable<Commit['segment']>, { start, end }));
  return cacheFrame(store, stats, commit, frame, bytes).get(pageIdx) as Page;
}

function notLocal(commit: Commit, pageIdx: PageIdx, cause?: unknown): ScionError {
  const offline = cause !== undefined;
  return new ScionError(
    'PageNotLocal',
    offline
      ? `Page ${pageIdx} is not available offline: it was never fetched and the remote is unreachable (${(cause as Error).message}). Hydrate while online to read offline.`
      : `Page ${pageIdx} of ${commit.vid}@${commit.lsn} is not held locally and this runtime has no remote. Open the runtime with a remote.`,
    { volume: commit.vid, lsn: commit.lsn, pageIdx },
    { cause },
  );
}

function offlineAware(commit: Commit, pageIdx: PageIdx, remote: Remote | undefined, read: (r: Remote) => Uint8Array): Uint8Array {
  if (!remote) throw notLocal(commit, pageIdx);
  try {
    return read(remote);
  } catch (e) {
    if (e instanceof ScionError && (e.code === 'RemoteUnavailable' || e.code === 'UrlExpired')) throw notLocal(commit, pageIdx, e);
    throw e;
  }
}

async function offlineAwareAsync(commit: Commit, pageIdx: PageIdx, remote: Remote | undefined, read: (r: Remote) => Promise<Uint8Array>): Promise<Uint8Array> {
  if (!remote) throw notLocal(commit, pageIdx);
  try {
    return await read(remote);
  } catch (e) {
    if (e instanceof ScionError && (e.code === 'RemoteUnavailable' || e.code === 'UrlExpired')) throw notLocal(commit, pageIdx, e);
    throw e;
  }
}
