// The local store's size through the runtime: landing a push stores nothing twice, deleting and local
// GC give bytes back, and single-page commits under push + GC keep the store near its live size.
import { describe, expect, it } from 'vitest';
import { LSN, PageIdx, type VolumeId } from '../core/index.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../local/index.ts';
import { MemoryRemote } from '../remote/index.ts';
import { DEFAULT_HISTORY_COMMITS } from './jobs/gc.ts';
import { Runtime } from './runtime.ts';

const PAGE = 4096;

async function device(remote = new MemoryRemote(), autoGc?: { everyCommits: number }) {
  const dir = new MemoryDirectory();
  const rt = await Runtime.open({ store: MemoryStore.open(dir), catalog: new MemoryCatalog(), remote, ...(autoGc ? { autoGc } : {}) });
  return { rt, dir, remote };
}

function write(rt: Runtime, vid: VolumeId, from: number, to: number, fill: number) {
  const w = rt.graftWriter(vid);
  for (let i = from; i <= to; i++) w.writePage(PageIdx.parse(i), new Uint8Array(PAGE).fill((fill + i) & 0xff));
  w.commit();
}

describe('local store space through the runtime', () => {
  it('the first push of a 2,000-page database grows the store by less than 10% (pages are linked, not stored again)', async () => {
    const { rt, dir } = await device();
    const g = await rt.tagOpen('main');
    write(rt, g.local, 1, 2000, 1);
    const before = dir.totalBytes;
    expect(before).toBeGreaterThan(2000 * PAGE);
    expect(await rt.graftPush(g.local)).toMatchObject({ outcome: 'pushed', pages: 2000 });
    expect(dir.totalBytes).toBeLessThanOrEqual(1.1 * before);
    // Reads after the push stay local: the remote commit's pages are held.
    expect(rt.snapshotMissingPages(rt.graftSnapshot(g.local)).isEmpty).toBe(true);
    // Local GC then drops the local commit's copy of the keys, not the bytes the remote commit holds.
    rt.collectLocalGarbage();
    await rt.storeUpkeep();
    expect(rt.snapshotMissingPages(rt.graftSnapshot(g.local)).isEmpty).toBe(true);
    expect(dir.totalBytes).toBeLessThanOrEqual(1.1 * before);
  });

  it('deleting a graft shrinks the store to almost nothing', async () => {
    const { rt, dir } = await device();
    const keep = await rt.tagOpen('keep');
    write(rt, keep.local, 1, 2, 9);
    const g = await rt.tagOpen('main');
    for (let n = 1; n <= 300; n++) write(rt, g.local, 1, 4, n);
    const full = dir.totalBytes;
    expect(full).toBeGreaterThan(300 * 4 * PAGE);
    await rt.graftDelete(g.local);
    await rt.storeUpkeep();
    expect(dir.totalBytes).toBeLessThan(2 * PAGE + 64 * 1024);
    expect(rt.graftReader(keep.local).readPage(PageIdx.parse(2))[0]).toBe(11);
  });

  it('local GC after a push gives the bytes of old versions back and never grows the store', async () => {
    const { rt, dir } = await device();
    const g = await rt.tagOpen('main');
    for (let n = 1; n <= 500; n++) write(rt, g.local, 1, 2, n);
    await rt.graftPush(g.local);
    const before = dir.totalBytes;
    const result = rt.collectLocalGarbage({ historyCommits: 0 });
    expect(result.pagesEvicted).toBeGreaterThan(900);
    expect(dir.totalBytes).toBeLessThanOrEqual(before);
    await rt.storeUpkeep();
    expect(dir.totalBytes).toBeLessThan(before / 10);
    const r = rt.graftReader(g.local);
    expect([r.readPage(PageIdx.parse(1))[0], r.readPage(PageIdx.parse(2))[0]]).toEqual([(500 + 1) & 0xff, (500 + 2) & 0xff]);
  });

  it('thousands of single-page commits with periodic push and GC keep the store near its live size', async () => {
    const { rt, dir } = await device();
    const g = await rt.tagOpen('main');
    write(rt, g.local, 1, 30, 0); // a 30-page database
    for (let n = 1; n <= 2000; n++) {
      write(rt, g.local, 1 + (n % 30), 1 + (n % 30), n);
      if (n % 250 === 0) {
        await rt.graftPush(g.local);
        rt.collectLocalGarbage();
        await rt.storeUpkeep();
      }
    }
    // Live: 30 pages (123 KB), plus the pages of the history window. The commit records of 2,000
    // commits remain, a few hundred bytes each.
    expect(dir.pages.getSize()).toBeLessThanOrEqual((30 + DEFAULT_HISTORY_COMMITS) * PAGE);
    expect(dir.totalBytes).toBeLessThan(2 * (30 + DEFAULT_HISTORY_COMMITS) * PAGE + 1024 * 1024);
  });
});

describe('automatic local GC (autoGc, on in the DB worker)', () => {
  it('single-page commits stay near the live size without the app ever calling GC', async () => {
    const { rt, dir } = await device(new MemoryRemote(), { everyCommits: 100 });
    const g = await rt.tagOpen('main');
    write(rt, g.local, 1, 30, 0);
    for (let n = 1; n <= 1500; n++) {
      write(rt, g.local, 1 + (n % 30), 1 + (n % 30), n);
      if (n % 10 === 0) await new Promise((r) => setTimeout(r, 0)); // the app yields now and then
    }
    await rt.storeUpkeep();
    expect(dir.pages.getSize()).toBeLessThanOrEqual((30 + 100 + DEFAULT_HISTORY_COMMITS) * PAGE);
  });

  it('a reader\'s snapshot stays whole while commits and automatic GC run', async () => {
    const { rt } = await device(new MemoryRemote(), { everyCommits: 10 });
    const g = await rt.tagOpen('main');
    write(rt, g.local, 1, 5, 1);
    const reader = rt.graftReader(g.local);
    const release = rt.retainSnapshot(reader.snapshot);
    for (let n = 2; n <= 200; n++) {
      write(rt, g.local, 1, 5, n);
      if (n % 10 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    await rt.storeUpkeep();
    expect([1, 2, 3, 4, 5].map((i) => reader.readPage(PageIdx.parse(i))[0])).toEqual([2, 3, 4, 5, 6]);
    release();
  });
});

describe('what local GC retains', () => {
  it('a database never pushed (local-only) stays near its live size: only the newest unpushed versions and the history window stay', async () => {
    const { rt, dir } = await device();
    const g = await rt.tagOpen('main');
    write(rt, g.local, 1, 30, 0);
    for (let n = 1; n <= 2000; n++) {
      write(rt, g.local, 1 + (n % 30), 1 + (n % 30), n);
      if (n % 250 === 0) {
        rt.collectLocalGarbage();
        await rt.storeUpkeep();
      }
    }
    expect(dir.pages.getSize()).toBeLessThanOrEqual((30 + DEFAULT_HISTORY_COMMITS) * PAGE);
    // Every page reads its newest version, and a push still sends the whole database.
    const r = rt.graftReader(g.local);
    for (let i = 1; i <= 30; i++) {
      const n = [...Array(2001).keys()].filter((k) => k > 0 && 1 + (k % 30) === i).at(-1) ?? 0;
      expect(r.readPage(PageIdx.parse(i))[0]).toBe((n + i) & 0xff);
    }
    expect(await rt.graftPush(g.local)).toMatchObject({ outcome: 'pushed', pages: 30 });
  });

  it('pages of the last N local commits (the history window) and of retained snapshots stay; the rest goes', async () => {
    const { rt } = await device();
    const g = await rt.tagOpen('main');
    for (let n = 1; n <= 10; n++) write(rt, g.local, 1, 1, n);
    await rt.graftPush(g.local);
    // Whether page 1 as local commit `lsn` wrote it is held.
    const held = (lsn: number) => rt.snapshotPageStates(rt.volumeCheckout(g.local, LSN.parse(lsn)))[0]?.held === true;
    const old = rt.volumeCheckout(g.local, LSN.parse(2));
    const release = rt.retainSnapshot(old);
    rt.collectLocalGarbage({ historyCommits: 3 });
    expect([2, 7, 8, 9, 10].map(held)).toEqual([true, false, true, true, true]);
    release();
    expect(rt.collectLocalGarbage({ historyCommits: 0 }).commitsSquashed).toBe(8); // 2..=9 (1 went in the first run)
    // History older than every retained snapshot and the window is squashed: its checkouts are refused.
    for (const lsn of [2, 8]) expect(() => held(lsn)).toThrow(expect.objectContaining({ code: 'CommitNotFound', message: expect.stringContaining('squashed') }));
    expect(held(10)).toBe(false);
    // The latest content is still read locally: the pushed commit holds it.
    expect(rt.snapshotMissingPages(rt.graftSnapshot(g.local)).isEmpty).toBe(true);
  });
});

describe('deleting on a full disk', () => {
  it('a delete that resolved stands (also after a reopen) even when dropping the data hits the quota', async () => {
    const dir = new MemoryDirectory();
    const catalog = new MemoryCatalog();
    const rt = await Runtime.open({ store: MemoryStore.open(dir), catalog });
    const g = await rt.tagOpen('doomed');
    write(rt, g.local, 1, 10, 1);
    const journals = dir.journals;
    const realWrites = journals.map((j) => j.write.bind(j));
    journals.forEach((j) => {
      j.write = () => {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      };
    });
    await rt.graftDelete(g.local);
    journals.forEach((j, i) => (j.write = realWrites[i]!));
    expect(rt.graftList()).toEqual([]);
    expect(await rt.tagList()).toEqual([]);
    const reopened = await Runtime.open({ store: MemoryStore.open(dir.copy()), catalog });
    expect(reopened.graftList()).toEqual([]);
    expect(await reopened.tagList()).toEqual([]);
  });
});

describe('local history squashed into a checkpoint', () => {

  it('after 3,000 commits and GC the reopened store holds O(window) commits; the window, forks and pushes read the same', async () => {
    const dir = new MemoryDirectory();
    const catalog = new MemoryCatalog();
    const remote = new MemoryRemote();
    const rt = await Runtime.open({ store: MemoryStore.open(dir), catalog, remote, autoGc: { everyCommits: 500, historyCommits: 16 } });
    const g = await rt.tagOpen('main');
    write(rt, g.local, 1, 20, 0);
    for (let n = 1; n <= 3000; n++) write(rt, g.local, 1 + (n % 20), 1 + (n % 20), n);
    await rt.storeUpkeep();
    const sums = new Map<number, string>();
    for (let lsn = 2986; lsn <= 3001; lsn++) sums.set(lsn, rt.snapshotChecksum(rt.volumeCheckout(g.local, LSN.parse(lsn))));
    const latest = rt.snapshotChecksum(rt.graftSnapshot(g.local));
    rt.close();

    const store = MemoryStore.open(dir);
    const again = await Runtime.open({ store, catalog, remote });
    const stats = store.statsSync();
    expect(stats.commits).toBeLessThanOrEqual(16 + 20 + 500);
    for (const [lsn, sum] of sums) expect(again.snapshotChecksum(again.volumeCheckout(g.local, LSN.parse(lsn)))).toBe(sum);
    expect(() => again.volumeCheckout(g.local, LSN.parse(100))).toThrow(expect.objectContaining({ code: 'CommitNotFound', message: expect.stringContaining('squashed') }));
    // A fork of the latest snapshot copies the checkpoint's commits and reads the same.
    const fork = await again.graftFork(again.graftSnapshot(g.local));
    expect(again.snapshotChecksum(again.graftSnapshot(fork.local))).toBe(latest);
    // Squashed unpushed commits still push every page's newest version.
    expect(await again.graftPush(g.local)).toMatchObject({ outcome: 'pushed', pages: 20 });
    const other = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote });
    const clone = await other.graftClone(g.remote);
    await other.graftHydrate(clone.local);
    expect(other.snapshotChecksum(other.graftSnapshot(clone.local))).toBe(latest);
  });

  it('an open checkout keeps its commit checkout-able through GC, and the pages it reads', async () => {
    const { rt } = await device();
    const g = await rt.tagOpen('main');
    for (let n = 1; n <= 50; n++) write(rt, g.local, 1, 3, n);
    const old = rt.volumeCheckout(g.local, LSN.parse(5));
    const sum = rt.snapshotChecksum(old);
    const release = rt.retainSnapshot(old);
    expect(rt.collectLocalGarbage({ historyCommits: 2 }).commitsSquashed).toBe(4);
    expect(rt.snapshotChecksum(rt.volumeCheckout(g.local, LSN.parse(5)))).toBe(sum);
    release();
    rt.collectLocalGarbage({ historyCommits: 2 });
    expect(() => rt.snapshotChecksum(old)).toThrow(expect.objectContaining({ code: 'CommitNotFound' }));
  });
});

describe('a delete cut short by a full disk is finished later', () => {
  it('the volumes a quota-failed delete left behind are dropped at the next open, giving the space back', async () => {
    const dir = new MemoryDirectory();
    const catalog = new MemoryCatalog();
    const rt = await Runtime.open({ store: MemoryStore.open(dir), catalog });
    const kept = await rt.tagOpen('kept');
    write(rt, kept.local, 1, 2, 7);
    const g = await rt.tagOpen('doomed');
    for (let n = 0; n < 20; n++) write(rt, g.local, 1, 10, n);
    const realWrites = dir.journals.map((j) => j.write.bind(j));
    dir.journals.forEach((j) => {
      j.write = () => {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      };
    });
    await rt.graftDelete(g.local);
    dir.journals.forEach((j, i) => (j.write = realWrites[i]!));
    await rt.close();
    const left = MemoryStore.open(dir.copy());
    expect(left.volumesSync()).toContain(g.local); // the drop failed: its records are still there
    left.closeSync();

    const reopened = await Runtime.open({ store: MemoryStore.open(dir), catalog });
    await reopened.storeUpkeep();
    const store = MemoryStore.open(dir.copy());
    expect(store.volumesSync()).toEqual([kept.local]);
    expect(dir.totalBytes).toBeLessThan(6 * PAGE + 4096);
    expect(reopened.graftReader(kept.local).readPage(PageIdx.parse(2))).toEqual(new Uint8Array(PAGE).fill(9));
  });
});

/** A device whose graft "main" pushed one commit (pages 1-3). */
async function pushedOnce() {
  const remote = new MemoryRemote();
  const dir = new MemoryDirectory();
  const catalog = new MemoryCatalog();
  const rt = await Runtime.open({ store: MemoryStore.open(dir), catalog, remote });
  const g = await rt.tagOpen('main');
  write(rt, g.local, 1, 3, 1);
  await rt.graftPush(g.local);
  return { remote, dir, catalog, rt, g };
}

describe('a salvaged store and the catalog agree', () => {
  it('remote commits lost to salvage: the graft is not in-sync over a commit it lacks; its snapshot reads after a pull restores them', async () => {
    const { remote, dir, catalog, rt, g } = await pushedOnce();
    const journalBefore = (dir.journals[0].getSize() > 0 ? dir.journals[0] : dir.journals[1]).getSize();
    write(rt, g.local, 2, 3, 50);
    await rt.graftPush(g.local);
    expect(rt.graftStatus(g.local).state).toBe('in-sync');
    await rt.close();
    // Lose everything the second commit and push wrote to the journal.
    const cut = dir.copy();
    (cut.journals[0].getSize() > 0 ? cut.journals[0] : cut.journals[1]).truncate(journalBefore);
    const lost: unknown[] = [];
    const store = MemoryStore.open(cut, { salvage: true, onSalvaged: (i) => lost.push(i) });
    expect(lost).toHaveLength(1);
    const salvaged = await Runtime.open({ store, catalog }); // offline: no remote to fetch from
    const status = salvaged.graftStatus(g.local);
    expect(status.remoteLsn).toBe(1); // the sync point moved back to the remote commit still held
    expect(status.state).toBe('in-sync');
    expect(salvaged.graftReader(g.local).readPage(PageIdx.parse(2))).toEqual(new Uint8Array(PAGE).fill(3));
    await salvaged.close();

    const online = await Runtime.open({ store: MemoryStore.open(cut), catalog, remote });
    await online.graftFetch(g.local);
    expect(online.graftStatus(g.local).state).toBe('behind');
    expect((await online.graftPull(g.local)).outcome).toBe('pulled');
    expect(online.graftReader(g.local).readPage(PageIdx.parse(2))).toEqual(new Uint8Array(PAGE).fill(52));
  });

  it('local commits lost to salvage below the push watermark: new commits are not hidden under it', async () => {
    const { dir, catalog, rt, g } = await pushedOnce();
    await rt.close();
    // Only the journal header is left: every commit, local and remote, is lost; the catalog still says pushed up to 1.
    const cut = dir.copy();
    (cut.journals[0].getSize() > 0 ? cut.journals[0] : cut.journals[1]).truncate(20);
    const salvaged = await Runtime.open({ store: MemoryStore.open(cut, { salvage: true }), catalog });
    expect(salvaged.graftStatus(g.local)).toMatchObject({ state: 'in-sync', localWatermark: undefined, remoteLsn: undefined });
    write(salvaged, g.local, 1, 1, 90);
    expect(salvaged.graftStatus(g.local)).toMatchObject({ state: 'ahead', ahead: 1 });
    expect(salvaged.graftReader(g.local).readPage(PageIdx.parse(1))).toEqual(new Uint8Array(PAGE).fill(91));
  });

  it('an import whose staging volume was left behind (a crash, or its drop failed) keeps every imported page when the next open drops it', async () => {
    const dir = new MemoryDirectory();
    const catalog = new MemoryCatalog();
    const store = MemoryStore.open(dir);
    const rt = await Runtime.open({ store, catalog });
    const g = await rt.tagOpen('main');
    write(rt, g.local, 1, 3, 1);
    const staged = rt.volumeStage();
    const fill = (i: number) => (i * 7) & 0xff;
    for (let step = 0; step < 4; step++) staged.append(Array.from({ length: 50 }, (_, i) => new Uint8Array(PAGE).fill(fill(step * 50 + i + 1))));
    // The database's commit lands; dropping the staging volume then fails, as a crash right after the commit leaves it.
    const drop = store.dropVolumeSync.bind(store);
    store.dropVolumeSync = () => {
      store.dropVolumeSync = drop;
      throw new Error('crash');
    };
    rt.graftCommitStaged(g.local, rt.graftVersion(g.local), staged);
    expect(store.volumesSync()).toHaveLength(2);
    rt.close();
    const afterCrash = dir.copy();
    const again = await Runtime.open({ store: MemoryStore.open(afterCrash), catalog });
    await again.storeUpkeep();
    const reader = again.graftReader(g.local);
    expect(again.graftSnapshot(g.local).pageCount).toBe(200);
    for (let i = 1; i <= 200; i++) expect(reader.readPage(PageIdx.parse(i))[0], `page ${i}`).toBe(fill(i));
    expect(again.volumeOldestLsn(g.local)).toBe(1);
    // The staging volume is gone, its pages are not (the commit names them).
    again.close();
    expect(MemoryStore.open(afterCrash).volumesSync()).toEqual([g.local]);
  });
});
