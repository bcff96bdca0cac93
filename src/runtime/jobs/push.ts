import { getLogger } from '@logtape/logtape';
import {
  assert, Commit, computeCommitHash, computeReferenceHash, deflateWithFflate, isUploadedSegment, FRAME_MAX_PAGES, groupBy, isScionError, LatestHint, LSN, PageCount, PageSet, ScionError, SegmentId, Snapshot, encodeSegment,
  Graft, type Deflate, type Page, type PageIdx, type PendingCommit, type VolumeId,
} from '../../core/index.ts';
import type { JobProgress, PushResult } from '../../protocol/index.ts';
import type { FramePlan, JobContext } from '../job-context.ts';
import { heldCommits } from '../held-commits.ts';
import { fetchLog, isPrunedGap, logEndRequests } from './fetch-log.ts';
import { heldTail, publishLatest, readLatestHint, TAIL_MAX_BYTES, tailBytes } from './latest.ts';
import { hydrateSnapshot } from './hydrate.ts';
import { adoptAbandoned, recoverPendingCommit } from './recover.ts';

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

  // Build everything before the first request, so every URL the push needs is signed in one round trip.
  const range = { start: LSN.next(watermark), end: localLatest };
  // Only pages the local commits wrote, never the remote base. They are local by definition, except
  // in a fork, whose copied commits name segments in the bucket: fetch just those if missing.
  const { onProgress } = options;
  const toPush = planPushPages(ctx, graft, range);
  await hydrateSnapshot(ctx, localSnapshot(ctx, graft, range), {
    pages: toPush.upload,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(onProgress ? { onProgress: (p) => onProgress({ phase: 'download', done: p.framesDone, total: p.framesTotal, bytes: p.bytes }) } : {}),
  });
  const { pageCount, pages } = readPushPages(ctx, toPush);
  // A fork's first push: its commits 1..n name the segments it shares with its ancestors (carried
  // by the checkpoint of commit n + 1, which holds the pages written since the fork).
  const references = referenceCommits(graft.remote, toPush.references);
  // Its fork record (the ancestors its commits name) lets readers of the fork alone read them.
  const forkOf = references.length > 0 ? ancestorsOf(graft.remote, references).ancestors : undefined;
  const lsn = references.length > 0 ? LSN.parse(references.length + 1) : LSN.next(graft.sync?.remote);
  // WebCrypto hashes off the thread, so the commit hash costs nothing beside the compression.
  const [hash, built] = await settleBoth(computeCommitHash(graft.remote, lsn, pageCount, pages), pages.length > 0 ? buildSegment(ctx, pages) : Promise.resolve(undefined));
  let sid = SegmentId.random(ctx.ids);
  const commitWith = (id: SegmentId, checkpoint: Commit[] | undefined): Commit => ({
    vid: graft.remote, lsn, pageCount, hash,
    ...(built ? { segment: { sid: id, home: graft.remote, pages: built.pages, frames: built.frames, hotFrames: built.hotFrames } } : {}),
    ...(checkpoint ? { checkpoint, ...ancestorsOf(graft.remote, checkpoint) } : {}),
  });
  // A checkpoint when the hint could not carry the commits after the last one: too many, too big, or
  // not held. The newest checkpoint known comes from hints this runtime read or wrote; after a
  // restart it reads the hint beside the probe of the next LSN (same round trip).
  const base = graft.sync?.remote ?? 0;
  const plan = (id: SegmentId) => {
    const tail = heldTail(ctx, graft.remote, base);
    if (references.length > 0) return { commit: commitWith(id, references), hint: { vid: graft.remote, lsn, checkpoint: lsn, tail: [] } };
    const plain = commitWith(id, undefined);
    if (base === 0 || (tail && tailBytes([...tail.tail, plain]) <= TAIL_MAX_BYTES)) {
      return { commit: plain, hint: { vid: graft.remote, lsn, checkpoint: tail?.checkpoint ?? 0, tail: [...(tail?.tail ?? []), plain] } };
    }
    const commit = commitWith(id, checkpointBelow(ctx, graft.remote, base as LSN, pageCount, built?.pages ?? PageSet.EMPTY));
    return { commit, hint: { vid: graft.remote, lsn, checkpoint: lsn, tail: [] } };
  };
  const known = base === 0 || ctx.checkpoints.has(graft.remote);
  let planned = known ? plan(sid) : undefined;
  await ctx.remote
    .prepare?.([
      ...logEndRequests(graft.remote, LSN.next(ctx.store.latestLsnSync(graft.remote))),
      ...(built ? [{ op: 'putSegment' as const, vid: graft.remote, sid, bytes: built.bytes }] : []),
      ...(forkOf ? [{ op: 'putFork' as const, vid: graft.remote, ancestors: forkOf }] : []),
      ...(planned ? [
        { op: 'putCommit' as const, vid: graft.remote, lsn, bytes: Commit.encode(planned.commit) },
        { op: 'putLatest' as const, vid: graft.remote, bytes: LatestHint.encode(planned.hint) },
      ] : []),
    ], options)
    .catch((e: unknown) => logger.warn('could not prepare the push: {message}', { message: (e as Error).message }));

  // Round trip 2: the probe for a commit at our LSN (and, when this runtime does not know the newest
  // checkpoint, the latest hint: if it cannot be read, this commit is a checkpoint) beside the segment
  // upload. A segment no commit names is harmless (remote GC deletes it after its grace period), so a
  // divergence the probe finds wastes the upload, nothing else.
  const hintRead = known ? undefined : readLatestHint(ctx, graft.remote, options.signal).catch((e: unknown) => {
    if (options.signal?.aborted || !isScionError(e)) throw e;
    logger.warn('could not read the latest hint of {vid}: {message}', { vid: graft.remote, message: e.message });
  });
  const bytes = built?.bytes.byteLength ?? 0;
  onProgress?.({ phase: 'upload', done: 0, total: bytes, bytes: 0 });
  let probedAt = ctx.ids.now();
  let uploaded: SegmentId;
  try {
    [, uploaded] = await settleBoth(
      Promise.all([fetchLog(ctx, graft.remote, { ...options, prepared: true }), hintRead, forkOf && ctx.remote.putFork(graft.remote, forkOf, options)]),
      built ? uploadSegment(ctx, graft.remote, sid, built.bytes, options.signal) : Promise.resolve(sid),
    );
  } catch (e) {
    if (!isPrunedGap(e)) throw e;
    return diverged(ctx, vid, e.message);
  }
  if ((ctx.store.latestLsnSync(graft.remote) ?? 0) > base) {
    // Our own abandoned push may have landed late at our LSN: then only the commits after it are left.
    const adopted = await adoptAbandoned(ctx, vid);
    if (adopted) return pushRest(ctx, vid, adopted, options);
    return diverged(ctx, vid);
  }
  onProgress?.({ phase: 'upload', done: bytes, total: bytes, bytes });
  if (uploaded !== sid) planned = undefined;
  sid = uploaded;
  const { commit, hint } = planned ?? plan(sid);
  // The commit PUT follows its probe closely (remote GC's pruning relies on it, see PROBE_FRESH_MS).
  if (ctx.ids.now() - probedAt > PROBE_FRESH_MS) {
    await fetchLog(ctx, graft.remote, options);
    probedAt = ctx.ids.now();
    if ((ctx.store.latestLsnSync(graft.remote) ?? 0) > base) return diverged(ctx, vid);
  }
  const pending = { local: localLatest, remote: lsn, hash };
  await ctx.saveGraft({ ...ctx.mustGetGraft(vid), pending });
  onProgress?.({ phase: 'commit', done: 0, total: 1, bytes });
  // Round trip 3: the commit, written only once its segment exists.
  const outcome = await ctx.remote.putCommit(graft.remote, lsn, Commit.encode(commit), options);
  if (outcome === 'exists') {
    // Recovery writes the hint when the commit is ours.
    const recovered = await recoverPendingCommit(ctx, vid, options);
    if (typeof recovered === 'object') return pushRest(ctx, vid, recovered.adopted, options);
    if (recovered !== 'landed') return diverged(ctx, vid);
  } else {
    await landCommit(ctx, vid, commit, pages, pending);
    // Round trip 4: the hint, only after the commit landed (clones trust its tail). It may lag the
    // log (fetches probe past it), so an abort that cuts it short does not fail the landed push.
    await publishLatest(ctx, hint, options.signal).catch((e: unknown) => {
      if (!options.signal?.aborted) throw e;
    });
  }
  return { outcome: 'pushed', remoteLsn: lsn, localLsn: localLatest, pages: pages.length, bytes };
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
export async function landCommit(ctx: JobContext, vid: VolumeId, commit: Commit, pages: readonly (readonly [PageIdx, Page])[], covered: PendingCommit): Promise<void> {
  const graft = ctx.mustGetGraft(vid);
  assert(covered.remote === commit.lsn && covered.hash === commit.hash && Graft.unlanded(graft).some((u) => u.local === covered.local && u.remote === covered.remote && u.hash === covered.hash), `landing ${commit.vid}@${commit.lsn} without its pending commit`);
  if (!ctx.store.getCommitSync(commit.vid, commit.lsn)) {
    // A fork's first commit starts the log at its checkpoint (the commits below it are only in it).
    if (ctx.store.latestLsnSync(commit.vid) === undefined && commit.lsn > LSN.FIRST && commit.checkpoint) ctx.store.startLogSync(commit.vid, commit.lsn, [...commit.checkpoint, commit]);
    else ctx.store.appendCommitsSync([{ commit }]);
  }
  // A concurrent fetch may have stored the commit first: either way its pages are ours to hold.
  const sid = ctx.store.getCommitSync(commit.vid, commit.lsn)?.segment?.sid;
  if (sid && pages.length > 0) {
    const local = rangeSnapshot(ctx, graft, { start: LSN.next(graft.sync?.localWatermark), end: covered.local });
    const sources = new Map<PageIdx, SegmentId>();
    for (const [idx] of pages) {
      const source = ctx.locatePage(local, idx)?.segment?.sid;
      if (source) sources.set(idx, source);
    }
    const linked = ctx.store.linkPagesSync(sid, sources);
    // Pages not held locally (none, unless evicted meanwhile) are written from the pushed bytes.
    const rest = pages.filter(([idx]) => !linked.has(idx) && !ctx.store.hasPageSync(sid, idx));
    if (rest.length > 0) ctx.store.putPagesSync(sid, new Map(rest));
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

/** The newest version of every page the push uploads, read by segment (pages written together come back in a few large reads). */
function readPushPages(ctx: JobContext, { snapshot, upload }: PushPages): { pageCount: PageCount; pages: [PageIdx, Page][] } {
  const bySegment = groupBy(upload, (idx) => ctx.locatePage(snapshot, idx)?.segment?.sid);
  const held = new Map<PageIdx, Page>();
  for (const [sid, idxs] of bySegment) for (const [idx, page] of ctx.store.readPagesSync(sid, idxs)) held.set(idx, page);
  const pages = [...upload].map((idx) => [idx, held.get(idx) ?? ctx.readPage(snapshot, idx)] as [PageIdx, Page]);
  return { pageCount: snapshot.pageCount, pages };
}

/** The pages a push of `range` uploads (see planPushPages), with their bytes. */
export function collectPushPages(ctx: JobContext, graft: Graft, range: { start: LSN; end: LSN }): { pageCount: PageCount; pages: [PageIdx, Page][] } {
  return readPushPages(ctx, planPushPages(ctx, graft, range));
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

/** The push's pages as one segment: frames as the planner groups them, compressed, each with its digest. */
async function buildSegment(ctx: JobContext, pages: readonly (readonly [PageIdx, Page])[]) {
  const byIdx = new Map(pages);
  const plan = checkPlan(ctx.planFrames(byIdx), byIdx);
  const segment = await encodeSegment(plan.frames.map((group) => group.map((idx) => [idx, byIdx.get(idx) as Page] as const)), nativeDeflate);
  return { bytes: segment.bytes, frames: segment.frames, pages: PageSet.of(byIdx.keys()), hotFrames: plan.hotFrames };
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

function checkPlan(plan: FramePlan, pages: ReadonlyMap<PageIdx, Page>): FramePlan {
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

/** Raw DEFLATE through the platform's CompressionStream (native code) where it exists, else fflate. */
export const nativeDeflate: Deflate = typeof CompressionStream === 'function'
  ? async (raw) => new Uint8Array(await new Response(new Blob([raw as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('deflate-raw'))).arrayBuffer())
  : deflateWithFflate;

/** Default frames: ascending runs of 64 pages, none marked hot. */
export function planSequentialFrames(pages: ReadonlyMap<PageIdx, Page>): FramePlan {
  return { frames: chunkFrames([...pages.keys()].sort((a, b) => a - b)), hotFrames: 0 };
}

/** Splits ordered pages into frames of at most 64. */
export function chunkFrames(ordered: readonly PageIdx[]): PageIdx[][] {
  const groups: PageIdx[][] = [];
  for (let i = 0; i < ordered.length; i += FRAME_MAX_PAGES) groups.push(ordered.slice(i, i + FRAME_MAX_PAGES));
  return groups;
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
