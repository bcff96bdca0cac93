import { describe, expect, it } from 'vitest';
import {
  crc32c, isScionError, LSN, Page, PAGE_SIZE, PageSet, SegmentId,
  type Commit, type ErrorCode,
} from '../core/index.ts';
import type { CommitEntry } from './local-store.ts';
import { LogStore } from './log-store.ts';
import { MemoryFile, type SyncFile } from './sync-file.ts';
import { idx, localCommit, makePage, sidOf, vidOf } from './testing.ts';

/** The format-1 store over a memory file: only SlotStore's migration opens it now. */
const openV1 = (file: SyncFile, options: { onTailDropped?: (d: TailDrop) => void } = {}) => LogStore.openSync(file, { medium: 'memory', ...options });

// ── Helpers ─────────────────────────────────────────────────────────────────────────────────


/** A commit as plain data: toEqual cannot see PageSet's private fields, so page sets are printed. */
const plain = (c: Commit | undefined) =>
  c && {
    vid: c.vid, lsn: c.lsn, pageCount: c.pageCount, hash: c.hash,
    segment: c.segment && { sid: c.segment.sid, pages: c.segment.pages.toString(), frames: c.segment.frames.map((f) => [f.pages.toString(), f.bytes]) },
  };

function expectScionError(fn: () => unknown, code: ErrorCode): Error {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ScionError ${code}, nothing was thrown`).toBeDefined();
  expect(isScionError(thrown, code), `expected ScionError ${code}, got ${String(thrown)}`).toBe(true);
  return thrown as Error;
}

function expectPages(store: Pick<LogStore, 'readPageSync'>, entry: CommitEntry): void {
  const sid = entry.commit.segment?.sid as SegmentId;
  for (const [i, page] of entry.pages ?? []) {
    const got = store.readPageSync(sid, i);
    expect(got, `page ${i} of ${sid}`).toBeDefined();
    // Compare as Buffers: a byte-level diff of two 4 KiB arrays is unreadable and slow to format.
    expect(Buffer.from(got as Uint8Array).equals(page), `page ${i} of ${sid} differs`).toBe(true);
  }
}

/** A copy of `bytes` with the bits of `mask` flipped at byte `at`. */
function flipped(bytes: Uint8Array, at: number, mask = 0x01): Uint8Array {
  const out = bytes.slice();
  out[at] = (out[at] as number) ^ mask;
  return out;
}

type TailDrop = { offset: number; bytes: number; reason: string };

/** Opens a memory store on a copy of `bytes`, recording tail drops. */
function openOn(bytes: Uint8Array): { store: LogStore; file: MemoryFile; drops: TailDrop[] } {
  const drops: TailDrop[] = [];
  const file = new MemoryFile(bytes);
  const store = openV1(file, { onTailDropped: (d) => drops.push(d) });
  return { store, file, drops };
}

// ── Crash recovery: the log over a memory file we can tear and corrupt ──────────────────────

describe('LogStore (format 1) crash recovery', () => {
  const a = vidOf(1);
  const c1 = localCommit(a, 1, 1, [1, 2]);
  const c2 = localCommit(a, 2, 2, [2, 3]);
  const c2Again = localCommit(a, 2, 3, [3, 4]);

  /** A store holding c1 then c2; returns its bytes and where each record ends. */
  function twoCommits(): { bytes: Uint8Array; end1: number; end2: number } {
    const file = new MemoryFile();
    const store = openV1(file);
    store.appendCommitsSync([c1]);
    const end1 = store.statsSync().fileBytes;
    store.appendCommitsSync([c2]);
    const end2 = store.statsSync().fileBytes;
    store.closeSync();
    const bytes = file.bytes();
    expect(bytes.byteLength).toBe(end2);
    return { bytes, end1, end2 };
  }

  function expectOnlyFirstCommit(store: LogStore): void {
    expect(store.latestLsnSync(a)).toBe(1);
    expect(plain(store.getCommitSync(a, LSN.FIRST))).toEqual(plain(c1.commit));
    expect(store.getCommitSync(a, LSN.parse(2))).toBeUndefined();
    expect(store.hasPageSync(sidOf(2), idx(2))).toBe(false);
    expectPages(store, c1);
  }

  it('a crash at every byte of the last record leaves exactly the earlier commits, and the log stays appendable', () => {
    const { bytes, end1, end2 } = twoCommits();
    expect(end2 - end1).toBeGreaterThan(2 * PAGE_SIZE);
    // ~8,300 reopens: plain comparisons in the loop, expect() only to report (it costs ~0.2 ms a call).
    const sameCommit = (got: Commit | undefined, want: Commit) =>
      got !== undefined && got.vid === want.vid && got.lsn === want.lsn && got.pageCount === want.pageCount &&
      got.segment?.sid === want.segment?.sid && !!got.segment?.pages.equals(want.segment?.pages ?? PageSet.EMPTY);
    const samePages = (s: LogStore, e: CommitEntry) =>
      [...(e.pages ?? [])].every(([i, p]) => Buffer.from(s.readPageSync(e.commit.segment?.sid as SegmentId, i) ?? []).equals(p));
    for (let len = end1; len < end2; len++) {
      const { store, file, drops } = openOn(bytes.subarray(0, len));
      const state = {
        latest: store.latestLsnSync(a),
        c1: sameCommit(store.getCommitSync(a, LSN.FIRST), c1.commit),
        c1Pages: samePages(store, c1),
        c2Page: store.hasPageSync(sidOf(2), idx(2)),
        stats: store.statsSync(),
        size: file.getSize(),
        drops,
      };
      // The torn tail is cut off, reported once, and the file ends where commit 1 ended.
      const want = {
        latest: 1, c1: true, c1Pages: true, c2Page: false,
        stats: { commits: 1, pages: 2, fileBytes: end1 },
        size: end1,
        drops: len === end1 ? [] : [{ offset: end1, bytes: len - end1, reason: state.drops[0]?.reason }],
      };
      if (JSON.stringify(state) !== JSON.stringify(want) || (len > end1 && typeof state.drops[0]?.reason !== 'string')) {
        expect(state, `torn at ${len} (record 2 spans ${end1}..${end2})`).toEqual(want);
      }

      store.appendCommitsSync([c2Again]);
      store.closeSync();
      const again = openOn(file.bytes());
      const ok = again.drops.length === 0 && again.store.latestLsnSync(a) === 2 &&
        sameCommit(again.store.getCommitSync(a, LSN.parse(2)), c2Again.commit) && samePages(again.store, c1) && samePages(again.store, c2Again);
      if (!ok) expect.fail(`torn at ${len}: after appending a new commit 2 and reopening, the log is not intact`);
    }
  });

  it('a crash at every byte of a trailing putPages or dropVolume record keeps the state before it', () => {
    const cases: [string, (s: LogStore) => void, (s: LogStore) => void][] = [
      [
        'putPagesSync',
        (s) => s.putPagesSync(sidOf(9), new Map([[idx(1), makePage(9, 1)]])),
        (s) => expect(s.hasPageSync(sidOf(9), idx(1))).toBe(false),
      ],
      [
        'dropVolumeSync',
        (s) => s.dropVolumeSync(a),
        (s) => expectPages(s, c1),
      ],
    ];
    for (const [name, last, expectBefore] of cases) {
      const file = new MemoryFile();
      const store = openV1(file);
      store.appendCommitsSync([c1]);
      const end1 = store.statsSync().fileBytes;
      last(store);
      const bytes = file.bytes();
      for (let len = end1; len < bytes.byteLength; len++) {
        const { store: s, drops } = openOn(bytes.subarray(0, len));
        expect(s.latestLsnSync(a), `${name} torn at ${len}`).toBe(1);
        expectBefore(s);
        expect(s.statsSync().fileBytes).toBe(end1);
        expect(drops.length).toBe(len === end1 ? 0 : 1);
      }
    }
  });

  it('a flipped byte in the last record\'s page data drops that record at reopen and reports why', () => {
    const { bytes, end1, end2 } = twoCommits();
    const damaged = flipped(bytes, end2 - 100); // inside the last page of commit 2
    const { store, drops } = openOn(damaged);
    expectOnlyFirstCommit(store);
    expect(drops).toEqual([{ offset: end1, bytes: end2 - end1, reason: expect.stringMatching(/checksum/) }]);
    expect(store.statsSync().fileBytes).toBe(end1);
  });

  it('a flipped byte in the last record\'s header or meta drops that record at reopen', () => {
    const { bytes, end1, end2 } = twoCommits();
    for (const at of [end1, end1 + 8, end1 + 16, end1 + 30]) { // magic, metaLen, crc, meta
      const damaged = flipped(bytes, at, 0x40);
      const { store, drops } = openOn(damaged);
      expectOnlyFirstCommit(store);
      expect(drops, `flip at ${at - end1} into the record`).toEqual([{ offset: end1, bytes: end2 - end1, reason: expect.any(String) }]);
    }
  });

  it('a flipped byte in an earlier record\'s page makes reading that page throw Corrupt, never wrong bytes', () => {
    const { bytes, end1 } = twoCommits();
    const damaged = flipped(bytes, end1 - PAGE_SIZE + 123, 0x80); // page 2 of commit 1, its last page
    const { store, drops } = openOn(damaged);
    expect(drops).toEqual([]);
    expect(store.latestLsnSync(a)).toBe(2);
    expect(store.hasPageSync(sidOf(1), idx(2))).toBe(true);
    const err = expectScionError(() => store.readPageSync(sidOf(1), idx(2)), 'Corrupt');
    expect(err.message).toMatch(/Page 2 of segment/);
    // Its neighbours are unharmed.
    expect(Buffer.from(store.readPageSync(sidOf(1), idx(1)) as Uint8Array).equals(makePage(1, 1))).toBe(true);
    expectPages(store, c2);
  });

  // Known gap (see report): today the store truncates at the first bad record wherever it sits, so one
  // flipped bit in an early record's header or meta silently cuts off every later, acknowledged record.
  it('a damaged record followed by intact records fails to open with Corrupt and leaves the file untouched', () => {
    const { bytes, end1 } = twoCommits();
    const file = new MemoryFile(bytes);
    const store = openV1(file);
    store.appendCommitsSync([localCommit(a, 3, 4, [5])]);
    store.closeSync();
    const damaged = file.bytes();
    damaged[end1 + 30]! ^= 0x01; // inside record 2's meta
    const reopened = new MemoryFile(damaged);
    expectScionError(() => openV1(reopened), 'Corrupt');
    expect(reopened.bytes()).toEqual(damaged);
  });

  it('a file with a garbage header fails to open with Corrupt and a clear message', () => {
    const { bytes } = twoCommits();
    const garbage = bytes.slice();
    garbage.set(new TextEncoder().encode('NOTSCION'), 0);
    const err = expectScionError(() => openOn(garbage), 'Corrupt');
    expect(err.message).toMatch(/not a Scion log/);

    expectScionError(() => openOn(flipped(bytes, 13, 0xff)), 'Corrupt'); // magic fine, header crc wrong
  });

  it('a file shorter than its header (a crash while creating the store) opens as a fresh store', () => {
    const { store } = openOn(new TextEncoder().encode('hello'));
    expect(store.volumesSync()).toEqual([]);
    store.appendCommitsSync([c1]);
    expect(store.latestLsnSync(a)).toBe(1);
  });

  it('a file of an unknown format version fails to open with InvalidInput naming the version', () => {
    const { bytes } = twoCommits();
    const future = bytes.slice();
    const view = new DataView(future.buffer);
    view.setUint32(8, 2, true);
    view.setUint32(12, crc32c(future.subarray(0, 12)), true);
    const err = expectScionError(() => openOn(future), 'InvalidInput');
    expect(err.message).toMatch(/version 2/);
  });

  it('an empty file opens as a fresh store', () => {
    const { store, file } = openOn(new Uint8Array(0));
    expect(store.volumesSync()).toEqual([]);
    store.appendCommitsSync([c1]);
    store.closeSync();
    expectOnlyFirstCommit(openOn(file.bytes()).store);
  });
});

// ── Write failures ──────────────────────────────────────────────────────────────────────────

/** A memory file whose next write can be made to fail: a short write (disk full) or a throw midway. */
class FaultyFile implements SyncFile {
  readonly inner = new MemoryFile();
  failNext: 'short' | 'throw' | undefined;

  read(buffer: Uint8Array, options: { at: number }): number {
    return this.inner.read(buffer, options);
  }
  write(buffer: Uint8Array, options: { at: number }): number {
    const fault = this.failNext;
    this.failNext = undefined;
    if (!fault) return this.inner.write(buffer, options);
    const half = buffer.subarray(0, buffer.byteLength >> 1);
    this.inner.write(half, options);
    if (fault === 'throw') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    return half.byteLength;
  }
  truncate(size: number): void {
    this.inner.truncate(size);
  }
  getSize(): number {
    return this.inner.getSize();
  }
  flush(): void {
    this.inner.flush();
  }
  close(): void {
    this.inner.close();
  }
}

describe('LogStore write failures', () => {
  const a = vidOf(1);
  const c1 = localCommit(a, 1, 1, [1, 2]);
  const c2 = localCommit(a, 2, 2, [2, 3, 4]);
  const c2Small = localCommit(a, 2, 3, [1]);

  it('a short write throws Internal, truncates the partial record and leaves the store appendable', () => {
    const file = new FaultyFile();
    const store = LogStore.openSync(file, { medium: 'memory' });
    store.appendCommitsSync([c1]);
    const before = store.statsSync();
    file.failNext = 'short';
    expectScionError(() => store.appendCommitsSync([c2]), 'Internal');
    expect(store.statsSync()).toEqual(before);
    expect(file.getSize()).toBe(before.fileBytes);
    expect(store.latestLsnSync(a)).toBe(1);

    store.appendCommitsSync([c2Small]);
    const { store: reopened, drops } = openOn(file.inner.bytes());
    expect(drops).toEqual([]);
    expect(reopened.latestLsnSync(a)).toBe(2);
    expectPages(reopened, c1);
    expectPages(reopened, c2Small);
  });

  it('a write that throws midway leaves the acknowledged commits intact, in memory and after reopen', () => {
    const file = new FaultyFile();
    const store = LogStore.openSync(file, { medium: 'memory' });
    store.appendCommitsSync([c1]);
    file.failNext = 'throw';
    expect(() => store.appendCommitsSync([c2])).toThrow();
    expect(store.latestLsnSync(a)).toBe(1);
    expect(store.hasPageSync(sidOf(2), idx(2))).toBe(false);

    store.appendCommitsSync([c2Small]);
    expect(plain(store.getCommitSync(a, LSN.parse(2)))).toEqual(plain(c2Small.commit));
    const { store: reopened } = openOn(file.inner.bytes());
    expect(reopened.latestLsnSync(a)).toBe(2);
    expect(plain(reopened.getCommitSync(a, LSN.parse(2)))).toEqual(plain(c2Small.commit));
    expectPages(reopened, c1);
    expectPages(reopened, c2Small);
  });
});

// ── Scale ───────────────────────────────────────────────────────────────────────────────────

describe('LogStore scale', () => {
  it('a commit of 10,000 pages reads back byte-exact, before and after reopen', () => {
    const n = 10_000;
    const a = vidOf(1);
    const pages = Array.from({ length: n }, (_, i) => i + 1);
    const entry = localCommit(a, 1, 1, pages);
    const file = new MemoryFile();
    const store = openV1(file);
    store.appendCommitsSync([entry]);
    expect(store.statsSync().pages).toBe(n);
    expect(store.statsSync().fileBytes).toBeGreaterThan(n * PAGE_SIZE);
    expect(store.findPageVersionSync(a, idx(n), LSN.FIRST, LSN.FIRST)).toBe(1);

    const checkAll = (s: LogStore) => {
      const sid = sidOf(1);
      for (let i = 1; i <= n; i++) {
        const got = s.readPageSync(sid, idx(i));
        if (!got || !Buffer.from(got).equals(entry.pages?.get(idx(i)) as Page)) expect.fail(`page ${i} differs`);
      }
    };
    checkAll(store);
    store.closeSync();
    const { store: reopened, drops } = openOn(file.bytes());
    expect(drops).toEqual([]);
    expect(reopened.statsSync().pages).toBe(n);
    checkAll(reopened);
  });
});
