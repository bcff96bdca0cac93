// Reading pages of a snapshot: the commit on the snapshot's path that last wrote the page, its bytes
// from the local store, else its frame fetched from the remote (verified, cached in the store). The
// VFS's xRead ends here; the page-miss path is this file and the remote.
import {
  decodeFrame, frameObject, frameOf, frameRange, frameSpanOf, Page, ScionError, verifyFrame, type Commit, type FrameRef, type PageCount, type PageIdx, type Snapshot,
} from '../core/index.ts';
import type { LocalStore } from '../local/index.ts';
import type { ReadStats } from '../protocol/index.ts';
import type { Remote } from '../remote/index.ts';
import { checkReadable, mustGetCommit } from './held-commits.ts';
import { readViaReplica, readViaReplicaSync, type ReplicaIndex, type ReplicaReader } from './replica.ts';

/** How a page miss is served. */
export interface ReadOptions {
  /** On a miss, also fetch the following frames of the segment, up to this many pages, in the same request (read-ahead). Default 0. */
  readonly readAheadPages?: number;
}

export const emptyReadStats = (): ReadStats => ({ pagesMissed: 0, framesFetched: 0, pagesFetched: 0, bytesFetched: 0, bytesUploaded: 0, requests: 0 });

/** A runtime's page reads: every snapshot is read through one. Blocking except `readAsync`; DB worker only. */
export class PageSource {
  readonly #store: LocalStore;
  readonly #remote: Remote | undefined;
  readonly #stats: ReadStats;
  readonly #checkOpen: () => void;
  /** Volumes' compacted read replicas (fetch-log loads them); a miss tries one before the commit's own segment. */
  readonly #replicas: Map<string, ReplicaIndex>;

  constructor(store: LocalStore, remote: Remote | undefined, stats: ReadStats, checkOpen: () => void, replicas: Map<string, ReplicaIndex> = new Map()) {
    this.#store = store;
    this.#remote = remote;
    this.#stats = stats;
    this.#checkOpen = checkOpen;
    this.#replicas = replicas;
  }

  /** The commit that last wrote `pageIdx` along the snapshot's path, or undefined (the page is zeros). Throws CommitNotFound. */
  locate(snapshot: Snapshot, pageIdx: PageIdx): Commit | undefined {
    if (pageIdx > snapshot.pageCount) return undefined;
    for (const range of snapshot.path) {
      // Zeros only for a page the snapshot never wrote, never for a log dropped (graftDelete) or squashed since.
      checkReadable(this.#store, range.vid, range.end);
      const lsn = this.#store.findPageVersionSync(range.vid, pageIdx, range.start, range.end);
      if (lsn !== undefined) return mustGetCommit(this.#store, range.vid, lsn);
    }
    return undefined;
  }

  /** SQLite reads through here on every xRead: a locally held page goes straight into `target` (PAGE_SIZE bytes), no copy in between. */
  readInto(snapshot: Snapshot, pageIdx: PageIdx, target: Uint8Array, options?: ReadOptions): void {
    this.#checkOpen();
    const commit = this.locate(snapshot, pageIdx);
    if (!commit?.segment) target.fill(0);
    else if (!this.#store.readPageIntoSync(commit.segment.sid, pageIdx, target)) {
      const readAhead = options?.readAheadPages ?? 0;
      const replica = this.#remote && readViaReplicaSync(this.#replicaReader(this.#remote), this.#replicas, snapshot, commit, pageIdx, readAhead);
      target.set(replica ?? this.#fetchSync(commit, pageIdx, readAhead));
    }
  }

  /** The page as `snapshot` shows it: zeros past the end or where never written. Throws PageNotLocal when it cannot be had. */
  read(snapshot: Snapshot, pageIdx: PageIdx, options?: ReadOptions): Page {
    const page = Page.zeroed();
    this.readInto(snapshot, pageIdx, page, options);
    return page;
  }

  /** As read, but a miss is fetched with fetch() instead of blocking. */
  async readAsync(snapshot: Snapshot, pageIdx: PageIdx): Promise<Page> {
    this.#checkOpen();
    const commit = this.locate(snapshot, pageIdx);
    if (!commit?.segment) return Page.zeroed();
    const held = this.#store.readPageSync(commit.segment.sid, pageIdx);
    if (held) return held;
    const replica = this.#remote && (await readViaReplica(this.#replicaReader(this.#remote), this.#replicas, snapshot, commit, pageIdx));
    if (replica) return replica;
    const plan = this.#plan(commit, pageIdx, 0);
    return this.#cacheFetched(commit, plan, await fetched(commit, pageIdx, () => {
      const span = frameSpanOf(commit, plan.first, plan.last);
      return plan.remote.getSegmentRange(span.at, span);
    }), pageIdx);
  }

  /** What reading through a volume's compacted replica needs (see replica.ts). */
  #replicaReader(remote: Remote): ReplicaReader {
    return { store: this.#store, remote, stats: this.#stats, locatePage: (s, idx) => this.locate(s, idx) };
  }

  /**
   * Blocking miss path: one ranged GET of the frame holding the page (sync XHR in the DB worker), and
   * the frames after it up to `readAheadPages` pages in the same request (read-ahead: adjacent frames
   * are adjacent bytes). Every fetched page is cached.
   */
  #fetchSync(commit: Commit, pageIdx: PageIdx, readAheadPages: number): Page {
    const plan = this.#plan(commit, pageIdx, readAheadPages);
    let bytes: Uint8Array;
    try {
      const span = frameSpanOf(commit, plan.first, plan.last);
      bytes = plan.remote.getSegmentRangeSync(span.at, span);
    } catch (e) {
      throw offline(commit, pageIdx, e);
    }
    return this.#cacheFetched(commit, plan, bytes, pageIdx);
  }

  /** The one request of a miss: the page's frame and the whole frames after it that fit in `readAheadPages` pages. */
  #plan(commit: Commit, pageIdx: PageIdx, readAheadPages: number): FetchPlan {
    this.#stats.pagesMissed++;
    const { index, start } = locateFrame(commit, pageIdx);
    if (!this.#remote) throw notLocal(commit, pageIdx);
    const segment = commit.segment as NonNullable<Commit['segment']>;
    const all = segment.frames;
    let last = index;
    // Read-ahead stays within the object holding the page (a large push splits its segment into several).
    const object = frameObject(segment, index).index;
    const inObject = (i: number): boolean => i < all.length && frameObject(segment, i).index === object;
    for (let ahead = 0; inObject(last + 1) && ahead + (all[last + 1] as FrameRef).pages.size <= readAheadPages; last++) ahead += (all[last + 1] as FrameRef).pages.size;
    return { remote: this.#remote, segment, first: index, last, start, end: frameRange(all, last).end };
  }

  /** Verifies and caches every frame fetched; returns the page asked for. */
  #cacheFetched(commit: Commit, plan: FetchPlan, bytes: Uint8Array, pageIdx: PageIdx): Page {
    const all = plan.segment.frames;
    const fetched = [];
    for (let i = plan.first; i <= plan.last; i++) {
      const r = frameRange(all, i);
      fetched.push({ frame: all[i] as FrameRef, bytes: bytes.subarray(r.start - plan.start, r.end - plan.start) });
    }
    return cacheFrames(this.#store, this.#stats, commit, fetched).get(pageIdx) as Page;
  }
}

/** Reads pages of one fixed snapshot. Blocking; DB worker only. */
export class VolumeReader {
  readonly snapshot: Snapshot;
  readonly #source: PageSource;

  constructor(snapshot: Snapshot, source: PageSource) {
    this.snapshot = snapshot;
    this.#source = source;
  }

  get pageCount(): PageCount {
    return this.snapshot.pageCount;
  }

  /** The page's content; zeros past the end or where never written. Throws PageNotLocal on a miss. */
  readPage(pageIdx: PageIdx, options?: ReadOptions): Page {
    return this.#source.read(this.snapshot, pageIdx, options);
  }

  /** As readPage, into `target` (e.g. SQLite's buffer): a page read from the local store allocates nothing. */
  readPageInto(pageIdx: PageIdx, target: Uint8Array, options?: ReadOptions): void {
    this.#source.readInto(this.snapshot, pageIdx, target, options);
  }
}

interface FetchPlan {
  readonly remote: Remote;
  readonly segment: NonNullable<Commit['segment']>;
  /** The frames fetched: the page's (`first`) up to `last`, bytes [start, end) of the segment. */
  readonly first: number;
  readonly last: number;
  readonly start: number;
  readonly end: number;
}

/** The frame of `commit`'s segment that holds `pageIdx` and its byte range. */
function locateFrame(commit: Commit, pageIdx: PageIdx): { index: number; frame: FrameRef; start: number; end: number } {
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
 * Checks fetched frames against the commit (size, SHA-256) and decodes them, then caches all their
 * pages in one store write, and counts them. Throws Corrupt for bytes that are not the commit's,
 * caching none of them.
 */
export function cacheFrames(store: LocalStore, stats: ReadStats, commit: Commit, fetched: readonly { frame: FrameRef; bytes: Uint8Array }[]): Map<PageIdx, Page> {
  const pages = new Map<PageIdx, Page>();
  for (const { frame, bytes } of fetched) {
    verifyFrame(frame, bytes, `segment ${commit.segment?.sid} of ${commit.vid}@${commit.lsn}`);
    for (const [idx, page] of decodeFrame(bytes, frame.pages)) pages.set(idx, page);
  }
  store.putPagesSync((commit.segment as NonNullable<Commit['segment']>).sid, pages);
  stats.framesFetched += fetched.length;
  stats.pagesFetched += pages.size;
  return pages;
}

async function fetched(commit: Commit, pageIdx: PageIdx, request: () => Promise<Uint8Array>): Promise<Uint8Array> {
  try {
    return await request();
  } catch (e) {
    throw offline(commit, pageIdx, e);
  }
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
