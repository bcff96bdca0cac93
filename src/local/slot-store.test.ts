import { describe, expect, it } from 'vitest';
import {
  crc32c, isScionError, LSN, Page, PAGE_SIZE, PageCount, PageSet, SegmentId,
  type ErrorCode, type ScionError,
} from '../core/index.ts';
import { HighWaterMark } from './high-water-mark.ts';
import { encodeJournalHeader, encodeRecord, RecordType } from './journal.ts';
import type { CommitEntry, LocalStore } from './local-store.ts';
import { LogStore } from './log-store.ts';
import { SlotStore } from './slot-store.ts';
import type { StoreFiles } from './store-files.ts';
import { MemoryFile, type SyncFile } from './sync-file.ts';
import { idx, localCommit, makePage, sidOf, vidOf } from './testing.ts';
import { localStoreChecks, runLocalStoreChecks, type LocalStoreHarness } from './local-store.contract.ts';
import { MemoryStore } from './memory-store.ts';
import { MemoryDirectory } from './store-files.ts';

function memoryHarness(): LocalStoreHarness {
  const dir = new MemoryDirectory();
  let current = MemoryStore.open(dir);
  return {
    store: current,
    async reopen() {
      current.closeSync();
      current = MemoryStore.open(dir, {
        onTailDropped: (d) => {
          throw new Error(`BUG: a cleanly closed store dropped a tail at reopen: ${JSON.stringify(d)}`);
        },
      });
      return current;
    },
  };
}

describe('MemoryStore (LocalStore contract)', () => {
  for (const [name, run] of Object.entries(localStoreChecks)) {
    it(name, () => run(memoryHarness()));
  }

  it('runLocalStoreChecks (the e2e entry point) runs every check and reports each one passing', async () => {
    const results = await runLocalStoreChecks(async () => memoryHarness());
    expect(results.map((r) => r.name)).toEqual(Object.keys(localStoreChecks));
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  it('reports its medium as memory', () => {
    expect(MemoryStore.open().medium).toBe('memory');
  });
});

// ── Format 2 on memory files we can crash, cut and corrupt ──────────────────────────────────


/** Everything a reader can see, as one string: commits by volume, and every held page's bytes (as a CRC). */
function fingerprint(store: LocalStore): string {
  const volumes = store.volumesSync().sort().map((vid) => {
    const commits: string[] = [];
    for (let l = 1; l <= (store.latestLsnSync(vid) ?? 0); l++) {
      const c = store.getCommitSync(vid, LSN.parse(l));
      commits.push(`${l}:${c?.pageCount}:${c?.segment?.sid ?? '-'}:${c?.segment?.pages.toString() ?? ''}`);
    }
    return `${vid}@${(store as Partial<LocalStore>).oldestLsnSync?.(vid) ?? 1}=[${commits.join(' ')}]`;
  });
  const pages = [...store.cachedPagesSync()].sort(([a], [b]) => a.localeCompare(b)).map(([sid, set]) =>
    `${sid}{${[...set].map((i) => `${i}:${crc32c(store.readPageSync(sid, i) as Page)}`).join(',')}}`);
  return `${volumes.join(' ')} | ${pages.join(' ')}`;
}

class Crash extends Error {}

/** The directory's files, dying once `budget.left` bytes are written: the write that crosses it lands in part. */
function crashingFiles(dir: MemoryDirectory, budget: { left: number }): StoreFiles {
  const raw = dir.files();
  const wrap = (f: SyncFile): SyncFile => ({
    read: (b, o) => f.read(b, o),
    write: (b, o) => {
      if (budget.left <= 0) throw new Crash();
      if (b.byteLength > budget.left) {
        f.write(b.subarray(0, budget.left), o);
        budget.left = 0;
        throw new Crash();
      }
      budget.left -= b.byteLength;
      return f.write(b, o);
    },
    truncate: (n) => {
      if (budget.left <= 0) throw new Crash();
      f.truncate(n);
    },
    getSize: () => f.getSize(),
    flush: () => {
      if (budget.left <= 0) throw new Crash();
      f.flush();
    },
    close: () => f.close(),
  });
  return {
    pages: wrap(raw.pages), journals: [wrap(raw.journals[0]), wrap(raw.journals[1])], mark: wrap(raw.mark),
    legacy: raw.legacy && wrap(raw.legacy), removeLegacy: raw.removeLegacy,
  };
}

/**
 * Runs `op` on a store over `before`, crashing after every possible number of written bytes; each
 * time the directory left behind must reopen to exactly the state before `op` or after it — and
 * after it whenever `op` returned.
 */
function crashAtEveryByte(before: MemoryDirectory, op: (s: SlotStore) => void, options: { step?: number; checkpointBytes?: number; invisible?: boolean } = {}): { points: number; landed: number } {
  const open = (d: MemoryDirectory) => SlotStore.openSync(d.files(), { medium: 'memory', ...(options.checkpointBytes ? { checkpointBytes: options.checkpointBytes } : {}) });
  const want0 = fingerprint(open(before.copy()));
  const full = before.copy();
  const counted = { left: Number.MAX_SAFE_INTEGER };
  const store = SlotStore.openSync(crashingFiles(full, counted), { medium: 'memory', ...(options.checkpointBytes ? { checkpointBytes: options.checkpointBytes } : {}) });
  const opened = Number.MAX_SAFE_INTEGER - counted.left;
  op(store);
  const total = Number.MAX_SAFE_INTEGER - counted.left - opened;
  const want1 = fingerprint(open(full.copy()));
  // Upkeep (compaction, checkpoints) must not change what a reader sees; anything else must.
  if (options.invisible) expect(want1).toBe(want0);
  else expect(want1).not.toBe(want0);
  let landed = 0;
  let points = 0;
  for (let n = 0; n <= total; n += n < 64 || total - n < 64 ? 1 : (options.step ?? 1)) {
    points++;
    const dir = before.copy();
    const budget = { left: opened + n };
    let returned = false;
    try {
      const s = SlotStore.openSync(crashingFiles(dir, budget), { medium: 'memory', ...(options.checkpointBytes ? { checkpointBytes: options.checkpointBytes } : {}) });
      op(s);
      returned = true;
    } catch (e) {
      if (!(e instanceof Crash) && !isScionError(e)) throw e;
    }
    const got = fingerprint(open(dir.copy()));
    if (got === want1) landed++;
    if (got !== want1 && (returned || got !== want0)) expect.fail(`crash after ${n} of ${total} bytes (returned: ${returned}): reopened to neither the state before nor after\n got  ${got}\n before ${want0}\n after  ${want1}`);
  }
  return { points, landed };
}

function storeWith(entries: readonly CommitEntry[], options: { checkpointBytes?: number } = {}): MemoryDirectory {
  const dir = new MemoryDirectory();
  const s = MemoryStore.open(dir, options);
  for (const e of entries) s.appendCommitsSync([e]);
  s.closeSync();
  return dir;
}

function expectCode(fn: () => unknown, code: ErrorCode): ScionError {
  try {
    fn();
  } catch (e) {
    expect(isScionError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
    return e as ScionError;
  }
  return expect.fail(`expected ${code}, nothing was thrown`);
}

describe('SlotStore.checkpointTailSync: what an open replays stays small', () => {
  const a = vidOf(1);

  it('checkpoints a tail that places many pages (an import) and leaves a small one alone', () => {
    const dir = storeWith([localCommit(a, 1, 1, [1])]);
    const small = MemoryStore.open(dir);
    const tail = small.statsSync().journalTailBytes;
    expect(tail).toBeGreaterThan(0);
    expect(small.checkpointTailSync()).toBe(false);
    expect(small.statsSync().journalTailBytes).toBe(tail);
    // 2,000 pages in one record of a few KiB: few bytes, but each page is placed again at every open.
    small.appendCommitsSync([localCommit(a, 2, 2, Array.from({ length: 2_000 }, (_, i) => i + 1))]);
    expect(small.statsSync().journalTailBytes).toBeLessThan(16 << 10);
    expect(small.checkpointTailSync()).toBe(true);
    expect(small.statsSync().journalTailBytes).toBe(0);
    expect(small.checkpointTailSync()).toBe(false);
    const want = fingerprint(small);
    small.closeSync();
    const reopened = MemoryStore.open(dir);
    expect(fingerprint(reopened)).toBe(want);
    expect(reopened.statsSync().journalTailBytes).toBe(0);
  });

  it('checkpoints a long run of small commits', () => {
    const s = MemoryStore.open(storeWith([]), { checkpointBytes: 1 << 20 });
    for (let lsn = 1; lsn <= 1_000; lsn++) s.appendCommitsSync([localCommit(a, lsn, lsn, [1 + (lsn % 3)])]);
    expect(s.statsSync().journalTailBytes).toBeGreaterThan(16 << 10);
    expect(s.checkpointTailSync()).toBe(true);
    expect(s.statsSync().journalTailBytes).toBe(0);
    expect(s.statsSync().commits).toBe(1_000);
  });
});

describe('SlotStore crash safety: reopening after a crash at any byte shows exactly the acknowledged commits', () => {
  const a = vidOf(1);
  const c1 = localCommit(a, 1, 1, [1, 2]);
  const c2 = localCommit(a, 2, 2, [2, 3]);

  it('while appending a commit with pages', { timeout: 60_000 }, () => {
    const { landed } = crashAtEveryByte(storeWith([c1]), (s) => s.appendCommitsSync([c2]));
    expect(landed).toBeGreaterThan(0);
  });

  it('while dropping a volume (and the compaction step it starts)', { timeout: 60_000 }, () => {
    const b = vidOf(2);
    const before = storeWith([c1, c2, localCommit(b, 1, 3, [1, 2, 3]), localCommit(b, 2, 4, [4])]);
    crashAtEveryByte(before, (s) => s.dropVolumeSync(a));
  });

  // Thousands of reopens: slow on a loaded machine, so it gets more than the default 20 s.
  it('in the middle of compaction: pages moved into freed slots', { timeout: 120_000 }, () => {
    const entries = Array.from({ length: 200 }, (_, i) => localCommit(a, i + 1, i + 1, [i + 1]));
    const dir = storeWith(entries);
    const s = MemoryStore.open(dir);
    // 100 live pages above 100 holes: the eviction's own step moves 64, the rest is left.
    s.evictPagesSync(new Map(entries.slice(0, 100).map((e) => [e.commit.segment?.sid as SegmentId, e.commit.segment?.pages as PageSet])));
    const holes = s.statsSync().freeSlots;
    if (holes === 0) expect.fail('nothing left to compact');
    s.closeSync();
    crashAtEveryByte(dir, (store) => {
      store.compactStepSync();
      if (store.statsSync().freeSlots >= holes) throw new Error('the step filled no hole');
    }, { step: 97, invisible: true });
  });

  it('while checkpointing the journal into its other file', { timeout: 60_000 }, () => {
    const entries = Array.from({ length: 40 }, (_, i) => localCommit(a, i + 1, i + 1, [1]));
    const before = storeWith(entries);
    // A tiny threshold: the next commit is followed by a checkpoint.
    crashAtEveryByte(before, (s) => s.appendCommitsSync([localCommit(a, 41, 41, [1])]), { checkpointBytes: 64, step: 7 });
  });

  it('while writing a checkpoint image of several segments, shared slots and free slots inside the file', { timeout: 60_000 }, () => {
    const before = storeWith([c1, c2, localCommit(a, 3, 3, [5, 6, 7])]);
    const s = MemoryStore.open(before);
    s.linkPagesSync(sidOf(9), new Map([[idx(2), sidOf(2)], [idx(3), sidOf(2)]]));
    s.evictPagesSync(new Map([[sidOf(1), PageSet.of([1])]]));
    s.closeSync();
    crashAtEveryByte(before, (st) => st.appendCommitsSync([localCommit(a, 4, 4, [1])]), { checkpointBytes: 64, step: 3 });
  });

  it('while squashing history (and the compaction step it starts)', () => {
    const b = vidOf(2);
    const entries = Array.from({ length: 30 }, (_, i) => localCommit(a, i + 1, i + 1, [1 + (i % 4), 5 + (i % 3)]));
    const before = storeWith([...entries, localCommit(b, 1, 99, [1])]);
    const { landed } = crashAtEveryByte(before, (s) => s.squashSync(new Map([[a, LSN.parse(25)]])), { step: 97 });
    expect(landed).toBeGreaterThan(0);
  });

  it('while checkpointing a squashed journal: the checkpoint carries where each log starts', () => {
    const entries = Array.from({ length: 40 }, (_, i) => localCommit(a, i + 1, i + 1, [1 + (i % 3)]));
    const dir = storeWith(entries);
    const s = MemoryStore.open(dir);
    s.squashSync(new Map([[a, LSN.parse(38)]]));
    s.closeSync();
    crashAtEveryByte(dir, (st) => st.appendCommitsSync([localCommit(a, 41, 41, [1])]), { checkpointBytes: 64, step: 5 });
  });

  it('while checkpointing a large tail once writes paused (checkpointTailSync)', { timeout: 60_000 }, () => {
    const pages = Array.from({ length: 1_100 }, (_, i) => i + 1);
    const before = storeWith([c1, localCommit(a, 2, 2, pages)]);
    crashAtEveryByte(before, (s) => {
      if (!s.checkpointTailSync()) throw new Error('no checkpoint written');
    }, { step: 97, invisible: true });
  });

  it('while starting a log at a checkpoint', () => {
    const b = vidOf(3);
    const checkpoint = [localCommit(b, 3, 3, [1]).commit, localCommit(b, 7, 7, [2, 3]).commit, localCommit(b, 9, 9, [3]).commit];
    const { landed } = crashAtEveryByte(storeWith([c1]), (s) => s.startLogSync(b, LSN.parse(9), checkpoint));
    expect(landed).toBeGreaterThan(0);
  });

  // An import: the staging volume's commits hold the pages; the database's commit names that segment.
  const staged = vidOf(5);
  const stagedSteps = [localCommit(staged, 1, 8, [1, 2]), localCommit(staged, 2, 8, [3, 4])];
  const byReference: CommitEntry = { commit: { vid: a, lsn: LSN.parse(1), pageCount: PageCount.parse(4), segment: { sid: sidOf(8), pages: PageSet.of([1, 2, 3, 4]), frames: [] } } };

  it('while committing a database by reference to a staged volume\'s segment (an import)', () => {
    const { landed } = crashAtEveryByte(storeWith(stagedSteps), (s) => s.appendCommitsSync([byReference]));
    expect(landed).toBeGreaterThan(0);
  });

  it('while dropping the staging volume the database\'s commit shares its slots with (an import\'s last step)', () => {
    const before = storeWith([...stagedSteps, byReference]);
    crashAtEveryByte(before, (s) => s.dropVolumeSync(staged));
    const after = MemoryStore.open(before.copy());
    after.dropVolumeSync(staged);
    for (const i of [1, 2, 3, 4]) expect(after.readPageSync(sidOf(8), idx(i))).toEqual(makePage(8, i));
  });

  it('while landing a push: the pushed segment\'s pages linked to the local slots', () => {
    crashAtEveryByte(storeWith([c1, c2]), (s) => expect(s.linkPagesSync(sidOf(9), new Map([[idx(1), sidOf(1)], [idx(2), sidOf(2)], [idx(3), sidOf(2)]])).size).toBe(3));
  });

  it('while caching fetched pages and while evicting pages (local GC)', () => {
    crashAtEveryByte(storeWith([c1]), (s) => s.putPagesSync(sidOf(7), new Map([[idx(4), makePage(7, 4)], [idx(5), makePage(7, 5)]])));
    crashAtEveryByte(storeWith([c1, c2]), (s) => s.evictPagesSync(new Map([[sidOf(1), PageSet.of([1, 2])], [sidOf(2), PageSet.of([3])]])));
  });

  it('while creating a new store: any crash leaves a store that opens empty', () => {
    for (let n = 0; n <= 20 + 32; n++) {
      const dir = new MemoryDirectory();
      try {
        SlotStore.openSync(crashingFiles(dir, { left: n }), { medium: 'memory' });
      } catch (e) {
        if (!(e instanceof Crash)) throw e;
      }
      const s = MemoryStore.open(dir.copy());
      expect(s.volumesSync()).toEqual([]);
      s.appendCommitsSync([c1]);
    }
  });

  it('checkpoints keep the journal bounded: 3,000 commits leave a journal far smaller than 3,000 records', () => {
    const dir = new MemoryDirectory();
    const s = MemoryStore.open(dir, { checkpointBytes: 16 * 1024 });
    let grew = 0;
    for (let n = 1; n <= 3000; n++) {
      s.appendCommitsSync([localCommit(a, n, n, [1])]);
      if (n % 100 === 0) s.evictPagesSync(new Map(Array.from({ length: 99 }, (_, i) => [sidOf(n - 99 + i), PageSet.of([1])] as const)));
      grew = Math.max(grew, s.statsSync().journalBytes);
    }
    const reopened = MemoryStore.open(dir);
    expect(reopened.latestLsnSync(a)).toBe(3000);
    // One Base record holds every commit; what is appended after it is at most as much again.
    expect(dir.journals[0].getSize() + dir.journals[1].getSize()).toBeLessThanOrEqual(2 * reopened.statsSync().journalBytes + 64);
    expect(Buffer.from(reopened.readPageSync(sidOf(3000), idx(1)) as Uint8Array).equals(makePage(3000, 1))).toBe(true);
  });
});

describe('SlotStore: damage to acknowledged data is Corrupt, never silent', () => {
  const a = vidOf(1);
  const c1 = localCommit(a, 1, 1, [1, 2]);
  const c2 = localCommit(a, 2, 2, [2, 3]);
  const activeJournal = (d: MemoryDirectory) => (d.journals[0].getSize() > 0 ? d.journals[0] : d.journals[1]);
  const withJournal = (d: MemoryDirectory, bytes: Uint8Array) => {
    const copy = d.copy();
    const j = activeJournal(copy);
    j.truncate(0);
    j.write(bytes, { at: 0 });
    return copy;
  };

  it('the journal cut at any byte below its acknowledged end (also below 16 bytes) fails to open with Corrupt naming the way out', () => {
    const dir = storeWith([c1, c2]);
    const journal = activeJournal(dir).bytes();
    for (let len = 0; len < journal.byteLength; len++) {
      const cut = withJournal(dir, journal.subarray(0, len));
      const before = cut.copy();
      const err = expectCode(() => MemoryStore.open(cut), 'Corrupt');
      if (len === 0 || len === journal.byteLength - 1) expect(err.message).toMatch(/salvage: true|clone/);
      expect(cut.journals[0].bytes()).toEqual(before.journals[0].bytes()); // nothing changed
    }
  });

  it('a flipped byte in the last complete record fails to open with Corrupt', () => {
    const dir = storeWith([c1, c2]);
    const journal = activeJournal(dir).bytes();
    for (const back of [1, 5, 20, 40]) {
      const damaged = journal.slice();
      damaged[journal.byteLength - back]! ^= 0x10;
      expectCode(() => MemoryStore.open(withJournal(dir, damaged)), 'Corrupt');
    }
  });

  it('a flipped byte anywhere in a checkpoint image fails to open with Corrupt', () => {
    const dir = storeWith([c1, c2, localCommit(a, 3, 3, [4, 5, 6])], { checkpointBytes: 64 });
    const s = MemoryStore.open(dir, { checkpointBytes: 64 });
    s.appendCommitsSync([localCommit(a, 4, 4, [7])]); // checkpointed after it: the journal is one Image record
    s.closeSync();
    const journal = activeJournal(dir).bytes();
    expect(journal[20 + 4]).toBe(12); // the record type of an Image
    for (let at = 20; at < journal.byteLength; at++) {
      const damaged = journal.slice();
      damaged[at]! ^= 0x04;
      expectCode(() => MemoryStore.open(withJournal(dir, damaged)), 'Corrupt');
    }
  });

  it('a lost high-water mark beside a journal with records is Corrupt; a page file cut short is Corrupt naming the segments', () => {
    const dir = storeWith([c1, c2]);
    const noMark = dir.copy();
    noMark.mark.truncate(0);
    expectCode(() => MemoryStore.open(noMark), 'Corrupt');
    const short = dir.copy();
    short.pages.truncate(PAGE_SIZE);
    const err = expectCode(() => MemoryStore.open(short), 'Corrupt');
    expect(err.message).toContain(a);
    expect(err.details).toMatchObject({ volumes: a });
  });

  it('a flipped byte in a page slot is Corrupt on read, whether into a new page or into a given buffer', () => {
    const dir = storeWith([c1]);
    const damaged = dir.copy();
    const bytes = damaged.pages.bytes();
    for (let slot = 0; slot * PAGE_SIZE < bytes.byteLength; slot++) bytes[slot * PAGE_SIZE + 100]! ^= 0x01;
    damaged.pages.write(bytes, { at: 0 });
    const s = MemoryStore.open(damaged);
    expectCode(() => s.readPageSync(sidOf(1), idx(2)), 'Corrupt');
    expectCode(() => s.readPageIntoSync(sidOf(1), idx(2), new Uint8Array(PAGE_SIZE)), 'Corrupt');
  });

  it('{ salvage: true } opens the intact part and reports what was lost', () => {
    const dir = storeWith([c1, c2]);
    const journal = activeJournal(dir).bytes();
    const salvaged: { reason: string; journalBytesLost: number; pagesLost: number }[] = [];
    const s = MemoryStore.open(withJournal(dir, journal.subarray(0, journal.byteLength - 3)), { salvage: true, onSalvaged: (i) => salvaged.push(i) });
    expect(s.latestLsnSync(a)).toBe(1);
    expect(Buffer.from(s.readPageSync(sidOf(1), idx(2)) as Uint8Array).equals(makePage(1, 2))).toBe(true);
    expect(salvaged).toHaveLength(1);
    s.appendCommitsSync([localCommit(a, 2, 5, [9])]);

    const short = dir.copy();
    short.pages.truncate(2 * PAGE_SIZE);
    const t = MemoryStore.open(short, { salvage: true, onSalvaged: (i) => salvaged.push(i) });
    expect(salvaged.at(-1)?.pagesLost).toBe(2);
    expect(t.latestLsnSync(a)).toBe(2); // commits stay; the lost pages are not held
    expect(t.hasPageSync(sidOf(2), idx(3))).toBe(false);
    expect(MemoryStore.open(short).latestLsnSync(a)).toBe(2); // salvaged durably
  });

  it('a torn write past the acknowledged end is dropped silently and reported as a torn tail', () => {
    const dir = storeWith([c1, c2]);
    const torn = dir.copy();
    const j = activeJournal(torn);
    j.write(new Uint8Array([0x40, 0, 0, 0, 1, 0, 0]), { at: j.getSize() });
    const drops: unknown[] = [];
    const s = MemoryStore.open(torn, { onTailDropped: (d) => drops.push(d) });
    expect(drops).toHaveLength(1);
    expect(s.latestLsnSync(a)).toBe(2);
  });

  it('a mark of a newer format is refused with InvalidInput naming the format', () => {
    const dir = storeWith([c1]);
    const mark = dir.mark.bytes();
    const view = new DataView(mark.buffer);
    view.setUint32(4, 4, true);
    view.setUint32(28, crc32c(mark.subarray(0, 28)), true);
    view.setUint32(32 + 4, 4, true);
    view.setUint32(32 + 28, crc32c(mark.subarray(32, 60)), true);
    const future = dir.copy();
    future.mark.write(mark, { at: 0 });
    expect(expectCode(() => MemoryStore.open(future), 'InvalidInput').message).toMatch(/format 4/);
  });
});

describe('SlotStore: a full disk is QuotaExceeded and commits nothing', () => {
  const a = vidOf(1);
  const c1 = localCommit(a, 1, 1, [1, 2]);
  const c2 = localCommit(a, 2, 2, [2, 3, 4]);

  const faults = { short: 'short write', throw: 'QuotaExceededError', nospace: "Chromium's full-disk count (2^32 - 8 bytes written)" } as const;
  for (const kind of ['pages', 'journal', 'mark'] as const) for (const fault of ['short', 'throw', 'nospace'] as const) {
    it(`a ${faults[fault]} in the ${kind} file`, () => {
      const dir = storeWith([c1]);
      const raw = dir.files();
      const failing = { on: false };
      const faulty = (f: SyncFile): SyncFile => ({
        read: (b, o) => f.read(b, o), truncate: (n) => f.truncate(n), getSize: () => f.getSize(), flush: () => f.flush(), close: () => f.close(),
        write: (b, o) => {
          if (!failing.on) return f.write(b, o);
          failing.on = false;
          f.write(b.subarray(0, b.byteLength >> 1), o);
          if (fault === 'throw') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          return fault === 'nospace' ? 2 ** 32 - 8 : b.byteLength >> 1;
        },
      });
      const files: StoreFiles = {
        pages: kind === 'pages' ? faulty(raw.pages) : raw.pages,
        journals: kind === 'journal' ? [faulty(raw.journals[0]), faulty(raw.journals[1])] : raw.journals,
        mark: kind === 'mark' ? faulty(raw.mark) : raw.mark,
      };
      const s = SlotStore.openSync(files, { medium: 'memory' });
      const before = fingerprint(s);
      failing.on = true;
      const err = expectCode(() => s.appendCommitsSync([c2]), 'QuotaExceeded');
      expect(err.message).toMatch(/nothing was committed/);
      if (fault === 'nospace') expect(err.message).toMatch(/the disk is full/);
      expect(fingerprint(s)).toBe(before);
      expect(fingerprint(MemoryStore.open(dir.copy()))).toBe(before);
      s.appendCommitsSync([c2]); // space again: the store goes on
      expect(fingerprint(MemoryStore.open(dir.copy()))).toBe(fingerprint(s));
    });
  }
});

describe('SlotStore: a high-water-mark write that fails commits nothing and loses nothing', () => {
  const a = vidOf(1);
  const c1 = localCommit(a, 1, 1, [1, 2]);
  const c2 = localCommit(a, 2, 2, [2, 3]);

  /** The mark file of `dir`, whose flushes throw while `failing.flushes` is above 0 (the write itself lands). */
  function failingMarkFlush(dir: MemoryDirectory, failing: { flushes: number }): StoreFiles {
    const raw = dir.files();
    const mark: SyncFile = {
      read: (b, o) => raw.mark.read(b, o), write: (b, o) => raw.mark.write(b, o), truncate: (n) => raw.mark.truncate(n),
      getSize: () => raw.mark.getSize(), close: () => raw.mark.close(),
      flush: () => {
        if (failing.flushes > 0) {
          failing.flushes--;
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        }
        raw.mark.flush();
      },
    };
    return { ...raw, mark };
  }

  for (const what of ['a commit', 'a checkpoint'] as const) {
    it(`the flush of the mark after ${what} throws: the error commits nothing, the store reopens to the state before and goes on`, () => {
      const dir = storeWith([c1]);
      const failing = { flushes: 0 };
      const s = SlotStore.openSync(failingMarkFlush(dir, failing), { medium: 'memory', checkpointBytes: what === 'a checkpoint' ? 64 : 1 << 20 });
      const before = fingerprint(s);
      failing.flushes = 1;
      expectCode(() => (what === 'a commit' ? s.appendCommitsSync([c2]) : s.compactStepSync()), 'QuotaExceeded');
      expect(fingerprint(s)).toBe(before);
      expect(fingerprint(MemoryStore.open(dir.copy()))).toBe(before);
      if (what === 'a commit') s.appendCommitsSync([c2]);
      else s.compactStepSync();
      expect(fingerprint(MemoryStore.open(dir.copy()))).toBe(fingerprint(s));
    });
  }

  it('when even taking the mark back fails, the error is OutcomeUnknown, later writes are refused, and reopening shows no damage', () => {
    const dir = storeWith([c1]);
    const failing = { flushes: 0 };
    const s = SlotStore.openSync(failingMarkFlush(dir, failing), { medium: 'memory' });
    const before = fingerprint(s);
    failing.flushes = 2;
    expectCode(() => s.appendCommitsSync([c2]), 'OutcomeUnknown');
    expectCode(() => s.appendCommitsSync([c2]), 'OutcomeUnknown');
    // Either outcome, but never Corrupt: the journal still holds what the mark may name.
    const reopened = fingerprint(MemoryStore.open(dir.copy()));
    const after = fingerprint(MemoryStore.open(storeWith([c1, c2])));
    expect([before, after]).toContain(reopened);
  });
});

describe('SlotStore: a format-1 store (volumes.log) is migrated, losing nothing', () => {
  const a = vidOf(1);
  const b = vidOf(2);

  function legacyLog(): { bytes: Uint8Array; want: string } {
    const file = new MemoryFile();
    const v1 = LogStore.openSync(file, { medium: 'memory' });
    v1.appendCommitsSync([localCommit(a, 1, 1, [1, 2, 3])]);
    v1.appendCommitsSync([localCommit(a, 2, 2, [2])]);
    v1.appendCommitsSync([localCommit(b, 1, 3, [1])]);
    v1.putPagesSync(sidOf(7), new Map([[idx(5), makePage(7, 5)]]));
    v1.evictPagesSync(sidOf(1), PageSet.of([3]));
    const want = fingerprint(v1 as unknown as LocalStore);
    v1.closeSync();
    return { bytes: file.bytes(), want };
  }

  it('opening a directory that holds only volumes.log migrates every commit and page, then removes the old file', () => {
    const { bytes, want } = legacyLog();
    const dir = new MemoryDirectory({ legacy: bytes });
    const s = MemoryStore.open(dir);
    expect(fingerprint(s)).toBe(want);
    expect(dir.legacy).toBeUndefined();
    s.closeSync();
    expect(fingerprint(MemoryStore.open(dir))).toBe(want);
  });

  /** Opens (migrates) `bytes` crashing after every `step`-th written byte; each time a reopen must show `want`. Returns the crash points tried. */
  function crashWhileMigrating(bytes: Uint8Array, want: string, step: number): number {
    for (let n = 0, points = 1; ; n += step, points++) {
      const dir = new MemoryDirectory({ legacy: bytes });
      let done = false;
      try {
        SlotStore.openSync(crashingFiles(dir, { left: n }), { medium: 'memory' });
        done = true;
      } catch (e) {
        if (!(e instanceof Crash) && !isScionError(e)) throw e;
      }
      expect(fingerprint(MemoryStore.open(dir.copy()))).toBe(want);
      if (done) return points;
    }
  }

  it('a crash at any point of the migration migrates again at the next open', () => {
    const { bytes, want } = legacyLog();
    crashWhileMigrating(bytes, want, 101);
  });

  it('a crash at any point of a migration of several steps (pages moved, volumes.log cut) loses nothing', () => {
    const file = new MemoryFile();
    const v1 = LogStore.openSync(file, { medium: 'memory' });
    for (let n = 1; n <= 72; n++) v1.appendCommitsSync([localCommit(a, n, n, [1, 2, 3, 4, 5, 6, 7, 8])]);
    const want = fingerprint(v1 as unknown as LocalStore);
    v1.closeSync();
    const points = crashWhileMigrating(file.bytes(), want, 40_009);
    expect(points).toBeGreaterThan((2 * 1024 * 1024) / 40_009); // past two 1 MiB steps
  });

  it('a damaged volumes.log is refused with Corrupt and left untouched', () => {
    const { bytes } = legacyLog();
    const damaged = bytes.slice();
    damaged[16 + 30]! ^= 0x01; // inside the first record's meta, intact records follow
    const dir = new MemoryDirectory({ legacy: damaged });
    expectCode(() => MemoryStore.open(dir), 'Corrupt');
    expect(dir.legacy?.bytes()).toEqual(damaged);
  });
});

describe('SlotStore: migrating format 1 in bounded space, and with damage', () => {
  const a = vidOf(1);
  const b = vidOf(2);

  /** A format-1 log of `commits` commits of 8 pages each (pages 1-8 of volume a, then volume b's one commit). */
  function bigLegacyLog(commits: number): { bytes: Uint8Array; want: string } {
    const file = new MemoryFile();
    const v1 = LogStore.openSync(file, { medium: 'memory' });
    for (let n = 1; n <= commits; n++) v1.appendCommitsSync([localCommit(a, n, n, [1, 2, 3, 4, 5, 6, 7, 8])]);
    v1.appendCommitsSync([localCommit(b, 1, 9999, [1])]);
    const want = fingerprint(v1 as unknown as LocalStore);
    v1.closeSync();
    return { bytes: file.bytes(), want };
  }

  /** The directory's files under a quota of `budget.bytes` over all of them: a write past it throws QuotaExceededError and writes nothing. */
  function quotaFiles(dir: MemoryDirectory, budget: { bytes: number; peak: number }): StoreFiles {
    const raw = dir.files();
    const all = (): SyncFile[] => [raw.pages, raw.journals[0], raw.journals[1], raw.mark, ...(raw.legacy && dir.legacy ? [raw.legacy] : [])];
    const total = () => all().reduce((n, f) => n + f.getSize(), 0);
    const wrap = (f: SyncFile): SyncFile => ({
      read: (buf, o) => f.read(buf, o), truncate: (n) => f.truncate(n), getSize: () => f.getSize(), flush: () => f.flush(), close: () => f.close(),
      write: (buf, o) => {
        const after = total() - f.getSize() + Math.max(f.getSize(), o.at + buf.byteLength);
        if (after > budget.bytes) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        budget.peak = Math.max(budget.peak, after);
        return f.write(buf, o);
      },
    });
    return {
      pages: wrap(raw.pages), journals: [wrap(raw.journals[0]), wrap(raw.journals[1])], mark: wrap(raw.mark),
      legacy: raw.legacy && wrap(raw.legacy), removeLegacy: raw.removeLegacy,
    };
  }

  it('a 4 MiB volumes.log migrates with about 1 MiB of free space beyond it, losing nothing', () => {
    const { bytes, want } = bigLegacyLog(128);
    const dir = new MemoryDirectory({ legacy: bytes });
    const budget = { bytes: bytes.byteLength + (1 << 20) + 64 * 1024, peak: 0 };
    const s = SlotStore.openSync(quotaFiles(dir, budget), { medium: 'memory' });
    expect(fingerprint(s)).toBe(want);
    expect(dir.legacy).toBeUndefined();
    expect(budget.peak).toBeLessThanOrEqual(budget.bytes);
    s.closeSync();
    expect(fingerprint(MemoryStore.open(dir))).toBe(want);
  });

  it('with no room for a migration step the store opens and reads everything from volumes.log; upkeep finishes once there is space', () => {
    const { bytes, want } = bigLegacyLog(128);
    const dir = new MemoryDirectory({ legacy: bytes });
    const budget = { bytes: bytes.byteLength + 48 * 1024, peak: 0 };
    const s = SlotStore.openSync(quotaFiles(dir, budget), { medium: 'memory' });
    expect(fingerprint(s)).toBe(want);
    expect(dir.legacy).toBeDefined();
    expect(() => s.compactStepSync()).toThrow(/full/);
    // Reopening mid-migration reads the same, from both files.
    s.closeSync();
    const again = SlotStore.openSync(quotaFiles(dir, budget), { medium: 'memory' });
    expect(fingerprint(again)).toBe(want);
    budget.bytes += 2 << 20;
    while (again.compactStepSync());
    expect(fingerprint(again)).toBe(want);
    expect(dir.legacy?.getSize() ?? 0).toBe(0);
    again.closeSync();
    expect(fingerprint(MemoryStore.open(dir))).toBe(want);
    expect(dir.legacy).toBeUndefined();
  });

  it('if volumes.log has too little space even for the index, the open is QuotaExceeded saying how much, and volumes.log is left intact', () => {
    const { bytes } = bigLegacyLog(128);
    const dir = new MemoryDirectory({ legacy: bytes });
    const err = expectCode(() => SlotStore.openSync(quotaFiles(dir, { bytes: bytes.byteLength + 100, peak: 0 }), { medium: 'memory' }), 'QuotaExceeded');
    expect(err.message).toMatch(/KiB of free space.*volumes\.log is intact/);
    expect(Buffer.from(dir.legacy?.bytes() ?? []).equals(bytes)).toBe(true);
    expect(dir.totalBytes).toBe(bytes.byteLength);
  });

  it('a mark lost while a migration is stuck (commits made, the journal checkpointed) is Corrupt, never a fresh migration that drops them', () => {
    const { bytes } = bigLegacyLog(128);
    const dir = new MemoryDirectory({ legacy: bytes });
    const budget = { bytes: bytes.byteLength + 48 * 1024, peak: 0 };
    const s = SlotStore.openSync(quotaFiles(dir, budget), { medium: 'memory', checkpointBytes: 4096 });
    budget.bytes += 512 * 1024; // room for commits, not for a 1 MiB migration step
    const c = vidOf(3);
    for (let n = 1; dir.journals[0].getSize() > 0; n++) {
      expect(n).toBeLessThan(5_000);
      s.appendCommitsSync([{ commit: localCommit(c, n, n, [1]).commit }]);
    }
    const want = fingerprint(s);
    expect(want).toContain(c);
    s.closeSync();
    const noMark = dir.copy();
    noMark.mark.truncate(0);
    expectCode(() => MemoryStore.open(noMark.copy()), 'Corrupt');
    expect(fingerprint(MemoryStore.open(noMark.copy(), { salvage: true }))).toBe(want);
  });

  it('local GC can evict a page not migrated yet', () => {
    const { bytes } = bigLegacyLog(128);
    const dir = new MemoryDirectory({ legacy: bytes });
    const s = SlotStore.openSync(quotaFiles(dir, { bytes: bytes.byteLength + 48 * 1024, peak: 0 }), { medium: 'memory' });
    expect(s.hasPageSync(sidOf(1), idx(3))).toBe(true);
    s.evictPagesSync(new Map([[sidOf(1), PageSet.of([3])]]));
    expect(s.hasPageSync(sidOf(1), idx(3))).toBe(false);
    s.closeSync();
    expect(MemoryStore.open(dir).hasPageSync(sidOf(1), idx(3))).toBe(false);
  });

  it('a damaged page in volumes.log fails the migration with Corrupt naming the volume; { salvage: true } keeps every other page and reports the one lost', () => {
    const { bytes, want } = bigLegacyLog(4);
    const damaged = bytes.slice();
    const at = Buffer.from(damaged).indexOf(Buffer.from(makePage(2, 5)));
    expect(at).toBeGreaterThan(0);
    damaged[at + 100]! ^= 0x01;
    const dir = new MemoryDirectory({ legacy: damaged });
    const err = expectCode(() => MemoryStore.open(dir), 'Corrupt');
    expect(err.details).toMatchObject({ volumes: a });
    expect(err.message).toMatch(/salvage: true/);
    const lost: { pagesLost: number }[] = [];
    const s = MemoryStore.open(dir, { salvage: true, onSalvaged: (i) => lost.push(i) });
    expect(lost.map((l) => l.pagesLost)).toEqual([1]);
    expect(s.hasPageSync(sidOf(2), idx(5))).toBe(false);
    expect(s.latestLsnSync(a)).toBe(4);
    expect(s.readPageSync(sidOf(2), idx(4))).toEqual(makePage(2, 4));
    expect(s.readPageSync(sidOf(9999), idx(1))).toEqual(makePage(9999, 1));
    // Everything else is as before: the fingerprint without that one page.
    const without = want.replace(`,5:${crc32c(makePage(2, 5))}`, '');
    expect(fingerprint(s)).toBe(without);
    s.closeSync();
    expect(fingerprint(MemoryStore.open(dir))).toBe(without);
  });
});

describe('SlotStore: squashed history', () => {
  const a = vidOf(1);

  it('reopens from a checkpoint holding only the surviving commits: open reads O(live pages + retained commits)', () => {
    const dir = new MemoryDirectory();
    const s = MemoryStore.open(dir, { checkpointBytes: 4096 });
    // 2,000 single-page commits over a 10-page volume.
    for (let n = 1; n <= 2000; n++) s.appendCommitsSync([localCommit(a, n, n, [1 + (n % 10)])]);
    const full = s.statsSync();
    s.squashSync(new Map([[a, LSN.parse(1990)]]));
    while (s.compactStepSync());
    const after = s.statsSync();
    // Commits 1990..=2000 plus the older ones still holding one of the 10 pages.
    expect(after.commits).toBeLessThanOrEqual(11 + 10);
    expect(after.slots).toBeLessThanOrEqual(21);
    s.closeSync();
    const reopened = MemoryStore.open(dir, { checkpointBytes: 4096 });
    expect(reopened.statsSync().journalBytes).toBeLessThan(full.journalBytes / 20);
    expect(reopened.oldestLsnSync(a)).toBe(1990);
    expect(reopened.latestLsnSync(a)).toBe(2000);
    expect(reopened.getCommitSync(a, LSN.parse(1000))).toBeUndefined();
    for (let p = 1; p <= 10; p++) {
      const lsn = reopened.findPageVersionSync(a, idx(p), LSN.FIRST, LSN.parse(2000)) as LSN;
      // The newest n ≤ 2000 with 1 + n % 10 === p.
      expect(lsn).toBe(2000 - ((2000 - (p - 1) + 10) % 10));
      const sid = reopened.getCommitSync(a, lsn)?.segment?.sid as SegmentId;
      expect(reopened.readPageSync(sid, idx(p))).toEqual(makePage(lsn, p));
    }
    // And it goes on from there.
    reopened.appendCommitsSync([localCommit(a, 2001, 2001, [3])]);
    expect(reopened.latestLsnSync(a)).toBe(2001);
  });

  it('a log started at a checkpoint reads as of its first LSN, goes on from there, and survives reopen and checkpoints', () => {
    const dir = new MemoryDirectory();
    const s = MemoryStore.open(dir, { checkpointBytes: 256 });
    // As of LSN 40: page 1 newest at 12, pages 2-3 at 30, page 3 then at 40.
    const checkpoint = [localCommit(a, 12, 12, [1]).commit, localCommit(a, 30, 30, [2, 3]).commit, localCommit(a, 40, 40, [3]).commit];
    s.startLogSync(a, LSN.parse(40), checkpoint);
    for (let n = 41; n <= 60; n++) s.appendCommitsSync([{ commit: localCommit(a, n, n, [4]).commit }]);
    s.closeSync();
    const r = MemoryStore.open(dir, { checkpointBytes: 256 });
    expect([r.oldestLsnSync(a), r.latestLsnSync(a), r.statsSync().commits]).toEqual([40, 60, 23]);
    const version = (p: number, end: number) => r.findPageVersionSync(a, idx(p), LSN.FIRST, LSN.parse(end));
    expect([version(1, 60), version(2, 60), version(3, 60), version(4, 45), version(4, 40)]).toEqual([12, 30, 40, 45, undefined]);
    expect(() => r.startLogSync(a, LSN.parse(70), [localCommit(a, 70, 70, [1]).commit])).toThrow(/holds commits already/);
  });

  it('a squash past the latest commit is refused and changes nothing', () => {
    const s = MemoryStore.open();
    s.appendCommitsSync([localCommit(a, 1, 1, [1])]);
    expectCode(() => s.squashSync(new Map([[a, LSN.parse(2)]])), 'Internal');
    expect(s.oldestLsnSync(a)).toBe(1);
  });
});

describe('SlotStore: a store of format 2 (its checkpoints are Base records) opens as it is', () => {
  const a = vidOf(1);
  const entries = [localCommit(a, 1, 1, [1, 2]), localCommit(a, 2, 2, [2, 3]), localCommit(a, 3, 3, [4])];
  const [c1, c2, c3] = entries as [CommitEntry, CommitEntry, CommitEntry];

  /** A directory as Scion of format 2 wrote it: a Base record, then a Commits record, under marks and headers of format 2. */
  function formatTwoStore(): MemoryDirectory {
    const dir = new MemoryDirectory();
    const place = (e: CommitEntry, first: number) => [...e.pages!].map(([, page], i) => ({ slot: first + i, crc: crc32c(page) }));
    const segment = (e: CommitEntry, first: number) => ({ sid: e.commit.segment!.sid, pages: e.commit.segment!.pages, at: place(e, first) });
    const journal = [
      encodeJournalHeader(0, 2),
      encodeRecord({ type: RecordType.Base, commits: [c1.commit, c2.commit], segments: [segment(c1, 0), segment(c2, 2)], bases: [] }),
      encodeRecord({ type: RecordType.Commits, entries: [{ commit: c3.commit, at: place(c3, 4) }] }),
    ];
    let at = 0;
    for (const part of journal) at += dir.journals[0].write(part, { at });
    let slot = 0;
    for (const e of entries) for (const page of e.pages!.values()) dir.pages.write(page, { at: PAGE_SIZE * slot++ });
    HighWaterMark.write(dir.mark, { seq: 1, generation: 0, journalEnd: at }, 2);
    return dir;
  }

  const expectAllPages = (s: LocalStore) => {
    expect(s.latestLsnSync(a)).toBe(3);
    for (const e of entries) for (const [i, page] of e.pages!) expect(s.readPageSync(e.commit.segment!.sid, idx(i))).toEqual(page);
  };

  it('reads every commit and page, and its next checkpoint writes an image of format 3 that reopens the same', () => {
    const dir = formatTwoStore();
    const s = MemoryStore.open(dir, { checkpointBytes: 64 });
    expectAllPages(s);
    expect(s.findPageVersionSync(a, idx(2), LSN.FIRST, LSN.parse(3))).toBe(2);
    // Past a quarter of the Base record, a checkpoint follows a commit.
    for (let n = 4; dir.journals[1].getSize() === 0; n++) {
      expect(n).toBeLessThan(40);
      s.appendCommitsSync([localCommit(a, n, n, [1])]);
    }
    const latest = s.latestLsnSync(a);
    s.closeSync();
    const journal = (dir.journals[1].getSize() > 0 ? dir.journals[1] : dir.journals[0]).bytes();
    expect([new DataView(journal.buffer).getUint32(8, true), journal[20 + 4]]).toEqual([3, RecordType.Image]);
    expect(new DataView(dir.mark.bytes().buffer).getUint32(4, true)).toBe(3);
    const reopened = MemoryStore.open(dir);
    expect(reopened.latestLsnSync(a)).toBe(latest);
    expect(reopened.readPageSync(sidOf(4), idx(1))).toEqual(makePage(4, 1));
    expect(reopened.findPageVersionSync(a, idx(1), LSN.FIRST, LSN.parse(3))).toBe(1);
    expect(reopened.findPageVersionSync(a, idx(3), LSN.FIRST, latest!)).toBe(2);
    for (const e of entries) for (const [i, page] of e.pages!) expect(reopened.readPageSync(e.commit.segment!.sid, idx(i))).toEqual(page);
  });
});
