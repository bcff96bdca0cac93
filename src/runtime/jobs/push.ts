import { getLogger } from '@logtape/logtape';
import {
  assert, Commit, computeCommitHashStreamed, computeReferenceHash, deflateWithFflate, isUploadedSegment, FRAME_MAX_PAGES, groupBy, isScionError, LatestHint, LSN, PAGE_SIZE, PageCount, PageSet, ScionError, SegmentId, Snapshot,
  Graft, type CommitHash, type Deflate, type FrameRef, type Page, type PageIdx, type PendingCommit, type RemoteFork, type SegmentPart, type SegmentRef, type VolumeId,
} from '../../core/index.ts';
import type { JobProgress, PushResult } from '../../protocol/index.ts';
import type { PlannedRequest } from '../../remote/index.ts';
import type { FramePlan, JobContext, PageLookup } from '../job-context.ts';
import { heldCommits } from '../held-commits.ts';
import { fetchLog, isPrunedGap, LOG_END_TRUST_MS, logEndRequests } from './fetch-log.ts';
import { heldTail, readLatestHint, TAIL_MAX_BYTES, tailBytes } from './latest.ts';
import { hydrateSnapshot } from './hydrate.ts';
import { adoptAbandoned, recoverPendingCommit } from './recover.ts';
import { streamSegment } from './segment-stream.ts';
import { windowedReader } from './windowed-reader.ts';

const logger = getLogger(['scion', 'runtime']);

export const DIVERGED_WAYS_OUT = ['reset', 'fork'] as const;

/**
 * Longest time between the start of a push's probe of its LSN and its commit PUT; past it the push
 * probes again. With the URL's expiry this bounds how late a create-only commit PUT can land after
 * a probe that found the LSN free, which remote GC's pruning of old commit records relies on
 * (MIN_PRUNE_GRACE_MS).
 */
export const PROBE_FRESH_MS = 5 * 60 * 1000;

export interface PushOptions {
  signal?: AbortSignal | undefined;
  /** `download` (a fork's pages not held locally), `upload` (the segment's bytes), then `commit`. */
  onProgress?: ((p: JobProgress) => void) | undefined;
}

/**
 * Collapses the graft's unpushed local commits into one segment and one remote commit at
 * sync point + 1. The pending commit is recorded durably before the commit PUT, so a crash or a
 * lost response is resolved by recovery (here on the next push or pull, or at startup).
 */
export async function pushGraft(ctx: JobContext, vid: VolumeId, options: PushOptions = {}): Promise<PushResult> {
  if (ctx.mustGetGraft(vid).pending) {
    const recovered = await recoverPendingCommit(ctx, vid, options);
    if (recovered === 'diverged') return diverged(ctx, vid);
  }
  const graft = ctx.mustGetGraft(vid);
  const localLatest = ctx.store.latestLsnSync(graft.local);
  const watermark = graft.sync?.localWatermark;
  if (localLatest === undefined || localLatest <= (watermark ?? 0)) {
    // Nothing to push; a log pruned past what is held is the next pull's to restart.
    await fetchLog(ctx, graft.remote, options).catch((e: unknown) => {
      if (!isPrunedGap(e)) throw e;
    });
    return { outcome: 'up-to-date' };
  }

  const range = { start: LSN.next(watermark), end: localLatest };
  // Only pages the local commits wrote, never the remote base. They are local by definition, except
  // in a fork, whose copied commits name segments in the bucket: fetch just those if missing.
  const toPush = planPushPages(ctx, graft, range);
  // The push reads its pages as it goes (frames, hash, landing): local GC keeps them meanwhile.
  const release = ctx.retainSnapshot(toPush.snapshot);
  try {
    return await pushRange(ctx, vid, graft, range, toPush, options);
  } finally {
    release();
  }
}

/** The push of local commits `range`, its pages retained. */
async function pushRange(ctx: JobContext, vid: VolumeId, graft: Graft, range: { start: LSN; end: LSN }, toPush: PushPages, options: PushOptions): Promise<PushResult> {
  const { onProgress, signal } = options;
  const localLatest = range.end;
  await hydrateSnapshot(ctx, localSnapshot(ctx, graft, range), {
    pages: toPush.upload,
    ...(signal ? { signal } : {}),
    ...(onProgress ? { onProgress: (p) => onProgress({ phase: 'download', done: p.framesDone, total: p.framesTotal, bytes: p.bytes }) } : {}),
  });
  const source = pushPageSource(ctx, toPush);
  // A fork's first push: its commits 1..n name the segments it shares with its ancestors (carried
  // by the checkpoint of commit n + 1, which holds the pages written since the fork).
  const references = referenceCommits(graft.remote, toPush.references);
  // Its fork record (the ancestors its commits name) lets readers of the fork alone read them.
  const forkOf = references.length > 0 ? forkRecordOf(graft.remote, references) : undefined;
  const lsn = references.length > 0 ? LSN.parse(references.length + 1) : LSN.next(graft.sync?.remote);
  const base = graft.sync?.remote ?? 0;
  // The newest checkpoint known comes from hints this runtime read or wrote; after a restart the
  // push reads the hint beside the probe of the next LSN (same round trip).
  const known = base === 0 || ctx.checkpoints.has(graft.remote);

  // The probe of the next LSN (and the hint, when the newest checkpoint is unknown) runs beside the
  // first segment upload. A segment no commit names is harmless (remote GC deletes it after its
  // grace period), so a divergence the probe finds wastes the upload, nothing else. A small push
  // whose checkpoint is known needs no probe: its create-only commit PUT is one.
  let probe: Promise<unknown> | undefined;
  let probePrepared = false;
  let probeStartedAt = 0;
  const startProbe = () => {
    if (!probe) {
      probeStartedAt = ctx.ids.now();
      probe = Promise.all([
        fetchLog(ctx, graft.remote, { ...options, prepared: probePrepared }),
        // A fork's record, before its first commit names the ancestors' segments.
        forkOf && ctx.remote.putFork(forkOf, options),
        known ? undefined : readLatestHint(ctx, graft.remote, signal).catch((e: unknown) => {
          if (signal?.aborted || !isScionError(e)) throw e;
          logger.warn('could not read the latest hint of {vid}: {message}', { vid: graft.remote, message: e.message });
        }),
      ]);
      // Awaited below; a failure meanwhile is not unhandled.
      probe.catch(() => undefined);
    }
    return probe;
  };
  // The commit hash reads the pages ascending, a chunk at a time, beside the frames and the uploads.
  const hashing = computeCommitHashStreamed(graft.remote, lsn, source.pageCount, source.pages.size, source.chunks());
  let uploaded = 0;
  onProgress?.({ phase: 'upload', done: 0, total: undefined, bytes: 0 });
  const plan = source.pages.size > 0 ? checkPlan(ctx.planFrames(source.lazy()), source.pages) : undefined;

  const checkpointOf = () => checkpointBelow(ctx, graft.remote, base as LSN, source.pageCount, source.pages);
  const commitWith = (hash: CommitHash, segment: SegmentRef | undefined, checkpoint: Commit[] | undefined): Commit => ({
    vid: graft.remote, lsn, pageCount: source.pageCount, hash,
    ...(segment ? { segment } : {}),
    ...(checkpoint ? { checkpoint, ...ancestorsOf(graft.remote, checkpoint) } : {}),
  });
  const segmentOf = (frames: readonly FrameRef[], sid: SegmentId, parts?: SegmentPart[]): SegmentRef | undefined => plan && {
    sid, home: graft.remote, pages: source.pages, frames, hotFrames: plan.hotFrames, ...(parts ? { parts } : {}),
  };
  // Several parts: the segment's local id is its own (the parts are objects, it is their sum).
  const partsSegment = (frames: readonly FrameRef[], parts: SegmentPart[]) => (parts.length === 1 ? segmentOf(frames, (parts[0] as SegmentPart).sid) : segmentOf(frames, SegmentId.random(ctx.ids), parts));

  // A segment in parts, the checkpoint known: the commit is planned once the last part is built and
  // signed beside that part's upload (the ids the parts go under are chosen before), so no presign
  // round trip waits between the last part and the commit PUT.
  const partIds: SegmentId[] = [];
  let early: Promise<{ landing: Landing; parts: SegmentPart[] }> | undefined;
  const streaming = plan
    ? streamSegment({
      frames: plan.frames,
      read: (idxs) => source.read(idxs),
      deflate: nativeDeflate,
      upload: (bytes) => {
        void startProbe();
        const sid = SegmentId.random(ctx.ids);
        partIds.push(sid);
        return uploadSegment(ctx, graft.remote, sid, bytes, signal);
      },
      onBuilt: ({ frames, partFrames }) => {
        if (!known || references.length > 0) return;
        const parts = partFrames.map((n, i) => ({ sid: partIds[i] as SegmentId, frames: n }));
        early = hashing.then(async (hash) => {
          const landing = planCommit(ctx, graft.remote, base, references, (checkpoint) => encoded(commitWith(hash, partsSegment(frames, parts), checkpoint)), checkpointOf);
          await prepare(ctx, [{ op: 'putCommit', vid: graft.remote, lsn, bytes: landing.bytes }, { op: 'putLatest', vid: graft.remote, bytes: LatestHint.encode(landing.hint) }], options);
          return { landing, parts };
        });
        // Awaited below; a failure meanwhile is not unhandled.
        early.catch(() => undefined);
      },
      onUploaded: (bytes) => {
        uploaded += bytes;
        onProgress?.({ phase: 'upload', done: uploaded, total: undefined, bytes: uploaded });
      },
      signal,
    })
    : Promise.resolve(undefined);
  const [hash, built] = await settleBoth(hashing, streaming).catch(async (e: unknown) => {
    // A failed push leaves nothing running behind it.
    await probe?.catch(() => undefined);
    await early?.catch(() => undefined);
    throw e;
  });
  const builtSegment = (sid: SegmentId) => built && segmentOf(built.frames, sid);
  // Small, and the checkpoint known (so the commit can be planned before any request): inline.
  // Its create-only PUT is then the probe, so it needs a log end seen lately: remote GC prunes only
  // records that landed more than LOG_END_TRUST_MS (and more) ago, so an LSN absent then was never pruned.
  const seen = ctx.logEnds.get(graft.remote);
  // (A first push, at LSN 1, goes to a volume this graft created: nobody else wrote, nothing was pruned.)
  const endSeen = base === 0 || (seen !== undefined && ctx.ids.now() - seen <= LOG_END_TRUST_MS);
  const inline = !forkOf && endSeen && built?.held && known && built.held.byteLength <= ctx.inlineMaxBytes ? built.held : undefined;
  const objectOf = (commit: Commit) => (inline ? Commit.withInlineFrames(commit, inline) : encoded(commit));
  const planned = (segment: SegmentRef | undefined) => planCommit(ctx, graft.remote, base, references, (checkpoint) => objectOf(commitWith(hash, segment, checkpoint)), checkpointOf);

  let landing: Landing | undefined;
  if (inline) {
    // Small: the frames travel inside the commit object. Round 1 signs the commit and the hint;
    // round 2 is the commit PUT, which is also the probe.
    landing = planned(builtSegment(SegmentId.random(ctx.ids)));
    await prepare(ctx, [{ op: 'putCommit', vid: graft.remote, lsn, bytes: landing.bytes }, { op: 'putLatest', vid: graft.remote, bytes: LatestHint.encode(landing.hint) }], options);
  } else {
    let sid: SegmentId | undefined;
    if (built?.held) {
      // One object: sign its PUT with the probe, the commit and the hint in one round trip, then the
      // probe beside the upload, then the commit.
      sid = SegmentId.random(ctx.ids);
      landing = known ? planned(builtSegment(sid)) : undefined;
      await prepare(ctx, [
        ...logEndRequests(graft.remote, LSN.next(ctx.store.latestLsnSync(graft.remote))),
        { op: 'putSegment', vid: graft.remote, sid, bytes: built.held },
        ...(forkOf ? [{ op: 'putFork' as const, fork: forkOf }] : []),
        ...(landing ? [
          { op: 'putCommit' as const, vid: graft.remote, lsn, bytes: landing.bytes },
          { op: 'putLatest' as const, vid: graft.remote, bytes: LatestHint.encode(landing.hint) },
        ] : []),
      ], options);
      probePrepared = true;
      const held = built.held;
      const [probed, landed] = await settleBoth(startProbe().then(() => undefined, prunedOrThrow), uploadSegment(ctx, graft.remote, sid, held, signal));
      if (probed) return diverged(ctx, vid, probed);
      uploaded += held.byteLength;
      if (landed !== sid) landing = undefined;
      sid = landed;
    } else {
      const probed = await startProbe().then(() => undefined, prunedOrThrow);
      if (probed) return diverged(ctx, vid, probed);
    }
    if ((ctx.store.latestLsnSync(graft.remote) ?? 0) > base) {
      // Our own abandoned push may have landed late at our LSN: then only the commits after it are left.
      const adopted = await adoptAbandoned(ctx, vid);
      if (adopted) return pushRest(ctx, vid, adopted, options);
      return diverged(ctx, vid);
    }
    const parts = built?.parts;
    // The early plan holds if every part landed under the id it was planned with (a retry takes a fresh one).
    const plannedEarly = await early;
    if (plannedEarly && parts && plannedEarly.parts.every((p, i) => p.sid === parts[i]?.sid)) landing ??= plannedEarly.landing;
    landing ??= parts ? planned(built && partsSegment(built.frames, parts)) : planned(sid && builtSegment(sid));
    // The commit PUT follows its probe closely (remote GC's pruning relies on it, see PROBE_FRESH_MS).
    if (ctx.ids.now() - probeStartedAt > PROBE_FRESH_MS) {
      const probed = await fetchLog(ctx, graft.remote, options).then(() => undefined, prunedOrThrow);
      if (probed) return diverged(ctx, vid, probed);
      if ((ctx.store.latestLsnSync(graft.remote) ?? 0) > base) return diverged(ctx, vid);
    }
  }
  // Inline frames are sent with the commit.
  const sent = uploaded + (inline?.byteLength ?? 0);
  onProgress?.({ phase: 'upload', done: sent, total: sent, bytes: sent });
  const { commit, bytes: commitBytes, hint } = landing;
  const pending = { local: localLatest, remote: lsn, hash };
  await ctx.saveGraft({ ...ctx.mustGetGraft(vid), pending });
  onProgress?.({ phase: 'commit', done: 0, total: 1, bytes: sent });
  // The commit, written only once its segment exists (or carrying its frames).
  const outcome = await ctx.remote.putCommit(graft.remote, lsn, commitBytes, options);
  if (outcome === 'exists') {
    // Recovery writes the hint when the commit is ours.
    const recovered = await recoverPendingCommit(ctx, vid, options);
    if (typeof recovered === 'object') return pushRest(ctx, vid, recovered.adopted, options);
    if (recovered !== 'landed') return diverged(ctx, vid);
  } else {
    // The create-only PUT found the LSN free: the log's end, seen now.
    ctx.logEnds.set(graft.remote, ctx.ids.now());
    await landCommit(ctx, vid, commit, source, pending);
    // The hint only after the commit landed (clones trust its tail), and off the push's critical
    // path: the push is durable now, a lagging hint costs readers round trips, and the next push (or
    // recovery) writes a newer one.
    ctx.hints.publish(ctx, hint);
  }
  return { outcome: 'pushed', remoteLsn: lsn, localLsn: localLatest, pages: source.pages.size, bytes: sent };
}

/** A planned commit: the record, its object's bytes, and the hint to write once it landed. */
type Landing = { commit: Commit; bytes: Uint8Array; hint: LatestHint };

/** A commit's object without inline frames. */
const encoded = (commit: Commit) => ({ commit, bytes: Commit.encode(commit) });

/**
 * The commit object and hint of a push at `base` + 1. A checkpoint when the hint could not carry the
 * commits after the last one: too many, too big, or not held (see heldTail); a fork's first push is
 * one (its references). `object` encodes the commit with the checkpoint given.
 */
function planCommit(
  ctx: JobContext, vid: VolumeId, base: number, references: readonly Commit[],
  object: (checkpoint: Commit[] | undefined) => { commit: Commit; bytes: Uint8Array }, checkpoint: () => Commit[],
): Landing {
  const checkpointed = (list: Commit[]) => {
    const o = object(list);
    return { ...o, hint: { vid, lsn: o.commit.lsn, checkpoint: o.commit.lsn, tail: [] } };
  };
  if (references.length > 0) return checkpointed([...references]);
  const tail = heldTail(ctx, vid, base);
  const plain = object(undefined);
  if (base === 0 || (tail && tailBytes([...tail.tail, plain.commit]) <= TAIL_MAX_BYTES)) {
    return { ...plain, hint: { vid, lsn: plain.commit.lsn, checkpoint: tail?.checkpoint ?? 0, tail: [...(tail?.tail ?? []), plain.commit] } };
  }
  return checkpointed(checkpoint());
}

/** Signs the push's next requests in one presign round trip; failing it fails nothing (each request signs itself then). */
async function prepare(ctx: JobContext, requests: readonly PlannedRequest[], options: PushOptions): Promise<void> {
  await ctx.remote.prepare?.(requests, options).catch((e: unknown) => logger.warn('could not prepare the push: {message}', { message: (e as Error).message }));
}

/**
 * An abandoned push of ours was found landed late (`adopted`, now the sync point): push the local
 * commits after it. If there are none, the late commit is what this push delivered.
 */
async function pushRest(ctx: JobContext, vid: VolumeId, adopted: Commit, options: PushOptions): Promise<PushResult> {
  const rest = await pushGraft(ctx, vid, options);
  if (rest.outcome !== 'up-to-date') return rest;
  const localLsn = ctx.mustGetGraft(vid).sync?.localWatermark;
  assert(localLsn !== undefined, `landed ${adopted.vid}@${adopted.lsn} without a push watermark`);
  return { outcome: 'pushed', remoteLsn: adopted.lsn, localLsn, pages: adopted.segment?.pages.size ?? 0, bytes: 0 };
}

/**
 * The push `covered` succeeded (its pending commit, or an abandoned one that landed late): store the
 * remote commit, holding its pages as the very local pages it was made of (linked, not written
 * again) so reads after the push stay local, move the sync point to it, and clear the pending and
 * abandoned commits (the LSN is decided). Idempotent, so recovery can repeat it.
 */
export async function landCommit(ctx: JobContext, vid: VolumeId, commit: Commit, source: PushPageSource, covered: PendingCommit): Promise<void> {
  const graft = ctx.mustGetGraft(vid);
  assert(covered.remote === commit.lsn && covered.hash === commit.hash && Graft.unlanded(graft).some((u) => u.local === covered.local && u.remote === covered.remote && u.hash === covered.hash), `landing ${commit.vid}@${commit.lsn} without its pending commit`);
  if (!ctx.store.getCommitSync(commit.vid, commit.lsn)) {
    // A fork's first commit starts the log at its checkpoint (the commits below it are only in it).
    if (ctx.store.latestLsnSync(commit.vid) === undefined && commit.lsn > LSN.FIRST && commit.checkpoint) ctx.store.startLogSync(commit.vid, commit.lsn, [...commit.checkpoint, commit]);
    else ctx.store.appendCommitsSync([{ commit }]);
  }
  // A concurrent fetch may have stored the commit first: either way its pages are ours to hold.
  const sid = ctx.store.getCommitSync(commit.vid, commit.lsn)?.segment?.sid;
  if (sid && source.pages.size > 0) {
    const local = rangeSnapshot(ctx, graft, { start: LSN.next(graft.sync?.localWatermark), end: covered.local });
    const sources = new Map<PageIdx, SegmentId>();
    for (const idx of source.pages) {
      const held = ctx.locatePage(local, idx)?.segment?.sid;
      if (held) sources.set(idx, held);
    }
    const linked = ctx.store.linkPagesSync(sid, sources);
    // Pages not held locally (none, unless evicted meanwhile) are written from the pushed pages.
    const rest = [...source.pages].filter((idx) => !linked.has(idx) && !ctx.store.hasPageSync(sid, idx));
    if (rest.length > 0) ctx.store.putPagesSync(sid, new Map(source.read(rest)));
  }
  await ctx.saveGraft({ ...graft, sync: { remote: commit.lsn, localWatermark: covered.local }, pending: undefined, abandoned: undefined });
}

/**
 * The checkpoint a commit after remote LSN `below` carries: the commits of the remote log up to
 * `below` holding a page visible in `pageCount` pages that the new commit (writing `written`) does not
 * overwrite, ascending — with it, the volume's whole page index.
 */
function checkpointBelow(ctx: JobContext, vid: VolumeId, below: LSN, pageCount: PageCount, written: PageSet): Commit[] {
  const snapshot: Snapshot = { pageCount, path: [{ vid, start: LSN.FIRST, end: below }] };
  const holders = new Map<LSN, Commit>();
  for (let idx = 1 as PageIdx; idx <= pageCount; idx++) {
    if (written.has(idx)) continue;
    const commit = ctx.locatePage(snapshot, idx);
    if (commit?.segment) holders.set(commit.lsn, commit);
  }
  return [...holders.values()].sort((a, b) => a.lsn - b.lsn).map(Commit.withoutCheckpoint);
}

/** The local commits `range` of the graft alone: the pages a push of that range uploads. */
function localSnapshot(ctx: JobContext, graft: Graft, range: { start: LSN; end: LSN }): Snapshot {
  return { pageCount: ctx.mustGetCommit(graft.local, range.end).pageCount, path: [{ vid: graft.local, start: range.start, end: range.end }] };
}

/** The snapshot of local commits `range` of the graft, on top of its remote base. */
export function rangeSnapshot(ctx: JobContext, graft: Graft, range: { start: LSN; end: LSN }): Snapshot {
  const path = [{ vid: graft.local, start: range.start, end: range.end }];
  if (graft.sync) path.push({ vid: graft.remote, start: LSN.FIRST, end: graft.sync.remote });
  return { pageCount: ctx.mustGetCommit(graft.local, range.end).pageCount, path };
}

/** What a push of local commits `range` carries: the pages it uploads, and the commits whose uploaded segments it names instead. */
export interface PushPages {
  readonly snapshot: Snapshot;
  /** Pages the local commits wrote whose newest version the push uploads. */
  readonly upload: PageSet;
  /** Local commits (ascending) holding the newest version of the other written pages in a segment of an ancestor. */
  readonly references: readonly Commit[];
}

/**
 * Splits the pages the local commits in `range` wrote (within the final page count): a graft's first
 * push after a fork references the segments of its ancestors already in the bucket (format 2, with
 * digests) and uploads the rest; every other push uploads every page.
 */
export function planPushPages(ctx: JobContext, graft: Graft, range: { start: LSN; end: LSN }): PushPages {
  const snapshot = rangeSnapshot(ctx, graft, range);
  let written = PageSet.EMPTY;
  for (const commit of heldCommits(ctx.store, { vid: graft.local, ...range })) written = written.union(Commit.pages(commit));
  const ancestors = graft.sync === undefined ? (graft.ancestors ?? []) : [];
  const upload: PageIdx[] = [];
  const references = new Map<LSN, Commit>();
  for (const idx of written.truncate(snapshot.pageCount)) {
    const commit = ancestors.length > 0 ? ctx.locatePage(snapshot, idx) : undefined;
    if (commit && isUploadedSegment(commit.segment) && ancestors.includes(commit.segment.home)) references.set(commit.lsn, commit);
    else upload.push(idx);
  }
  return { snapshot, upload: PageSet.of(upload), references: [...references.values()].sort((a, b) => a.lsn - b.lsn) };
}

/**
 * The pages a push uploads, read from the local store when needed: a large push never holds them
 * all (the frame planner reads them one by one, the frames and the commit hash read theirs in turn).
 */
export interface PushPageSource {
  readonly pageCount: PageCount;
  readonly pages: PageSet;
  /** The newest version of these pages, read by segment (pages written together come back in a few large reads). */
  read(idxs: Iterable<PageIdx>): Map<PageIdx, Page>;
  /** Every page, ascending, a few hundred at a time; between chunks of a large push, other tasks run. */
  chunks(): AsyncIterable<[PageIdx, Page][]>;
  /** Every page as a map that reads each one when asked (for the frame planner). */
  lazy(): PageLookup;
}

const CHUNK_PAGES = 256;

/** A push of at most this many bytes of pages reads them all at once (fewest store reads); a larger one reads them as it goes. */
const HELD_PAGES_BYTES = 64 * 1024 * 1024;

function pushPageSource(ctx: JobContext, pushPages: PushPages): PushPageSource {
  const streamed = streamedPageSource(ctx, pushPages);
  if (pushPages.upload.size * PAGE_SIZE > HELD_PAGES_BYTES) return streamed;
  const held = streamed.read(pushPages.upload);
  const all = [...held];
  return {
    pageCount: streamed.pageCount,
    pages: streamed.pages,
    read: (idxs) => new Map([...idxs].map((idx) => [idx, held.get(idx) as Page] as const)),
    chunks: () => chunked(all.length, (i, j) => all.slice(i, j)),
    lazy: () => held,
  };
}

function streamedPageSource(ctx: JobContext, { snapshot, upload }: PushPages): PushPageSource {
  const read = (idxs: Iterable<PageIdx>) => {
    const list = [...idxs];
    const held = new Map<PageIdx, Page>();
    for (const [sid, group] of groupBy(list, (idx) => ctx.locatePage(snapshot, idx)?.segment?.sid)) {
      if (sid) for (const [idx, page] of ctx.store.readPagesSync(sid, group)) held.set(idx, page);
    }
    return new Map(list.map((idx) => [idx, held.get(idx) ?? ctx.readPage(snapshot, idx)] as const));
  };
  const all = [...upload];
  return {
    pageCount: snapshot.pageCount,
    pages: upload,
    read,
    chunks: () => chunked(all.length, (i, j) => [...read(all.slice(i, j))]),
    lazy: () => lazyPages(upload, windowedReader(all, CHUNK_PAGES, read)),
  };
}

/** `take(i, j)` for consecutive runs of CHUNK_PAGES of `n`, yielding to other tasks (uploads, compression) between them. */
async function* chunked(n: number, take: (i: number, j: number) => [PageIdx, Page][]): AsyncIterable<[PageIdx, Page][]> {
  for (let i = 0; i < n; i += CHUNK_PAGES) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 0));
    yield take(i, i + CHUNK_PAGES);
  }
}

/** `pages` as a planner sees them, each read when asked for, never kept. */
function lazyPages(pages: PageSet, readOne: (idx: PageIdx) => Page): PageLookup {
  return {
    size: pages.size,
    has: (idx) => pages.has(idx),
    get: (idx) => (pages.has(idx) ? readOne(idx) : undefined),
    keys: () => pages[Symbol.iterator]() as MapIterator<PageIdx>,
  };
}

/** The pages a push of `range` uploads (see planPushPages), read when needed. */
export function collectPushPages(ctx: JobContext, graft: Graft, range: { start: LSN; end: LSN }): PushPageSource {
  return pushPageSource(ctx, planPushPages(ctx, graft, range));
}

/** The local commits a fork's first push references, as commits 1..n of `remote`: same segments, each hashed over its record (never its pages). */
function referenceCommits(remote: VolumeId, locals: readonly Commit[]): Commit[] {
  return locals.map((c, i) => {
    const commit: Commit = { vid: remote, lsn: LSN.parse(i + 1), pageCount: c.pageCount, segment: c.segment };
    return { ...commit, hash: computeReferenceHash(commit) };
  });
}

/** The volumes other than `vid` whose segments the checkpoint's commits name, as a commit's `ancestors` field. */
function ancestorsOf(vid: VolumeId, checkpoint: readonly Commit[]): { ancestors?: VolumeId[] } {
  const homes = new Set<VolumeId>();
  for (const c of checkpoint) if (c.segment?.home !== undefined && c.segment.home !== vid) homes.add(c.segment.home);
  return homes.size > 0 ? { ancestors: [...homes] } : {};
}

/**
 * The fork record a fork's first push writes: the ancestors its reference commits name and, for each,
 * exactly the commits whose inline frames they name (readers of the fork read those, no others).
 */
function forkRecordOf(vid: VolumeId, references: readonly Commit[]): RemoteFork {
  const inlineCommits: Partial<Record<VolumeId, LSN[]>> = {};
  for (const { segment } of references) {
    if (segment?.home === undefined || segment.home === vid || !segment.inline) continue;
    (inlineCommits[segment.home] ??= []).push(segment.inline.lsn);
  }
  return { vid, ancestors: ancestorsOf(vid, references).ancestors ?? [], inlineCommits };
}

async function uploadSegment(ctx: JobContext, vid: VolumeId, first: SegmentId, bytes: Uint8Array, signal?: AbortSignal): Promise<SegmentId> {
  // A create-only PUT that finds its key taken (a lost response of our own retry, or a clash of
  // random ids) is simply retried under a fresh id: segments are unreferenced until a commit names them.
  for (let attempt = 0, sid = first; attempt < 3; attempt++, sid = SegmentId.random(ctx.ids)) {
    if ((await ctx.remote.putSegment(vid, sid, bytes, { signal })) === 'created') return sid;
  }
  // Not a bug: a flaky network (each PUT landed, its response was lost, the retry got 412) looks like this.
  throw new ScionError('RemoteUnavailable', 'Three segment uploads in a row found their fresh id taken (lost responses retried, most likely). Retry the push.');
}

function checkPlan(plan: FramePlan, pages: PageSet): FramePlan {
  assert(plan.hotFrames >= 0 && plan.hotFrames <= plan.frames.length, `frame planner marked ${plan.hotFrames} hot frames of ${plan.frames.length}`);
  const seen = new Set<number>();
  for (const group of plan.frames) {
    assert(group.length > 0 && group.length <= FRAME_MAX_PAGES, `frame planner made a frame of ${group.length} pages`);
    for (const idx of group) {
      assert(pages.has(idx) && !seen.has(idx), `frame planner placed page ${idx} wrongly`);
      seen.add(idx);
    }
  }
  assert(seen.size === pages.size, 'frame planner left pages out');
  return plan;
}

/**
 * Raw DEFLATE through the platform's CompressionStream (native code) where it exists, else fflate.
 * The bytes are written into the stream directly: a Blob's stream would be read back through the
 * browser's blob storage (another process), which left a push's worker mostly waiting.
 */
export const nativeDeflate: Deflate = typeof CompressionStream === 'function'
  ? async (raw) => {
    const stream = new CompressionStream('deflate-raw');
    const writer = stream.writable.getWriter();
    // A failure of either shows on the readable, which the caller awaits.
    writer.write(raw as Uint8Array<ArrayBuffer>).catch(() => undefined);
    writer.close().catch(() => undefined);
    return new Uint8Array(await new Response(stream.readable).arrayBuffer());
  }
  : deflateWithFflate;

/** Default frames: ascending runs of 64 pages, none marked hot. */
export function planSequentialFrames(pages: PageLookup): FramePlan {
  return { frames: chunkFrames([...pages.keys()].sort((a, b) => a - b)), hotFrames: 0 };
}

/** Splits ordered pages into frames of at most 64. */
export function chunkFrames(ordered: readonly PageIdx[]): PageIdx[][] {
  const groups: PageIdx[][] = [];
  for (let i = 0; i < ordered.length; i += FRAME_MAX_PAGES) groups.push(ordered.slice(i, i + FRAME_MAX_PAGES));
  return groups;
}

/** A probe that found the remote log pruned past what this graft holds: its message (the push is diverged); any other failure is rethrown. */
function prunedOrThrow(e: unknown): string {
  if (!isPrunedGap(e)) throw e;
  return e.message;
}

function diverged(ctx: JobContext, vid: VolumeId, message?: string): PushResult {
  const graft = ctx.mustGetGraft(vid);
  return {
    outcome: 'diverged',
    ...(message ? { message } : {}),
    ahead: Graft.ahead(graft, ctx.store.latestLsnSync(graft.local)),
    behind: Graft.behind(graft, ctx.store.latestLsnSync(graft.remote)),
    waysOut: DIVERGED_WAYS_OUT,
  };
}

/** Both results once both have settled (neither is left running unobserved); the first failure otherwise. */
async function settleBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}
