import { assert, Commit, LSN, PAGE_SIZE, type Page, type PageIdx, type PageSet, type SegmentId, type VolumeId } from '../core/index.ts';
import type { CommitEntry } from './local-store.ts';

/**
 * Commits of more pages than this are not spread into `versions` when added: lookups test their page
 * sets instead (a binary search each), so opening a large database builds no per-page entries.
 */
const DEFERRED_MIN_PAGES = 256;
/** Deferred commits a log keeps before it spreads the oldest into `versions`: bounds a lookup's scan. */
const DEFERRED_MAX = 16;

interface VolumeLog {
  /**
   * The oldest LSN whose snapshot the log holds (LSN 1 until history is squashed): every commit from
   * it on is held, in `commits` (commits[i] has LSN first + i).
   */
  first: LSN;
  commits: Commit[];
  /**
   * Commits below `first` that still hold the newest version (at `first`) of some page, ascending.
   * Together with `commits[0]` they summarize everything up to `first`: a checkpoint of the log.
   */
  older: Map<LSN, Commit>;
  newestOlder: LSN | 0;
  /**
   * For each page, the ascending LSNs of the held commits that wrote it, but for the deferred ones;
   * below `first` only the newest (so a lookup whose end is at or after `first` finds the right
   * version). A page written once holds its LSN itself, not an array.
   */
  readonly versions: Map<PageIdx, LSN | LSN[]>;
  /** Large commits whose pages are not in `versions` (at most DEFERRED_MAX), ascending LSN. */
  deferred: { lsn: LSN; pages: PageSet }[];
}

/**
 * The in-memory index every store rebuilds at open: commits by (volume, LSN), which commit last wrote
 * a page at or below an LSN, and how many commits reference each segment. A log may start at a
 * checkpoint (`squash`): its history before `first` is summarized by the commits still holding pages.
 */
export class CommitIndex {
  readonly #logs = new Map<VolumeId, VolumeLog>();
  readonly #segmentRefs = new Map<SegmentId, number>();
  #commitCount = 0;

  get commitCount(): number {
    return this.#commitCount;
  }

  latest(vid: VolumeId): LSN | undefined {
    const log = this.#logs.get(vid);
    return log && log.commits.length > 0 ? ((log.first + log.commits.length - 1) as LSN) : undefined;
  }

  /** The oldest LSN a snapshot of `vid` may end at: history before it was squashed. */
  oldest(vid: VolumeId): LSN | undefined {
    const log = this.#logs.get(vid);
    return log && log.commits.length > 0 ? log.first : undefined;
  }

  /** A held commit: every one from `oldest` on, and older ones that still hold a page newest at `oldest`. */
  get(vid: VolumeId, lsn: LSN): Commit | undefined {
    const log = this.#logs.get(vid);
    if (!log) return undefined;
    return lsn >= log.first ? log.commits[lsn - log.first] : log.older.get(lsn);
  }

  /** Every held commit, volume by volume in LSN order (the order `add` accepts them in after `start`). */
  all(): Commit[] {
    return [...this.#logs.values()].flatMap((log) => [...log.older.values(), ...log.commits]);
  }

  /** Logs that start after LSN 1, with their first LSN. */
  bases(): [VolumeId, LSN][] {
    return [...this.#logs].filter(([, log]) => log.first > LSN.FIRST).map(([vid, log]) => [vid, log.first]);
  }

  volumes(): VolumeId[] {
    return [...this.#logs.keys()];
  }

  /**
   * Checks a batch about to be appended: each commit valid and its volume's next LSN (counting the
   * batch), each carrying exactly its page set if it carries pages. Returns those pages in append
   * order (per commit, ascending). Throws Internal.
   */
  checkAppend(entries: readonly CommitEntry[]): Page[] {
    const next = new Map<VolumeId, LSN>();
    const pages: Page[] = [];
    for (const { commit, pages: held } of entries) {
      const expected = LSN.next(next.get(commit.vid) ?? this.latest(commit.vid));
      assert(commit.lsn === expected, `commit ${commit.vid}@${commit.lsn} appended where ${expected} was next`);
      next.set(commit.vid, commit.lsn);
      Commit.validate(commit);
      if (!held) continue;
      const set = Commit.pages(commit);
      assert(held.size === set.size, `commit ${commit.vid}@${commit.lsn} carries ${held.size} pages for a page set of ${set.size}`);
      for (const idx of set) {
        const page = held.get(idx);
        assert(page !== undefined && page.byteLength === PAGE_SIZE, `commit ${commit.vid}@${commit.lsn} lacks page ${idx}`);
        pages.push(page);
      }
    }
    return pages;
  }

  /** Starts an empty log at `first`: the commits `add`ed next are its checkpoint (LSNs below `first`, then `first`). */
  start(vid: VolumeId, first: LSN): void {
    assert(!this.#logs.has(vid), `log ${vid} started twice`);
    this.#logs.set(vid, emptyLog(first));
  }

  add(commit: Commit): void {
    let log = this.#logs.get(commit.vid);
    if (!log) this.#logs.set(commit.vid, (log = emptyLog(LSN.FIRST)));
    if (commit.lsn < log.first) {
      assert(log.commits.length === 0 && commit.lsn > log.newestOlder, `checkpoint commit ${commit.vid}@${commit.lsn} out of order`);
      log.newestOlder = commit.lsn;
      log.older.set(commit.lsn, commit);
    } else {
      assert(commit.lsn === log.first + log.commits.length, `commit ${commit.vid}@${commit.lsn} out of order`);
      log.commits.push(commit);
    }
    this.#commitCount++;
    if (!commit.segment) return;
    this.#segmentRefs.set(commit.segment.sid, (this.#segmentRefs.get(commit.segment.sid) ?? 0) + 1);
    const pages = commit.segment.pages;
    if (pages.size < DEFERRED_MIN_PAGES) return spread(log, commit.lsn, pages);
    log.deferred.push({ lsn: commit.lsn, pages });
    if (log.deferred.length > DEFERRED_MAX) {
      const oldest = log.deferred.shift() as { lsn: LSN; pages: PageSet };
      spread(log, oldest.lsn, oldest.pages);
    }
  }

  findVersion(vid: VolumeId, pageIdx: PageIdx, start: LSN, end: LSN): LSN | undefined {
    const log = this.#logs.get(vid);
    if (!log) return undefined;
    let found = newestUpTo(log.versions.get(pageIdx), end);
    for (let i = log.deferred.length - 1; i >= 0; i--) {
      const { lsn, pages } = log.deferred[i] as { lsn: LSN; pages: PageSet };
      if (lsn > end) continue;
      if ((found !== undefined && lsn <= found) || lsn < start) break;
      if (pages.has(pageIdx)) {
        found = lsn;
        break;
      }
    }
    return found !== undefined && found >= start ? found : undefined;
  }

  isSegmentReferenced(sid: SegmentId): boolean {
    return this.#segmentRefs.has(sid);
  }

  /**
   * Moves the log's start to `first` (≤ its latest LSN): commits below it that hold no page newest at
   * `first` are forgotten. Returns the segments no commit references any more.
   */
  squash(vid: VolumeId, first: LSN): SegmentId[] {
    const log = this.#logs.get(vid);
    const latest = this.latest(vid);
    assert(log !== undefined && latest !== undefined && first <= latest, `squashing ${vid} to ${first} past its latest commit ${latest}`);
    if (first <= log.first) return [];
    for (const { lsn, pages } of log.deferred) spread(log, lsn, pages);
    log.deferred = [];
    const live = new Set<LSN>();
    for (const [idx, versions] of log.versions) {
      if (typeof versions === 'number') {
        if (versions <= first) live.add(versions);
        continue;
      }
      const lsns = versions;
      let newest = -1;
      for (let i = lsns.length - 1; i >= 0; i--) if ((lsns[i] as LSN) <= first) {
        newest = i;
        break;
      }
      if (newest < 0) continue;
      live.add(lsns[newest] as LSN);
      if (newest === lsns.length - 1) log.versions.set(idx, lsns[newest] as LSN);
      else if (newest > 0) log.versions.set(idx, lsns.slice(newest));
    }
    const older = new Map<LSN, Commit>();
    const dropped: Commit[] = [];
    const below = [...log.older.values(), ...log.commits.slice(0, first - log.first)];
    for (const c of below) {
      if (live.has(c.lsn)) older.set(c.lsn, c);
      else dropped.push(c);
    }
    log.commits = log.commits.slice(first - log.first);
    log.older = older;
    log.newestOlder = [...older.keys()].at(-1) ?? 0;
    log.first = first;
    return this.#release(dropped);
  }

  /** Removes a volume's log; returns the segments no commit references any more. */
  drop(vid: VolumeId): SegmentId[] {
    const log = this.#logs.get(vid);
    if (!log) return [];
    this.#logs.delete(vid);
    return this.#release([...log.older.values(), ...log.commits]);
  }

  #release(commits: readonly Commit[]): SegmentId[] {
    this.#commitCount -= commits.length;
    const orphans: SegmentId[] = [];
    for (const c of commits) {
      if (!c.segment) continue;
      const left = (this.#segmentRefs.get(c.segment.sid) ?? 1) - 1;
      if (left > 0) this.#segmentRefs.set(c.segment.sid, left);
      else {
        this.#segmentRefs.delete(c.segment.sid);
        orphans.push(c.segment.sid);
      }
    }
    return orphans;
  }
}

function emptyLog(first: LSN): VolumeLog {
  return { first, commits: [], older: new Map(), newestOlder: 0, versions: new Map(), deferred: [] };
}

/** Adds `lsn` to the versions of `pages`, in LSN order whatever the order of the calls. */
function spread(log: VolumeLog, lsn: LSN, pages: PageSet): void {
  const { versions, first } = log;
  for (const [start, end] of pages.ranges()) {
    for (let idx: number = start; idx <= end; idx++) {
      const lsns = versions.get(idx as PageIdx);
      if (lsns === undefined) versions.set(idx as PageIdx, lsn);
      else if (typeof lsns === 'number') {
        // Below `first` only the newest version counts.
        if (lsn < first && lsns < first) versions.set(idx as PageIdx, Math.max(lsn, lsns) as LSN);
        else versions.set(idx as PageIdx, lsn < lsns ? [lsn, lsns] : [lsns, lsn]);
      } else insertVersion(lsns, lsn, first);
    }
  }
}

function insertVersion(lsns: LSN[], lsn: LSN, first: LSN): void {
  if (lsn < first && (lsns[0] as LSN) < first) {
    if (lsn > (lsns[0] as LSN)) lsns[0] = lsn;
    return;
  }
  let at = lsns.length;
  while (at > 0 && (lsns[at - 1] as LSN) > lsn) at--;
  lsns.splice(at, 0, lsn);
}

/** The largest LSN ≤ end among a page's versions. */
function newestUpTo(lsns: LSN | LSN[] | undefined, end: LSN): LSN | undefined {
  if (lsns === undefined) return undefined;
  if (typeof lsns === 'number') return lsns <= end ? lsns : undefined;
  let lo = 0;
  let hi = lsns.length - 1;
  let found: LSN | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = lsns[mid] as LSN;
    if (v <= end) {
      found = v;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
