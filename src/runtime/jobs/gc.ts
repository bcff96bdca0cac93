import { getLogger } from '@logtape/logtape';
import { groupBy, LSN, PAGE_SIZE, PageSet, Graft, type Commit, type PageIdx, type SegmentId, type Snapshot, type VolumeId } from '../../core/index.ts';
import type { LocalStore } from '../../local/index.ts';
import { heldCommits, isReadable } from '../held-commits.ts';
import type { LocalJobContext } from '../job-context.ts';

const logger = getLogger(['scion', 'gc']);

export interface LocalGcOptions {
  /** Keep at most this many bytes of re-fetchable cached pages. Default: no budget (drop only unreachable pages). */
  cacheBudgetBytes?: number;
  /**
   * The local history window: each graft's last this many local commits (and the same many remote
   * commits up to its sync point) stay checkout-able, and their pages are kept, pushed or not, so
   * checkouts of them read locally. Older history is squashed into a checkpoint — its commit records
   * go and checkouts of it throw CommitNotFound — and older versions go, also of unpushed commits (a
   * push sends only each page's newest version). Open checkouts and readers keep their own. Default 64.
   */
  historyCommits?: number;
}

export interface LocalGcResult {
  /** Pages dropped, also those of squashed commits. */
  readonly pagesEvicted: number;
  readonly pagesKept: number;
  /** Commit records forgotten by squashing history older than every retained snapshot (see squashBases). */
  readonly commitsSquashed: number;
}

/** What local GC must not drop, and what it may drop only over the budget. */
export interface LocalRetention {
  /**
   * Every graft with its latest snapshot. Kept: the newest version of each page its unpushed commits
   * wrote (what a push sends; older versions within the unpushed range are not needed for it), and the
   * pages of its history window. The rest of the latest snapshot is cached remote pages: re-fetchable,
   * dropped first over the budget. `latest` undefined (a fork being registered): every page of every
   * unpushed commit is kept.
   */
  readonly grafts: readonly { readonly graft: Graft; readonly latest: Snapshot | undefined }[];
  /** Snapshots whose pages are kept whatever the budget: open checkouts, readers of past snapshots. */
  readonly retained: readonly Snapshot[];
  /** Grafts (by local volume) a sync job is working on now: their logs are not squashed meanwhile. */
  readonly busy?: ReadonlySet<VolumeId> | undefined;
}

export const DEFAULT_HISTORY_COMMITS = 64;

/**
 * Local GC: evicts cached pages that nothing retained (LocalRetention) reaches, then, over the byte
 * budget, pages that can be fetched again from a remote. The store frees their slots at once (the
 * page file is cut after its last used slot) and moves pages into the holes in bounded steps
 * (`compactStepSync`), so GC never grows the store.
 */
export function collectLocalGarbage(ctx: LocalJobContext, keep: LocalRetention, options: LocalGcOptions = {}): LocalGcResult {
  const history = options.historyCommits ?? DEFAULT_HISTORY_COMMITS;
  const bases = squashBases(ctx.store, keep, history);
  const [commitsBefore, pagesBefore] = [ctx.store.statsSync().commits, ctx.store.statsSync().pages];
  if (bases.size > 0) ctx.store.squashSync(bases);
  const squashed = { commits: commitsBefore - ctx.store.statsSync().commits, pages: pagesBefore - ctx.store.statsSync().pages };
  const reachable = new PageMap();
  const pinned = new PageMap();
  const visit = (snapshot: Snapshot, place: (commit: Commit) => PageMap) => {
    for (let idx = 1 as PageIdx; idx <= snapshot.pageCount; idx++) {
      const commit = ctx.locatePage(snapshot, idx);
      if (commit?.segment) place(commit).add(commit.segment.sid, idx);
    }
  };
  for (const snapshot of keep.retained) visit(readablePart(ctx.store, snapshot), () => pinned);
  for (const { graft, latest } of keep.grafts) {
    const last = ctx.store.latestLsnSync(graft.local) ?? 0;
    const watermark = graft.sync?.localWatermark ?? 0;
    if (latest) visit(latest, (c) => (c.vid === graft.local && c.lsn > watermark ? pinned : reachable));
    const from = latest ? last - history + 1 : Math.min(watermark + 1, last - history + 1);
    if (last === 0) continue;
    for (const { local: end } of Graft.unlanded(graft)) {
      // An unlanded push (pending, or abandoned but able to land late): landing it re-reads the newest version of every page it sent.
      if (end > last) continue;
      visit({ pageCount: ctx.mustGetCommit(graft.local, end).pageCount, path: [Graft.unpushed(graft, end)].filter((r) => r !== undefined) }, () => pinned);
    }
    if (latest && history > 0) {
      // The window's oldest snapshot whole, so every checkout in the window reads locally.
      const start = Math.max(1, from, ctx.store.oldestLsnSync(graft.local) ?? 1) as LSN;
      visit({ pageCount: ctx.mustGetCommit(graft.local, start).pageCount, path: [{ vid: graft.local, start: LSN.FIRST, end: start }] }, (c) => (c.vid === graft.local ? pinned : reachable));
    }
    for (const { segment: seg } of heldCommits(ctx.store, { vid: graft.local, start: Math.max(1, from) as LSN, end: last as LSN })) {
      if (seg) for (const idx of seg.pages) pinned.add(seg.sid, idx);
    }
  }
  let kept = 0;
  const refetchable: [SegmentId, PageIdx][] = [];
  const drop: [SegmentId, PageIdx][] = [];
  for (const [sid, pages] of ctx.store.cachedPagesSync()) {
    for (const idx of pages) {
      if (pinned.has(sid, idx)) kept++;
      else if (reachable.has(sid, idx)) refetchable.push([sid, idx]);
      else drop.push([sid, idx]);
    }
  }
  const budgetPages = options.cacheBudgetBytes === undefined ? Infinity : Math.floor(options.cacheBudgetBytes / PAGE_SIZE);
  const over = Math.max(0, kept + refetchable.length - Math.max(budgetPages, kept));
  drop.push(...refetchable.slice(0, over));
  // One journal record for the whole collection.
  if (drop.length > 0) ctx.store.evictPagesSync(new Map([...groupBy(drop, ([sid]) => sid)].map(([sid, list]) => [sid, PageSet.of(list.map(([, idx]) => idx))])));
  const evicted = drop.length + squashed.pages;
  kept += refetchable.length - over;
  logger.info('local gc: {evicted} pages evicted, {kept} kept, {commits} commits squashed', { evicted, kept, commits: squashed.commits });
  return { pagesEvicted: evicted, pagesKept: kept, commitsSquashed: squashed.commits };
}

/**
 * Where each log may start after squashing: history older than every retained snapshot goes. Kept
 * checkout-able: the last `history` commits of each graft's local log and of its remote log up to
 * the sync point, every retained snapshot (open checkouts and readers), and unlanded pushes (pending or
 * abandoned: the local commits they cover stay as they were, so a late landing finds its pages). Grafts
 * being forked or synced are left alone. Unpushed commits older than the window are squashed too: a
 * push sends only each page's newest version, which the checkpoint keeps.
 */
export function squashBases(store: LocalStore, keep: LocalRetention, history: number): Map<VolumeId, LSN> {
  const limit = new Map<VolumeId, number>();
  const cap = (vid: VolumeId, lsn: number) => limit.set(vid, Math.min(limit.get(vid) ?? Infinity, Math.max(1, lsn)));
  const window = Math.max(1, history);
  for (const { graft, latest } of keep.grafts) {
    if (!latest || keep.busy?.has(graft.local)) {
      cap(graft.local, 1);
      cap(graft.remote, 1);
      continue;
    }
    cap(graft.local, (store.latestLsnSync(graft.local) ?? 0) - window + 1);
    for (const unlanded of Graft.unlanded(graft)) cap(graft.local, unlanded.local);
    cap(graft.remote, graft.sync ? graft.sync.remote - window + 1 : 1);
  }
  for (const snapshot of keep.retained) for (const range of snapshot.path) cap(range.vid, range.end);
  const bases = new Map<VolumeId, LSN>();
  for (const [vid, lsn] of limit) {
    const latest = store.latestLsnSync(vid);
    if (latest !== undefined && lsn > (store.oldestLsnSync(vid) ?? latest) && lsn <= latest) bases.set(vid, lsn as LSN);
  }
  return bases;
}

/**
 * What a retained snapshot still reads: its path up to the first log no longer held as far as the
 * snapshot reaches (its graft was deleted since, the volume dropped). A read reaching that log fails
 * with CommitNotFound, never zeros or other bytes, so the pages only it would show are kept for no one.
 */
function readablePart(store: LocalStore, snapshot: Snapshot): Snapshot {
  const gone = snapshot.path.findIndex((range) => !isReadable(store, range.vid, range.end));
  return gone < 0 ? snapshot : { pageCount: snapshot.pageCount, path: snapshot.path.slice(0, gone) };
}

class PageMap {
  readonly #map = new Map<SegmentId, Set<number>>();
  add(sid: SegmentId, idx: PageIdx): void {
    let set = this.#map.get(sid);
    if (!set) this.#map.set(sid, (set = new Set()));
    set.add(idx);
  }
  has(sid: SegmentId, idx: PageIdx): boolean {
    return this.#map.get(sid)?.has(idx) ?? false;
  }
}
