import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { isScionError, LSN, PageCount, PageIdx, PageSet, Snapshot, VolumeId, type ErrorCode, type Page } from '../core/index.ts';
import { IdbCatalog, MemoryDirectory, MemoryStore } from '../local/index.ts';
import { Runtime } from './runtime.ts';

let dbCounter = 0;

/** A runtime on a memory store and an IndexedDB catalog (fake-indexeddb), restartable on the same data. */
async function openRuntime(file = new MemoryDirectory(), catalogName = `runtime-test-${++dbCounter}`) {
  const rt = await Runtime.open({ store: MemoryStore.open(file), catalog: await IdbCatalog.open(catalogName) });
  return {
    rt,
    async restart() {
      rt.close();
      return (await openRuntime(file.copy(), catalogName)).rt;
    },
  };
}

const idx = (n: number) => PageIdx.parse(n);

function page(fill: number): Uint8Array {
  return new Uint8Array(4096).fill(fill);
}

function expectCode(fn: () => unknown, code: ErrorCode) {
  try {
    fn();
  } catch (e) {
    expect(isScionError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
    return;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

async function expectCodeAsync(p: Promise<unknown>, code: ErrorCode) {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(isScionError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
}

function write(rt: Runtime, vid: VolumeId, pages: Record<number, number>) {
  const w = rt.graftWriter(vid);
  for (const [i, fill] of Object.entries(pages)) w.writePage(idx(Number(i)), page(fill));
  return w.commit();
}

const fillOf = (p: Page) => p[0];

describe('tags', () => {
  it('tagOpen creates a graft under a new tag and returns the same graft next time', async () => {
    const { rt } = await openRuntime();
    const g = await rt.tagOpen('main');
    expect(rt.tagGet('main')).toBe(g.local);
    expect((await rt.tagOpen('main')).local).toBe(g.local);
    expect(rt.tagList()).toEqual([{ tag: 'main', graft: g.local }]);
  });

  it('tagReplace points a tag at another graft and returns the previous one', async () => {
    const { rt } = await openRuntime();
    const a = await rt.tagOpen('main');
    const b = await rt.graftOpen();
    expect(await rt.tagReplace('main', b.local)).toBe(a.local);
    expect(rt.tagGet('main')).toBe(b.local);
  });

  it('tagReplace refuses a graft that does not exist', async () => {
    const { rt } = await openRuntime();
    await expectCodeAsync(rt.tagReplace('main', VolumeId.random()), 'GraftNotFound');
  });

  it('tagDelete removes the name only, never the graft or its data', async () => {
    const { rt } = await openRuntime();
    const g = await rt.tagOpen('main');
    write(rt, g.local, { 1: 7 });
    expect(await rt.tagDelete('main')).toBe(true);
    expect(await rt.tagDelete('main')).toBe(false);
    expect(rt.tagGet('main')).toBeUndefined();
    expect(fillOf(rt.graftReader(g.local).readPage(idx(1)))).toBe(7);
  });

  it('rejects bad tag names and unknown tags with typed errors', async () => {
    const { rt } = await openRuntime();
    expectCode(() => rt.tagGet('no/slashes'), 'InvalidInput');
    expectCode(() => rt.tagGet(''), 'InvalidInput');
    expectCode(() => rt.mustGetTag('missing'), 'TagNotFound');
  });

  it('tags and grafts survive a restart', async () => {
    const h = await openRuntime();
    const g = await h.rt.tagOpen('main');
    write(h.rt, g.local, { 1: 1, 2: 2 });
    const rt = await h.restart();
    expect(rt.tagGet('main')).toBe(g.local);
    expect(fillOf(rt.graftReader(g.local).readPage(idx(2)))).toBe(2);
  });
});

describe('grafts', () => {
  it('graftOpen returns an existing graft and refuses a mismatched remote', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    expect(await rt.graftOpen({ local: g.local })).toEqual(g);
    expect(await rt.graftOpen({ local: g.local, remote: g.remote })).toEqual(g);
    await expectCodeAsync(rt.graftOpen({ local: g.local, remote: VolumeId.random() }), 'GraftRemoteMismatch');
  });

  it('graftOpen with given ids creates a graft with exactly those ids', async () => {
    const { rt } = await openRuntime();
    const local = VolumeId.random();
    const remote = VolumeId.random();
    const g = await rt.graftOpen({ local, remote });
    expect(g).toMatchObject({ local, remote });
    expect(g.sync).toBeUndefined();
    expect(rt.graftList().map((x) => x.local)).toEqual([local]);
  });

  it('graftDelete removes the graft, its tags and its local data, and nothing else', async () => {
    const h = await openRuntime();
    const a = await h.rt.tagOpen('a');
    const b = await h.rt.tagOpen('b');
    write(h.rt, a.local, { 1: 1 });
    write(h.rt, b.local, { 1: 2 });
    await h.rt.graftDelete(a.local);
    expect(h.rt.graftGet(a.local)).toBeUndefined();
    expect(h.rt.tagGet('a')).toBeUndefined();
    expectCode(() => h.rt.graftSnapshot(a.local), 'GraftNotFound');
    expect(fillOf(h.rt.graftReader(b.local).readPage(idx(1)))).toBe(2);
    const rt = await h.restart();
    expect(rt.graftGet(a.local)).toBeUndefined();
    expect(rt.tagList().map((t) => t.tag)).toEqual(['b']);
    expect(fillOf(rt.graftReader(b.local).readPage(idx(1)))).toBe(2);
  });

  it('status reports local commits as ahead, as data', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    expect(rt.graftStatus(g.local)).toMatchObject({ state: 'in-sync', ahead: 0, behind: 0, localLsn: undefined });
    write(rt, g.local, { 1: 1 });
    write(rt, g.local, { 2: 2 });
    const status = rt.graftStatus(g.local);
    expect(status).toMatchObject({ state: 'ahead', ahead: 2, behind: 0, localLsn: 2, remoteLsn: undefined, pendingPush: undefined });
    expect(JSON.parse(JSON.stringify(status))).toMatchObject({ state: 'ahead', local: g.local, remote: g.remote });
  });
});

describe('readers and writers', () => {
  it('writers reuse the page buffers of finished writers without changing committed pages, adopted pages or pages read', async () => {
    const { rt } = await openRuntime();
    const g = await rt.tagOpen('main');
    const first = rt.graftWriter(g.local);
    for (let i = 1; i <= 4; i++) first.writePage(idx(i), page(i));
    first.writePage(idx(2), page(20)); // written twice in one transaction: the last bytes count
    const read = first.readPage(idx(3));
    first.commit();
    const adopted = page(9) as Page;
    const importer = rt.graftWriter(g.local);
    importer.adoptPage(idx(5), adopted);
    importer.commit();
    // These copies may land in the buffers the writers above gave back.
    const discarded = rt.graftWriter(g.local);
    for (let i = 1; i <= 5; i++) discarded.writePage(idx(i), page(0xee));
    discarded.discard();
    write(rt, g.local, { 6: 6, 7: 7, 8: 8 });
    const reader = rt.graftReader(g.local);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((i) => fillOf(reader.readPage(idx(i))))).toEqual([1, 20, 3, 4, 9, 6, 7, 8]);
    expect(read.every((b) => b === 3)).toBe(true);
    expect(adopted.every((b) => b === 9)).toBe(true);
    const into = new Uint8Array(4096);
    reader.readPageInto(idx(2), into);
    expect(into.every((b) => b === 20)).toBe(true);
  });

  it('never-written pages and pages past the end read as zeros', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    expect(rt.graftReader(g.local).readPage(idx(1))).toEqual(new Uint8Array(4096));
    write(rt, g.local, { 3: 9 });
    const r = rt.graftReader(g.local);
    expect(r.pageCount).toBe(3);
    expect(r.readPage(idx(1))).toEqual(new Uint8Array(4096));
    expect(fillOf(r.readPage(idx(3)))).toBe(9);
    expect(r.readPage(idx(4))).toEqual(new Uint8Array(4096));
  });

  it('a writer reads its own writes before commit, and others do not see them', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    write(rt, g.local, { 1: 1 });
    const w = rt.graftWriter(g.local);
    w.writePage(idx(1), page(5));
    expect(fillOf(w.readPage(idx(1)))).toBe(5);
    expect(fillOf(rt.graftReader(g.local).readPage(idx(1)))).toBe(1);
    w.commit();
    expect(fillOf(rt.graftReader(g.local).readPage(idx(1)))).toBe(5);
  });

  it('a writer keeps a copy: mutating the caller buffer after writePage changes nothing', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    const w = rt.graftWriter(g.local);
    const buf = page(1);
    w.writePage(idx(1), buf);
    buf.fill(2);
    w.commit();
    expect(fillOf(rt.graftReader(g.local).readPage(idx(1)))).toBe(1);
  });

  it('each commit produces exactly one new local LSN, even an empty one', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    write(rt, g.local, { 1: 1 });
    expect(Snapshot.head(rt.graftSnapshot(g.local))?.lsn).toBe(1);
    rt.graftWriter(g.local).commit();
    expect(Snapshot.head(rt.graftSnapshot(g.local))?.lsn).toBe(2);
    expect(rt.graftStatus(g.local).localLsn).toBe(2);
  });

  it('a reader keeps its snapshot while later commits land', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    write(rt, g.local, { 1: 1 });
    const r = rt.graftReader(g.local);
    write(rt, g.local, { 1: 2 });
    expect(fillOf(r.readPage(idx(1)))).toBe(1);
    expect(fillOf(rt.graftReader(g.local).readPage(idx(1)))).toBe(2);
  });

  it('a stale writer is refused with ConcurrentWrite and leaves no lock: the next writer commits', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    const first = rt.graftWriter(g.local);
    const second = rt.graftWriter(g.local);
    first.writePage(idx(1), page(1));
    second.writePage(idx(1), page(2));
    first.commit();
    expectCode(() => second.commit(), 'ConcurrentWrite');
    expect(fillOf(rt.graftReader(g.local).readPage(idx(1)))).toBe(1);
    expectCode(() => second.commit(), 'Closed');
    write(rt, g.local, { 1: 3 });
    expect(fillOf(rt.graftReader(g.local).readPage(idx(1)))).toBe(3);
    expect(rt.graftStatus(g.local).localLsn).toBe(2);
  });

  it('a discarded writer writes nothing', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    const w = rt.graftWriter(g.local);
    w.writePage(idx(1), page(1));
    w.discard();
    expect(rt.graftStatus(g.local).localLsn).toBeUndefined();
    expectCode(() => w.writePage(idx(1), page(1)), 'Closed');
  });

  it('writePage refuses a page that is not 4096 bytes', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    expectCode(() => rt.graftWriter(g.local).writePage(idx(1), new Uint8Array(4095)), 'InvalidInput');
  });

  it('soft truncation hides pages past the new end, and they read as zeros when the volume grows again', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    write(rt, g.local, { 1: 1, 2: 2, 3: 3, 4: 4 });
    const t = rt.graftWriter(g.local);
    t.softTruncate(PageCount.parse(2));
    expect(t.readPage(idx(3))).toEqual(new Uint8Array(4096));
    t.commit();
    const r = rt.graftReader(g.local);
    expect(r.pageCount).toBe(2);
    expect(r.readPage(idx(3))).toEqual(new Uint8Array(4096));
    write(rt, g.local, { 5: 5 });
    const grown = rt.graftReader(g.local);
    expect(grown.pageCount).toBe(5);
    expect(grown.readPage(idx(3))).toEqual(new Uint8Array(4096));
    expect(grown.readPage(idx(4))).toEqual(new Uint8Array(4096));
    expect(fillOf(grown.readPage(idx(2)))).toBe(2);
    expect(fillOf(grown.readPage(idx(5)))).toBe(5);
  });

  it('truncating and growing inside one transaction also zeroes the hidden pages', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    write(rt, g.local, { 1: 1, 2: 2, 3: 3 });
    const w = rt.graftWriter(g.local);
    w.softTruncate(PageCount.parse(1));
    w.writePage(idx(3), page(9));
    expect(w.readPage(idx(2))).toEqual(new Uint8Array(4096));
    w.commit();
    const r = rt.graftReader(g.local);
    expect(r.readPage(idx(2))).toEqual(new Uint8Array(4096));
    expect(fillOf(r.readPage(idx(3)))).toBe(9);
  });

  it('the onCommit listener sees every local commit with its snapshot', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    const seen: number[] = [];
    const stop = rt.onCommit((e) => seen.push(e.lsn));
    write(rt, g.local, { 1: 1 });
    write(rt, g.local, { 1: 2 });
    stop();
    write(rt, g.local, { 1: 3 });
    expect(seen).toEqual([1, 2]);
  });
});

describe('snapshots, checkout and fork', () => {
  it('checkout shows the volume as it was at a past LSN, also after restart', async () => {
    const h = await openRuntime();
    const g = await h.rt.graftOpen();
    write(h.rt, g.local, { 1: 1, 2: 1 });
    write(h.rt, g.local, { 2: 2, 3: 2 });
    const rt = await h.restart();
    const past = rt.volumeReader(rt.volumeCheckout(g.local, LSN.parse(1)));
    expect(past.pageCount).toBe(2);
    expect(fillOf(past.readPage(idx(2)))).toBe(1);
    expect(past.readPage(idx(3))).toEqual(new Uint8Array(4096));
    expect(fillOf(rt.graftReader(g.local).readPage(idx(2)))).toBe(2);
  });

  it('checkout of an LSN that is not held locally is CommitNotFound', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    write(rt, g.local, { 1: 1 });
    expectCode(() => rt.volumeCheckout(g.local, LSN.parse(2)), 'CommitNotFound');
  });

  it('fork makes an independent graft that starts with the snapshot content', async () => {
    const h = await openRuntime();
    const g = await h.rt.graftOpen();
    write(h.rt, g.local, { 1: 1, 2: 1 });
    write(h.rt, g.local, { 2: 2 });
    const fork = await h.rt.graftFork(h.rt.volumeCheckout(g.local, LSN.parse(1)));
    expect(fork.local).not.toBe(g.local);
    expect(fork.remote).not.toBe(g.remote);
    expect(fillOf(h.rt.graftReader(fork.local).readPage(idx(2)))).toBe(1);
    write(h.rt, fork.local, { 1: 9 });
    expect(fillOf(h.rt.graftReader(g.local).readPage(idx(1)))).toBe(1);
    // The fork shares segments with its origin: deleting the origin must keep the fork's pages.
    await h.rt.graftDelete(g.local);
    const rt = await h.restart();
    const r = rt.graftReader(fork.local);
    expect([fillOf(r.readPage(idx(1))), fillOf(r.readPage(idx(2)))]).toEqual([9, 1]);
  });

  it('checksum is equal for equal content written in different orders and commits', async () => {
    const { rt } = await openRuntime();
    const a = await rt.graftOpen();
    const b = await rt.graftOpen();
    write(rt, a.local, { 1: 1, 2: 2, 3: 3 });
    write(rt, b.local, { 3: 3 });
    write(rt, b.local, { 2: 7 });
    write(rt, b.local, { 1: 1, 2: 2 });
    const sa = rt.snapshotChecksum(rt.graftSnapshot(a.local));
    expect(sa).toMatch(/^[0-9a-f]{32}$/);
    expect(rt.snapshotChecksum(rt.graftSnapshot(b.local))).toBe(sa);
    write(rt, b.local, { 3: 4 });
    expect(rt.snapshotChecksum(rt.graftSnapshot(b.local))).not.toBe(sa);
  });

  it('a snapshot whose pages are all local has no missing pages', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    write(rt, g.local, { 1: 1, 4: 4 });
    expect(rt.snapshotMissingPages(rt.graftSnapshot(g.local)).equals(PageSet.EMPTY)).toBe(true);
  });

  it('reading a snapshot of a volume with no local commits is CommitNotFound, not zeros', async () => {
    const { rt } = await openRuntime();
    const ghost = { pageCount: PageCount.parse(1), path: [{ vid: VolumeId.random(), start: LSN.FIRST, end: LSN.FIRST }] };
    expectCode(() => rt.readPage(ghost, idx(1)), 'CommitNotFound');
    expectCode(() => rt.volumeCheckout(ghost.path[0]!.vid, LSN.FIRST), 'CommitNotFound');
  });
});

describe('runtime lifecycle', () => {
  it('a closed runtime refuses work with Closed', async () => {
    const { rt } = await openRuntime();
    const g = await rt.graftOpen();
    const r = rt.graftReader(g.local);
    rt.close();
    expectCode(() => r.readPage(idx(1)), 'Closed');
    expectCode(() => rt.graftWriter(g.local), 'Closed');
  });

  // A 2,000-page commit is a few KiB of journal, but an open would place each page again.
  const bigCommit = (rt: Runtime, vid: VolumeId) => write(rt, vid, Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [i + 1, i % 251])));

  it('checkpoints the store journal once writes pause, so an open replays little', async () => {
    const dir = new MemoryDirectory();
    const store = MemoryStore.open(dir);
    const rt = await Runtime.open({ store, catalog: await IdbCatalog.open(`runtime-test-${++dbCounter}`), quietCheckpointMs: 20 });
    const g = await rt.graftOpen();
    bigCommit(rt, g.local);
    expect(store.statsSync().journalTailBytes).toBeGreaterThan(0);
    await expect.poll(() => store.statsSync().journalTailBytes, { timeout: 5_000 }).toBe(0);
    rt.close();
  });

  it('checkpoints the store journal at close', async () => {
    const dir = new MemoryDirectory();
    const { rt } = await openRuntime(dir);
    const g = await rt.graftOpen();
    bigCommit(rt, g.local);
    rt.close();
    const reopened = MemoryStore.open(dir);
    expect(reopened.statsSync().journalTailBytes).toBe(0);
    expect(reopened.statsSync().pages).toBe(2_000);
  });
});
