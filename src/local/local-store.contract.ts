// Contract checks every LocalStore must pass. Framework-free on purpose: each check is a plain async
// function that throws on failure, so Vitest runs them against MemoryStore (log-store.test.ts) and the
// Playwright e2e worker runs the same functions against OpfsStore in a real browser.
import {
  CommitHash, isScionError, LSN, Page, PAGE_SIZE, PageCount, PageIdx, PageSet, SegmentId, VolumeId,
  type Commit, type ErrorCode, type IdSource,
} from '../core/index.ts';
import type { CommitEntry, LocalStore } from './local-store.ts';

/** A fresh, empty store, and a way to restart it on the same storage (as after a page reload). */
export interface LocalStoreHarness {
  readonly store: LocalStore;
  /** Closes the store last returned (closeSync is idempotent) and opens a new one on the same storage. */
  reopen(): Promise<LocalStore>;
}

export type LocalStoreCheck = (h: LocalStoreHarness) => Promise<void>;

/**
 * Runs every check on its own fresh harness (so `open` must give a new, empty storage each call) and
 * closes the check's last store afterwards, pass or fail. Never throws; reports each outcome.
 */
export async function runLocalStoreChecks(
  open: () => Promise<LocalStoreHarness>,
): Promise<{ name: string; ok: boolean; error?: string }[]> {
  const results: { name: string; ok: boolean; error?: string }[] = [];
  for (const [name, run] of Object.entries(localStoreChecks)) {
    let latest: LocalStore | undefined;
    try {
      const h = await open();
      latest = h.store;
      await run({ store: h.store, reopen: async () => (latest = await h.reopen()) });
      results.push({ name, ok: true });
    } catch (e) {
      results.push({ name, ok: false, error: describeError(e) });
    } finally {
      latest?.closeSync(); // an OPFS handle is exclusive: the next check cannot open while this one holds it
    }
  }
  return results;
}

// ── Helpers ─────────────────────────────────────────────────────────────────────────────────

function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`Check failed: ${message}`);
}

function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return `${e.name}${code === undefined ? '' : ` ${String(code)}`}: ${e.message}`;
}

function checkThrows(fn: () => unknown, code: ErrorCode, what: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  check(thrown !== undefined, `${what}: expected ScionError ${code}, but nothing was thrown`);
  check(isScionError(thrown, code), `${what}: expected ScionError ${code}, got ${describeError(thrown)}`);
}

/** Deterministic ids: distinct per `n`, no clock or randomness involved. */
const fixed = (n: number): IdSource => ({ now: () => 1_700_000_000_000 + n, random: (b) => void b.fill(n & 0xff) });
const vidOf = (n: number): VolumeId => VolumeId.random(fixed(n));
const sidOf = (n: number): SegmentId => SegmentId.random(fixed(n));
const lsn = (n: number): LSN => LSN.parse(n);
const idx = (n: number): PageIdx => PageIdx.parse(n);
const hashOf = (n: number): CommitHash => CommitHash.fromBytes(new Uint8Array(32).fill(n & 0xff));

/** A page whose every byte depends on (seed, pageIdx), so swapped or stale pages are caught. */
function makePage(seed: number, pageIdx: number): Page {
  const p = Page.zeroed();
  const view = new DataView(p.buffer);
  view.setUint32(0, seed, true);
  view.setUint32(4, pageIdx, true);
  for (let i = 8; i < PAGE_SIZE; i++) p[i] = (seed * 31 + pageIdx * 7 + i * 13) & 0xff;
  return p;
}

interface EntrySpec {
  pageCount?: number;
  /** The segment: sid number and page indexes. Omitted for a commit that only changes the page count. */
  sid?: number;
  pages?: number[];
  /** Whether the entry carries the page bytes (local commit) or not (remote commit or fork). Default true. */
  held?: boolean;
  /** Remote commits carry a hash and frames. */
  remote?: boolean;
  seed?: number;
}

function makeEntry(vid: VolumeId, at: number, spec: EntrySpec = {}): CommitEntry {
  const indexes = spec.pages ?? [];
  const set = PageSet.of(indexes);
  const pageCount = PageCount.parse(spec.pageCount ?? Math.max(0, ...indexes));
  const segment =
    spec.sid === undefined
      ? undefined
      : { sid: sidOf(spec.sid), pages: set, frames: spec.remote && !set.isEmpty ? [{ pages: set, bytes: 100 + set.size }] : [] };
  const commit: Commit = { vid, lsn: lsn(at), pageCount, hash: spec.remote ? hashOf(at) : undefined, segment };
  if (spec.held === false || !segment) return { commit };
  const seed = spec.seed ?? spec.sid ?? 0;
  return { commit, pages: new Map([...set].map((i) => [i, makePage(seed, i)])) };
}

const show = (c: Commit | undefined): string => (c ? `${c.vid}@${c.lsn}` : 'undefined');

function sameCommit(a: Commit | undefined, b: Commit | undefined): boolean {
  if (!a || !b) return a === b;
  const sa = a.segment;
  const sb = b.segment;
  const sameSegment =
    sa === undefined || sb === undefined
      ? sa === sb
      : sa.sid === sb.sid &&
        sa.pages.equals(sb.pages) &&
        sa.frames.length === sb.frames.length &&
        sa.frames.every((f, i) => f.bytes === sb.frames[i]?.bytes && f.pages.equals(sb.frames[i]?.pages ?? PageSet.EMPTY));
  return a.vid === b.vid && a.lsn === b.lsn && a.pageCount === b.pageCount && a.hash === b.hash && sameSegment;
}

function checkCommit(store: LocalStore, expected: Commit): void {
  const got = store.getCommitSync(expected.vid, expected.lsn);
  check(sameCommit(got, expected), `getCommitSync(${show(expected)}) returned ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): string | undefined {
  if (a.byteLength !== b.byteLength) return `length ${a.byteLength} ≠ ${b.byteLength}`;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return `first difference at byte ${i}`;
  return undefined;
}

/** Every page the entry carries is held and reads back byte-exact. */
function checkPages(store: LocalStore, entry: CommitEntry, what = show(entry.commit)): void {
  const sid = entry.commit.segment?.sid;
  check(sid !== undefined && entry.pages, `${what}: test entry carries no pages`);
  for (const [i, expected] of entry.pages) {
    check(store.hasPageSync(sid, i), `${what}: hasPageSync(${sid}, ${i}) is false`);
    const got = store.readPageSync(sid, i);
    check(got !== undefined, `${what}: readPageSync(${sid}, ${i}) returned undefined`);
    const diff = sameBytes(got, expected);
    check(diff === undefined, `${what}: page ${i} of ${sid} differs: ${diff}`);
  }
}

function checkNoPage(store: LocalStore, sid: SegmentId, i: PageIdx, what: string): void {
  check(!store.hasPageSync(sid, i), `${what}: hasPageSync(${sid}, ${i}) is true`);
  check(store.readPageSync(sid, i) === undefined, `${what}: readPageSync(${sid}, ${i}) returned a page`);
}

const sorted = (vids: readonly VolumeId[]): string => [...vids].sort().join(',');

// ── The checks ──────────────────────────────────────────────────────────────────────────────

export const localStoreChecks: Record<string, LocalStoreCheck> = {
  async 'a fresh store is empty'({ store }) {
    check(store.volumesSync().length === 0, 'volumesSync of a fresh store is not empty');
    check(store.latestLsnSync(vidOf(1)) === undefined, 'latestLsnSync of an unknown volume is not undefined');
    check(store.getCommitSync(vidOf(1), LSN.FIRST) === undefined, 'getCommitSync of an unknown volume is not undefined');
    checkNoPage(store, sidOf(1), PageIdx.FIRST, 'fresh store');
    const stats = store.statsSync();
    check(stats.commits === 0 && stats.pages === 0, `statsSync of a fresh store is ${JSON.stringify(stats)}`);
  },

  async 'appends commits at the next LSN and reads them back'({ store }) {
    const a = vidOf(1);
    const b = vidOf(2);
    const a1 = makeEntry(a, 1, { sid: 1, pages: [1, 2] });
    store.appendCommitsSync([a1]);
    check(store.latestLsnSync(a) === 1, `latestLsnSync(a) is ${store.latestLsnSync(a)} after one commit`);
    checkCommit(store, a1.commit);
    check(store.getCommitSync(a, lsn(2)) === undefined, 'getCommitSync past the latest LSN is not undefined');
    check(sorted(store.volumesSync()) === a, `volumesSync is ${store.volumesSync().join(',')}`);

    const a2 = makeEntry(a, 2, { sid: 2, pages: [2, 3] });
    const a3 = makeEntry(a, 3, { pageCount: 5 }); // page count only: no segment
    const b1 = makeEntry(b, 1, { sid: 3, pages: [1], remote: true, held: false });
    store.appendCommitsSync([a2, b1, a3]);
    check(store.latestLsnSync(a) === 3, `latestLsnSync(a) is ${store.latestLsnSync(a)} after three commits`);
    check(store.latestLsnSync(b) === 1, `latestLsnSync(b) is ${store.latestLsnSync(b)} after one commit`);
    for (const e of [a1, a2, a3, b1]) checkCommit(store, e.commit);
    check(sorted(store.volumesSync()) === sorted([a, b]), `volumesSync is ${store.volumesSync().join(',')}`);
  },

  async 'appending at a wrong LSN throws Internal and writes nothing'(h) {
    const { store } = h;
    const a = vidOf(1);
    const before = store.statsSync();
    checkThrows(() => store.appendCommitsSync([makeEntry(a, 2, { sid: 1, pages: [1] })]), 'Internal', 'first commit at LSN 2');
    check(store.latestLsnSync(a) === undefined, 'a rejected first commit left a log behind');
    check(store.volumesSync().length === 0, 'a rejected first commit left a volume behind');
    check(!store.hasPageSync(sidOf(1), idx(1)), 'a rejected commit left its page behind');
    check(JSON.stringify(store.statsSync()) === JSON.stringify(before), `stats changed: ${JSON.stringify(store.statsSync())}`);

    store.appendCommitsSync([makeEntry(a, 1, { sid: 2, pages: [1] })]);
    const afterOne = store.statsSync();
    checkThrows(() => store.appendCommitsSync([makeEntry(a, 1, { sid: 3, pages: [1] })]), 'Internal', 'a second commit at LSN 1');
    checkThrows(() => store.appendCommitsSync([makeEntry(a, 3, { sid: 3, pages: [1] })]), 'Internal', 'a commit skipping LSN 2');
    checkThrows(
      () => store.appendCommitsSync([makeEntry(a, 2, { sid: 3, pages: [1] }), makeEntry(a, 2, { sid: 4, pages: [1] })]),
      'Internal',
      'two commits at the same LSN in one batch',
    );
    check(store.latestLsnSync(a) === 1, `latestLsnSync is ${store.latestLsnSync(a)} after rejected appends`);
    check(JSON.stringify(store.statsSync()) === JSON.stringify(afterOne), `stats changed: ${JSON.stringify(store.statsSync())}`);
    checkNoPage(store, sidOf(3), idx(1), 'rejected commits');

    const reopened = await h.reopen();
    check(reopened.latestLsnSync(a) === 1, `after reopen latestLsnSync is ${reopened.latestLsnSync(a)}`);
    check(JSON.stringify(reopened.statsSync()) === JSON.stringify(afterOne), `after reopen stats are ${JSON.stringify(reopened.statsSync())}`);
  },

  async 'a batch of commits is appended all or nothing'(h) {
    const { store } = h;
    const a = vidOf(1);
    const b = vidOf(2);
    const a1 = makeEntry(a, 1, { sid: 1, pages: [1] });
    store.appendCommitsSync([a1]);
    const before = store.statsSync();

    const b1 = makeEntry(b, 1, { sid: 2, pages: [1, 2] });
    const a2 = makeEntry(a, 2, { sid: 3, pages: [1] });
    const badLsn = makeEntry(a, 4, { sid: 4, pages: [1] });
    checkThrows(() => store.appendCommitsSync([b1, a2, badLsn]), 'Internal', 'a batch whose last commit has a wrong LSN');

    const a2Base = makeEntry(a, 2, { sid: 5, pages: [1, 2] });
    const missingPage: CommitEntry = { commit: a2Base.commit, pages: new Map([[idx(1), makePage(5, 1)]]) };
    checkThrows(() => store.appendCommitsSync([b1, missingPage]), 'Internal', 'a batch with a commit lacking one of its pages');

    const checkUnchanged = (s: LocalStore, when: string) => {
      check(s.latestLsnSync(a) === 1, `${when}: latestLsnSync(a) is ${s.latestLsnSync(a)}`);
      check(s.latestLsnSync(b) === undefined, `${when}: volume b has a log from a rejected batch`);
      check(sorted(s.volumesSync()) === a, `${when}: volumesSync is ${s.volumesSync().join(',')}`);
      for (const n of [2, 3, 5]) checkNoPage(s, sidOf(n), idx(1), `${when}: rejected batch`);
      check(JSON.stringify(s.statsSync()) === JSON.stringify(before), `${when}: stats are ${JSON.stringify(s.statsSync())}`);
      checkPages(s, a1, when);
    };
    checkUnchanged(store, 'after rejected batches');
    checkUnchanged(await h.reopen(), 'after reopen');
  },

  async 'a valid batch lands whole, across volumes and consecutive LSNs'(h) {
    const a = vidOf(1);
    const b = vidOf(2);
    const batch = [
      makeEntry(a, 1, { sid: 1, pages: [1, 2] }),
      makeEntry(b, 1, { sid: 2, pages: [1] }),
      makeEntry(a, 2, { sid: 3, pages: [2] }),
      makeEntry(a, 3, { pageCount: 1 }),
      makeEntry(b, 2, { sid: 4, pages: [3], remote: true, held: false }),
    ];
    h.store.appendCommitsSync(batch);
    const checkAll = (s: LocalStore, when: string) => {
      check(s.latestLsnSync(a) === 3 && s.latestLsnSync(b) === 2, `${when}: latest LSNs are ${s.latestLsnSync(a)}, ${s.latestLsnSync(b)}`);
      for (const e of batch) {
        checkCommit(s, e.commit);
        if (e.pages) checkPages(s, e, `${when}: ${show(e.commit)}`);
      }
      checkNoPage(s, sidOf(4), idx(3), `${when}: a commit appended without its pages`);
    };
    checkAll(h.store, 'before reopen');
    checkAll(await h.reopen(), 'after reopen');
  },

  async 'pages of a commit read back byte-exact by segment and page index'({ store }) {
    const a = vidOf(1);
    const e1 = makeEntry(a, 1, { sid: 1, pages: [1, 3, 7, 8, 9], pageCount: 10, seed: 11 });
    const e2 = makeEntry(a, 2, { sid: 2, pages: [3, 4], pageCount: 10, seed: 12 });
    store.appendCommitsSync([e1, e2]);
    checkPages(store, e1);
    checkPages(store, e2);
    checkNoPage(store, sidOf(1), idx(2), 'a page the commit did not write');
    checkNoPage(store, sidOf(1), idx(4), 'a page another segment wrote');
    checkNoPage(store, sidOf(99), idx(1), 'an unknown segment');
  },

  async 'readPagesSync returns the held pages of a segment, byte-exact, in batches, and leaves out the rest'({ store }) {
    const a = vidOf(1);
    const e1 = makeEntry(a, 1, { sid: 1, pages: Array.from({ length: 300 }, (_, i) => i + 1), pageCount: 400, seed: 21 });
    const e2 = makeEntry(a, 2, { sid: 2, pages: [350], pageCount: 400, seed: 22 });
    store.appendCommitsSync([e1, e2]);
    const want = [300, 1, 150, 299, 350, 2].map((n) => idx(n));
    const got = store.readPagesSync(sidOf(1), want);
    check(got.size === 5, `expected the 5 pages segment 1 holds, got ${got.size}`);
    for (const [i, page] of got) {
      const expected = e1.pages?.get(i);
      check(expected !== undefined && page.byteLength === expected.byteLength && page.every((b, k) => b === expected[k]), `page ${i} differs`);
    }
    check(!got.has(idx(350)), 'a page of another segment was returned');
  },

  async 'readPageIntoSync fills a view of a larger buffer in place, byte-exact, and leaves it alone for a page not held'({ store }) {
    const e1 = makeEntry(vidOf(1), 1, { sid: 1, pages: [1, 2], pageCount: 3, seed: 31 });
    store.appendCommitsSync([e1]);
    // SQLite's buffer is a view into its wasm heap: only those 4096 bytes may change.
    const heap = new Uint8Array(3 * PAGE_SIZE).fill(0x5a);
    const target = heap.subarray(PAGE_SIZE, 2 * PAGE_SIZE);
    check(store.readPageIntoSync(sidOf(1), idx(2), target), 'readPageIntoSync of a held page returned false');
    const diff = sameBytes(target, e1.pages?.get(idx(2)) as Uint8Array);
    check(diff === undefined, `page 2 read into a view differs: ${diff}`);
    check(heap.subarray(0, PAGE_SIZE).every((b) => b === 0x5a) && heap.subarray(2 * PAGE_SIZE).every((b) => b === 0x5a), 'readPageIntoSync wrote outside its target');
    target.fill(0x77);
    check(!store.readPageIntoSync(sidOf(1), idx(3), target), 'readPageIntoSync of a page not held returned true');
    check(!store.readPageIntoSync(sidOf(99), idx(1), target), 'readPageIntoSync of an unknown segment returned true');
    check(target.every((b) => b === 0x77), 'readPageIntoSync changed the target of a page not held');
  },

  async 'the store keeps its own copy of page bytes'({ store }) {
    const e1 = makeEntry(vidOf(1), 1, { sid: 1, pages: [1], seed: 3 });
    const original = makePage(3, 1);
    store.appendCommitsSync([e1]);
    e1.pages?.get(idx(1))?.fill(0xee); // the caller reuses its buffer
    const read = store.readPageSync(sidOf(1), idx(1));
    check(read !== undefined && sameBytes(read, original) === undefined, 'mutating the appended buffer changed the stored page');
    read.fill(0xdd); // the reader scribbles on what it got
    const again = store.readPageSync(sidOf(1), idx(1));
    check(again !== undefined && sameBytes(again, original) === undefined, 'mutating a read page changed the stored page');
  },

  async 'findPageVersionSync returns the newest LSN within start..=end'(h) {
    const a = vidOf(1);
    // LSN 1 writes {1,2}; 2 writes {2}; 3 only grows the volume; 4 writes {1,3}; 5 writes {2}.
    h.store.appendCommitsSync([
      makeEntry(a, 1, { sid: 1, pages: [1, 2] }),
      makeEntry(a, 2, { sid: 2, pages: [2] }),
      makeEntry(a, 3, { pageCount: 3 }),
      makeEntry(a, 4, { sid: 4, pages: [1, 3] }),
      makeEntry(a, 5, { sid: 5, pages: [2], pageCount: 3 }),
    ]);
    h.store.appendCommitsSync([makeEntry(vidOf(2), 1, { sid: 6, pages: [4] })]);
    const cases: [page: number, start: number, end: number, expected: number | undefined][] = [
      [1, 1, 5, 4], [1, 1, 3, 1], [1, 2, 3, undefined], [1, 4, 4, 4], [1, 1, 99, 4], [1, 5, 99, undefined],
      [2, 1, 5, 5], [2, 1, 4, 2], [2, 2, 2, 2], [2, 3, 4, undefined], [2, 1, 1, 1],
      [3, 1, 3, undefined], [3, 1, 4, 4], [4, 1, 5, undefined],
    ];
    const checkAll = (s: LocalStore, when: string) => {
      for (const [page, start, end, expected] of cases) {
        const got = s.findPageVersionSync(a, idx(page), lsn(start), lsn(end));
        check(got === expected, `${when}: findPageVersionSync(page ${page}, ${start}..=${end}) is ${got}, expected ${expected}`);
      }
      check(s.findPageVersionSync(vidOf(3), idx(1), lsn(1), lsn(5)) === undefined, `${when}: an unknown volume has a page version`);
    };
    checkAll(h.store, 'before reopen');
    checkAll(await h.reopen(), 'after reopen');
  },

  async 'putPagesSync caches pages of a segment held remotely'(h) {
    const a = vidOf(1);
    const remote = makeEntry(a, 1, { sid: 1, pages: [1, 2, 3], remote: true, held: false });
    h.store.appendCommitsSync([remote]);
    const sid = sidOf(1);
    checkNoPage(h.store, sid, idx(1), 'a remote commit before its pages are fetched');
    const before = h.store.statsSync();

    h.store.putPagesSync(sid, new Map([[idx(2), makePage(1, 2)], [idx(1), makePage(1, 1)]])); // any key order
    const after = h.store.statsSync();
    check(after.pages === before.pages + 2, `putPagesSync of 2 pages counted ${after.pages - before.pages}`);
    check(after.fileBytes >= before.fileBytes + 2 * PAGE_SIZE, `putPagesSync grew the file by ${after.fileBytes - before.fileBytes} bytes`);
    h.store.putPagesSync(sid, new Map([[idx(2), makePage(1, 2)], [idx(3), makePage(1, 3)]]));
    check(h.store.statsSync().pages === before.pages + 3, 'putting a page already held counted it twice');
    const full: CommitEntry = { commit: remote.commit, pages: new Map([1, 2, 3].map((i) => [idx(i), makePage(1, i)])) };
    checkPages(h.store, full, 'fetched pages');
    checkPages(await h.reopen(), full, 'fetched pages after reopen');
  },

  async 'squashSync starts a log at a checkpoint: later snapshots read the same, older commits and their pages go, durably'(h) {
    const a = vidOf(1);
    // Pages 1-2 at LSN 1, page 2 again at 2, page 3 at 3, page 1 again at 4, page 3 again at 5.
    const entries = [[1, 2], [2], [3], [1], [3]].map((pages, i) => makeEntry(a, i + 1, { sid: 10 + i, pages }));
    h.store.appendCommitsSync(entries);
    h.store.squashSync(new Map([[a, lsn(4)]]));
    const checkSquashed = (s: LocalStore, when: string) => {
      check(s.oldestLsnSync(a) === 4 && s.latestLsnSync(a) === 5, `${when}: the log spans ${s.oldestLsnSync(a)}..=${s.latestLsnSync(a)}, expected 4..=5`);
      // As of LSN 4: page 1 is LSN 4's, page 2 LSN 2's, page 3 LSN 3's; LSN 1 holds nothing newest.
      const at4 = [1, 2, 3].map((p) => s.findPageVersionSync(a, idx(p), lsn(1), lsn(4)));
      check(at4.join(',') === '4,2,3', `${when}: versions as of 4 are ${at4.join(',')}`);
      check(s.findPageVersionSync(a, idx(3), lsn(1), lsn(5)) === 5, `${when}: page 3 as of 5`);
      check(s.getCommitSync(a, lsn(1)) === undefined, `${when}: commit 1 (nothing newest at 4) is still held`);
      for (const e of entries.slice(1)) checkCommit(s, e.commit);
      checkNoPage(s, sidOf(10), idx(1), `${when}: the squashed commit's page`);
      for (const e of entries.slice(1)) checkPages(s, e);
      check(s.statsSync().commits === 4, `${when}: ${s.statsSync().commits} commits held, expected 4`);
    };
    checkSquashed(h.store, 'after squash');
    const s = await h.reopen();
    checkSquashed(s, 'after reopen');
    s.appendCommitsSync([makeEntry(a, 6, { sid: 16, pages: [2] })]);
    check(s.findPageVersionSync(a, idx(2), lsn(1), lsn(6)) === 6, 'the log goes on after a squash');
  },

  async 'dropVolumeSync removes the log and the pages no other volume references'(h) {
    const a = vidOf(1);
    const fork = vidOf(2);
    const a1 = makeEntry(a, 1, { sid: 1, pages: [1, 2] });
    const a2 = makeEntry(a, 2, { sid: 2, pages: [2] });
    // The fork shares a1's segment: its commit is a record only, its pages stay under sid 1.
    const fork1: CommitEntry = { commit: { ...a1.commit, vid: fork } };
    h.store.appendCommitsSync([a1, a2, fork1]);
    // Cached pages of a segment no commit references are not the drop's business.
    const cached = makeEntry(vidOf(9), 1, { sid: 9, pages: [1] });
    h.store.putPagesSync(sidOf(9), cached.pages!);

    h.store.dropVolumeSync(a);
    const checkAfterDrop = (s: LocalStore, when: string) => {
      check(s.latestLsnSync(a) === undefined, `${when}: latestLsnSync of a dropped volume is ${s.latestLsnSync(a)}`);
      check(s.getCommitSync(a, lsn(1)) === undefined, `${when}: a dropped volume's commit is still readable`);
      check(s.findPageVersionSync(a, idx(1), lsn(1), lsn(2)) === undefined, `${when}: a dropped volume still has page versions`);
      check(sorted(s.volumesSync()) === fork, `${when}: volumesSync is ${s.volumesSync().join(',')}`);
      checkNoPage(s, sidOf(2), idx(2), `${when}: a segment only the dropped volume referenced`);
      checkPages(s, a1, `${when}: the fork's shared segment`);
      checkCommit(s, fork1.commit);
      checkPages(s, cached, `${when}: unreferenced cached pages`);
      const stats = s.statsSync();
      check(stats.commits === 1 && stats.pages === 3, `${when}: stats are ${JSON.stringify(stats)}, expected 1 commit and 3 pages`);
    };
    checkAfterDrop(h.store, 'after drop');
    const s = await h.reopen();
    checkAfterDrop(s, 'after reopen');

    const size = s.statsSync().fileBytes;
    s.dropVolumeSync(a); // already gone
    s.dropVolumeSync(vidOf(3)); // never existed
    check(s.statsSync().fileBytes === size, 'dropping a volume with no log wrote to the file');

    s.dropVolumeSync(fork);
    checkNoPage(s, sidOf(1), idx(1), 'the shared segment once its last volume is dropped');
    check(s.volumesSync().length === 0, `volumesSync is ${s.volumesSync().join(',')} after dropping every volume`);

    // A dropped volume's log starts over at LSN 1.
    const again = makeEntry(a, 1, { sid: 3, pages: [1] });
    s.appendCommitsSync([again]);
    const s2 = await h.reopen();
    check(s2.latestLsnSync(a) === 1, `after re-creating, latestLsnSync is ${s2.latestLsnSync(a)}`);
    checkCommit(s2, again.commit);
    checkPages(s2, again);
    checkNoPage(s2, sidOf(1), idx(1), 'the dropped shared segment after reopen');
  },

  async 'everything survives close and reopen'(h) {
    const a = vidOf(1);
    const b = vidOf(2);
    const entries = [
      makeEntry(a, 1, { sid: 1, pages: [1, 2, 3] }),
      makeEntry(a, 2, { sid: 2, pages: [2], pageCount: 3 }),
      makeEntry(b, 1, { sid: 3, pages: [1, 2], remote: true, held: false }),
      makeEntry(a, 3, { pageCount: 1 }),
      makeEntry(b, 2, { sid: 4, pages: [5], remote: true }),
    ];
    h.store.appendCommitsSync(entries.slice(0, 3));
    h.store.appendCommitsSync(entries.slice(3));
    const fetched: CommitEntry = { commit: entries[2]!.commit, pages: new Map([[idx(2), makePage(3, 2)]]) };
    h.store.putPagesSync(sidOf(3), fetched.pages!);
    const stats = h.store.statsSync();

    const checkAll = (s: LocalStore, when: string, latestA = 3) => {
      check(sorted(s.volumesSync()) === sorted([a, b]), `${when}: volumesSync is ${s.volumesSync().join(',')}`);
      check(s.latestLsnSync(a) === latestA && s.latestLsnSync(b) === 2, `${when}: latest LSNs are ${s.latestLsnSync(a)}, ${s.latestLsnSync(b)}`);
      for (const e of entries) {
        checkCommit(s, e.commit);
        if (e.pages) checkPages(s, e, `${when}: ${show(e.commit)}`);
      }
      checkPages(s, fetched, `${when}: fetched page`);
      checkNoPage(s, sidOf(3), idx(1), `${when}: a remote page never fetched`);
      check(s.findPageVersionSync(a, idx(2), lsn(1), lsn(3)) === 2, `${when}: findPageVersionSync is wrong`);
      check(s.medium === h.store.medium, `${when}: medium changed to ${s.medium}`);
    };
    checkAll(h.store, 'before reopen');
    const s1 = await h.reopen();
    checkAll(s1, 'after reopen');
    check(JSON.stringify(s1.statsSync()) === JSON.stringify(stats), `after reopen stats are ${JSON.stringify(s1.statsSync())}, were ${JSON.stringify(stats)}`);

    // The reopened store keeps appending where the old one stopped.
    const a4 = makeEntry(a, 4, { sid: 5, pages: [1], seed: 50 });
    s1.appendCommitsSync([a4]);
    const s2 = await h.reopen();
    checkAll(s2, 'after a second reopen', 4);
    checkCommit(s2, a4.commit);
    checkPages(s2, a4);
  },

  async 'statsSync counts commits, pages held and file bytes'({ store }) {
    const a = vidOf(1);
    const s0 = store.statsSync();
    check(s0.commits === 0 && s0.pages === 0 && s0.fileBytes >= 0, `fresh stats are ${JSON.stringify(s0)}`);
    store.appendCommitsSync([makeEntry(a, 1, { sid: 1, pages: [1, 2, 3] })]);
    const s1 = store.statsSync();
    check(s1.commits === 1 && s1.pages === 3, `after one commit of 3 pages stats are ${JSON.stringify(s1)}`);
    check(s1.fileBytes >= s0.fileBytes + 3 * PAGE_SIZE, `3 pages grew the file by only ${s1.fileBytes - s0.fileBytes} bytes`);
    store.appendCommitsSync([makeEntry(a, 2, { sid: 2, pages: [1], remote: true, held: false }), makeEntry(a, 3, { pageCount: 1 })]);
    const s2 = store.statsSync();
    check(s2.commits === 3 && s2.pages === 3, `after two commits without pages stats are ${JSON.stringify(s2)}`);
    check(s2.fileBytes > s1.fileBytes, 'commit records did not grow the file');
    store.appendCommitsSync([makeEntry(a, 4, { sid: 1, pages: [2], held: true, seed: 1 })]); // same (sid, page) again
    check(store.statsSync().pages === 3, `re-writing a held (sid, page) counted it twice: ${JSON.stringify(store.statsSync())}`);
  },

  async 'evictPagesSync forgets only the named pages, durably, and cachedPagesSync lists what is held'(h) {
    const a = vidOf(1);
    const e1 = makeEntry(a, 1, { sid: 1, pages: [1, 2, 3] });
    const e2 = makeEntry(a, 2, { sid: 2, pages: [1] });
    h.store.appendCommitsSync([e1, e2]);
    const listing = (s: LocalStore) =>
      [...s.cachedPagesSync()].map(([sid, set]) => `${sid}:${set.toString()}`).sort().join(' ');
    check(listing(h.store) === `${sidOf(1)}:{1..=3} ${sidOf(2)}:{1}`, `cachedPagesSync is ${listing(h.store)}`);

    h.store.evictPagesSync(new Map([[sidOf(1), PageSet.of([1, 3, 7])]])); // 7 was never held
    h.store.evictPagesSync(new Map([[sidOf(99), PageSet.of([1])]])); // an unknown segment
    const checkAfter = (s: LocalStore, when: string) => {
      checkNoPage(s, sidOf(1), idx(1), `${when}: an evicted page`);
      checkNoPage(s, sidOf(1), idx(3), `${when}: an evicted page`);
      checkPages(s, { commit: e1.commit, pages: new Map([[idx(2), makePage(1, 2)]]) }, `${when}: the page left in the segment`);
      checkPages(s, e2, `${when}: another segment`);
      checkCommit(s, e1.commit); // eviction forgets bytes, never commits
      const stats = s.statsSync();
      check(stats.pages === 2 && stats.commits === 2, `${when}: stats are ${JSON.stringify(stats)}`);
      check(listing(s) === `${sidOf(1)}:{2} ${sidOf(2)}:{1}`, `${when}: cachedPagesSync is ${listing(s)}`);
    };
    checkAfter(h.store, 'after evict');
    const s = await h.reopen();
    checkAfter(s, 'after reopen');

    // Evicted pages can be fetched and cached again.
    s.putPagesSync(sidOf(1), new Map([[idx(1), makePage(1, 1)]]));
    checkPages(await h.reopen(), { commit: e1.commit, pages: new Map([[idx(1), makePage(1, 1)]]) }, 'a page cached again after eviction');
  },

  async 'dropping a volume gives its page bytes back: the store shrinks, before and after reopen'(h) {
    const a = vidOf(1);
    const b = vidOf(2);
    const empty = h.store.statsSync().fileBytes;
    const kept = makeEntry(b, 1, { sid: 9, pages: [1, 2] });
    h.store.appendCommitsSync([kept]);
    for (let n = 1; n <= 40; n++) h.store.appendCommitsSync([makeEntry(a, n, { sid: 100 + n, pages: [1, 2, 3, 4, 5, 6, 7, 8], seed: n })]);
    const full = h.store.statsSync().fileBytes;
    check(full >= empty + 41 * 8 * PAGE_SIZE - 33 * 6 * PAGE_SIZE, `40 commits of 8 pages take only ${full - empty} bytes`);
    h.store.dropVolumeSync(a);
    while (h.store.compactStepSync()) { /* until no upkeep is left */ }
    const after = h.store.statsSync();
    check(after.fileBytes <= empty + 2 * PAGE_SIZE + 64 * 1024, `after dropping 320 pages the store holds ${after.fileBytes} bytes (empty: ${empty}, full: ${full})`);
    check(after.pages === 2, `after the drop ${after.pages} pages are held`);
    checkPages(h.store, kept, 'the other volume');
    const s = await h.reopen();
    check(s.statsSync().fileBytes <= after.fileBytes, `reopening grew the store from ${after.fileBytes} to ${s.statsSync().fileBytes} bytes`);
    checkPages(s, kept, 'the other volume after reopen');
    check(s.latestLsnSync(a) === undefined, 'the dropped volume came back');
  },

  async 'evicted holes are compacted away in bounded steps: the page file shrinks and every page reads back exact'(h) {
    const a = vidOf(1);
    const entries = Array.from({ length: 600 }, (_, i) => makeEntry(a, i + 1, { sid: i + 1, pages: [i + 1], seed: i + 1 }));
    for (const e of entries) h.store.appendCommitsSync([e]);
    const full = h.store.statsSync();
    // Evict the lower 400 (old versions no snapshot reaches): the 200 live pages sit at the top of the file.
    h.store.evictPagesSync(new Map(entries.slice(0, 400).map((e) => [e.commit.segment?.sid as SegmentId, e.commit.segment?.pages as PageSet])));
    const evicted = h.store.statsSync();
    check(evicted.freeSlots > 0, `one eviction compacted all 200 pages at once (${JSON.stringify(evicted)}): steps are not bounded`);
    while (h.store.compactStepSync()) { /* the background upkeep, step by step */ }
    const after = h.store.statsSync();
    check(after.freeSlots === 0 && after.slots === 200, `after compaction ${after.slots} slots are used and ${after.freeSlots} free`);
    check(after.fileBytes <= full.fileBytes - 390 * PAGE_SIZE, `compaction reclaimed only ${full.fileBytes - after.fileBytes} bytes`);
    for (const e of entries.slice(400)) checkPages(h.store, e, 'a moved page');
    const s = await h.reopen();
    for (const e of entries.slice(400)) checkPages(s, e, 'a moved page after reopen');
    check(s.statsSync().fileBytes <= after.fileBytes, 'reopening grew the store');
  },

  async 'linkPagesSync holds a second segment\'s pages without writing them again'(h) {
    const a = vidOf(1);
    const r = vidOf(2);
    const local = makeEntry(a, 1, { sid: 1, pages: [1, 2, 3] });
    h.store.appendCommitsSync([local]);
    const before = h.store.statsSync();
    h.store.appendCommitsSync([makeEntry(r, 1, { sid: 2, pages: [1, 2, 3, 4], remote: true, held: false })]);
    const linked = h.store.linkPagesSync(sidOf(2), new Map([[idx(1), sidOf(1)], [idx(2), sidOf(1)], [idx(3), sidOf(1)], [idx(4), sidOf(1)]]));
    check(linked.toString() === '{1..=3}', `linked ${linked.toString()}, expected the three pages held`);
    const pushed = { commit: { ...local.commit, segment: { sid: sidOf(2), pages: PageSet.of([1, 2, 3]), frames: [] } }, pages: local.pages };
    checkPages(h.store, pushed, 'a linked page');
    const after = h.store.statsSync();
    check(after.slots === before.slots && after.fileBytes - before.fileBytes < PAGE_SIZE, `linking wrote page bytes: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
    // The local segment goes (GC after the push); the pushed one keeps the bytes.
    h.store.evictPagesSync(new Map([[sidOf(1), PageSet.of([1, 2, 3])]]));
    checkPages(h.store, pushed, 'a linked page after its source was evicted');
    const s = await h.reopen();
    checkPages(s, pushed, 'a linked page after reopen');
    check(!s.hasPageSync(sidOf(1), idx(1)), 'the evicted source is back after reopen');
  },

  async 'thousands of commits of one page stay bounded once old versions are evicted'(h) {
    const a = vidOf(1);
    let live: CommitEntry | undefined;
    for (let n = 1; n <= 2000; n++) {
      live = makeEntry(a, n, { sid: n, pages: [1], seed: n });
      h.store.appendCommitsSync([live]);
      if (n % 100 === 0) {
        const old = Array.from({ length: 100 }, (_, i) => [sidOf(n - 100 + i), PageSet.of([1])] as const).filter(([sid]) => sid !== sidOf(n));
        h.store.evictPagesSync(new Map(old));
      }
    }
    while (h.store.compactStepSync()) { /* finish upkeep */ }
    const stats = h.store.statsSync();
    // 2,000 commit records remain (history), but only one page: far below 2,000 × 4 KiB.
    check(stats.slots === 1 && stats.fileBytes < 400 * 1024, `after 2,000 commits of one page: ${JSON.stringify(stats)}`);
    const s = await h.reopen();
    checkPages(s, live as CommitEntry, 'the newest version');
    check(s.latestLsnSync(a) === 2000, 'commits were lost');
  },

  async 'a closed store refuses reads and writes with Closed'({ store }) {
    const a = vidOf(1);
    store.appendCommitsSync([makeEntry(a, 1, { sid: 1, pages: [1] })]);
    store.closeSync();
    store.closeSync(); // idempotent
    checkThrows(() => store.appendCommitsSync([makeEntry(a, 2, { sid: 2, pages: [1] })]), 'Closed', 'appendCommitsSync after close');
    checkThrows(() => store.readPageSync(sidOf(1), idx(1)), 'Closed', 'readPageSync after close');
    checkThrows(() => store.readPageIntoSync(sidOf(1), idx(1), new Uint8Array(PAGE_SIZE)), 'Closed', 'readPageIntoSync after close');
    checkThrows(() => store.putPagesSync(sidOf(2), new Map([[idx(1), makePage(2, 1)]])), 'Closed', 'putPagesSync after close');
    checkThrows(() => store.dropVolumeSync(a), 'Closed', 'dropVolumeSync after close');
  },
};
