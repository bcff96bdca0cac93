import { describe, expect, it } from 'vitest';
import { isScionError, PageIdx, ScionError, type Graft, type VolumeId } from '../../src/core/index.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../../src/local/index.ts';
import { MemoryRemote } from '../../src/remote/index.ts';
import { Runtime } from '../../src/runtime/index.ts';

/*
 * Bugs the simulator found, each reduced to a deterministic test. The seed that found it is named;
 * `npm run sim -- --seed <seed> --clients <c> --ops <n>` replays the original run.
 */

/** A catalog whose next graft write, once held, waits until the test opens it: a slow IndexedDB write. */
class GatedCatalog extends MemoryCatalog {
  #gate: { reached: () => void; opened: Promise<void> } | undefined;

  /** Holds the next graft write; `waiting` resolves once a write is held. */
  hold(): { waiting: Promise<void>; open: () => void } {
    let reached!: () => void;
    let open!: () => void;
    const waiting = new Promise<void>((r) => (reached = r));
    this.#gate = { reached, opened: new Promise<void>((r) => (open = r)) };
    return { waiting, open };
  }

  override async putGraft(graft: Graft): Promise<void> {
    const gate = this.#gate;
    this.#gate = undefined;
    if (gate) {
      gate.reached();
      await gate.opened;
    }
    return super.putGraft(graft);
  }
}

const page = (fill: number) => new Uint8Array(4096).fill(fill);

function write(rt: Runtime, vid: VolumeId, pages: Record<number, number>): void {
  const w = rt.graftWriter(vid);
  for (const [i, fill] of Object.entries(pages)) w.writePage(PageIdx.parse(Number(i)), page(fill));
  w.commit();
}

describe('regressions found by the simulator', () => {
  it('a local commit made while a pull writes its new sync point is refused, never rebased onto commits it did not see (seed 295)', async () => {
    const remote = new MemoryRemote();
    const a = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote });
    const ga = await a.graftOpen();
    write(a, ga.local, { 1: 1, 2: 1 });
    await a.graftPush(ga.local);

    const catalog = new GatedCatalog();
    const b = await Runtime.open({ store: MemoryStore.open(), catalog, remote });
    const gb = await b.graftClone(ga.remote);
    write(a, ga.local, { 1: 2 });
    await a.graftPush(ga.local); // remote LSN 2: page 1 is now 2

    // B's transaction reads LSN 1 (page 1 = 1) and will write page 2 from it.
    const w = b.graftWriter(gb.local);
    const seen = w.readPage(PageIdx.parse(1))[0] as number;
    const held = catalog.hold();
    const pulling = b.graftPull(gb.local);
    await held.waiting; // the pull checked B has no local commits and is writing its new sync point
    w.writePage(PageIdx.parse(2), page(seen + 10));
    let refused: unknown;
    try {
      w.commit();
    } catch (e) {
      refused = e;
    }
    held.open();
    // Committed now, it would be based on LSN 1 and then sit on top of LSN 2 (page 1 = 2 next to
    // page 2 = 11, a state no one wrote). It must be refused, and the pull must fast-forward.
    expect(isScionError(refused, 'ConcurrentWrite'), String(refused)).toBe(true);
    expect(await pulling).toMatchObject({ outcome: 'pulled', to: 2 });
    const r = b.graftReader(gb.local);
    expect([r.readPage(PageIdx.parse(1))[0], r.readPage(PageIdx.parse(2))[0]]).toEqual([2, 1]);
    expect(b.graftStatus(gb.local).state).toBe('in-sync');
  });

  it('deleting a graft while its push lands does not bring the graft back without its data (seed 1140)', async () => {
    const remote = new MemoryRemote();
    const catalog = new GatedCatalog();
    const rt = await Runtime.open({ store: MemoryStore.open(), catalog, remote });
    const g = await rt.graftOpen();
    write(rt, g.local, { 1: 1 });
    // Hold the push's last catalog write (its new sync point), then delete the graft.
    let held: ReturnType<GatedCatalog['hold']> | undefined;
    const put = remote.putCommit.bind(remote);
    remote.putCommit = async (...args) => {
      const outcome = await put(...args);
      held = catalog.hold();
      return outcome;
    };
    const pushing = rt.graftPush(g.local).catch((e: unknown) => e);
    while (!held) await new Promise((r) => setImmediate(r));
    await held.waiting;
    const deleting = rt.graftDelete(g.local).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    held.open();
    await pushing;
    await deleting;
    expect(rt.graftGet(g.local)).toBeUndefined();
    expect((await catalog.load()).grafts.map((x) => x.local)).not.toContain(g.local);
    expect(() => rt.collectLocalGarbage()).not.toThrow();
  });

  it('a snapshot of a graft deleted meanwhile fails to read (CommitNotFound), never reads as zeros (seed 1404)', async () => {
    const remote = new MemoryRemote();
    const rt = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote });
    const g = await rt.graftOpen();
    write(rt, g.local, { 1: 7 });
    await rt.graftPush(g.local);
    const fork = await rt.graftFork(rt.graftSnapshot(g.local));
    write(rt, fork.local, { 2: 8 });
    const reader = rt.graftReader(fork.local);
    expect(reader.readPage(PageIdx.parse(2))[0]).toBe(8);
    await rt.graftDelete(fork.local);
    for (const idx of [1, 2]) {
      let read: unknown;
      try {
        read = reader.readPage(PageIdx.parse(idx))[0];
      } catch (e) {
        read = isScionError(e, 'CommitNotFound') ? 'CommitNotFound' : e;
      }
      expect(read).toBe('CommitNotFound');
    }
  });

  it('a runtime opens even when recovering a pending push meets an expired URL or a damaged body (seed 275)', async () => {
    for (const failure of ['UrlExpired', 'Corrupt'] as const) {
      const remote = new MemoryRemote();
      const file = new MemoryDirectory();
      const catalog = new MemoryCatalog();
      const rt = await Runtime.open({ store: MemoryStore.open(file), catalog, remote });
      const g = await rt.graftOpen();
      write(rt, g.local, { 1: 1 });
      // The commit lands, its response is lost: the push stays pending.
      const put = remote.putCommit.bind(remote);
      remote.putCommit = async (...args) => {
        await put(...args);
        throw new ScionError('RemoteUnavailable', 'response lost');
      };
      await expect(rt.graftPush(g.local)).rejects.toThrow('response lost');
      const get = remote.getCommit.bind(remote);
      remote.getCommit = async (...args) => {
        if (failure === 'UrlExpired') throw new ScionError('UrlExpired', 'the bucket refused the URL');
        const bytes = await get(...args);
        return bytes && flip(bytes);
      };
      const reopened = await Runtime.open({ store: MemoryStore.open(file.copy()), catalog, remote });
      expect(reopened.graftStatus(g.local).pendingPush, failure).toEqual({ local: 1, remote: 1 });
      expect(reopened.graftReader(g.local).readPage(PageIdx.parse(1))[0]).toBe(1);
      remote.getCommit = get;
      expect(await reopened.graftPull(g.local)).toEqual({ outcome: 'up-to-date' });
      expect(reopened.graftStatus(g.local)).toMatchObject({ state: 'in-sync', pendingPush: undefined, remoteLsn: 1 });
    }
  });

  it('local GC beside an open writer of a deleted graft neither fails nor keeps that graft, and still collects (seed 253)', async () => {
    const dir = new MemoryDirectory();
    const rt = await Runtime.open({ store: MemoryStore.open(dir), catalog: new MemoryCatalog(), remote: new MemoryRemote() });
    const keep = await rt.graftOpen();
    for (let n = 1; n <= 20; n++) write(rt, keep.local, { 1: n, 2: n + 100 });
    const gone = await rt.graftOpen();
    for (let n = 1; n <= 50; n++) write(rt, gone.local, { 1: n, 2: n, 3: n, 4: n });
    // A transaction still open on the graft (an app's handle, the simulator's transfer that hit a read error).
    const open = rt.graftWriter(gone.local);
    await rt.graftDelete(gone.local);
    // Before: GC visited the writer's snapshot, met the dropped log and threw CommitNotFound, every time.
    const r = rt.collectLocalGarbage({ historyCommits: 1 });
    await rt.storeUpkeep();
    // keep's older versions were collected; nothing of the deleted graft is held for the writer.
    expect(r.pagesEvicted).toBeGreaterThanOrEqual(2 * 19);
    expect(dir.totalBytes).toBeLessThan(2 * 4096 + 64 * 1024);
    const reader = rt.graftReader(keep.local);
    expect([reader.readPage(PageIdx.parse(1))[0], reader.readPage(PageIdx.parse(2))[0]]).toEqual([20, 120]);
    let read: unknown;
    try {
      read = open.readPage(PageIdx.parse(1));
    } catch (e) {
      read = isScionError(e, 'CommitNotFound') ? 'CommitNotFound' : e;
    }
    expect(read).toBe('CommitNotFound');
    open.discard();
  });

  it('local GC while a fork is being registered keeps the pages the fork copied from unpushed commits (seed 50699)', async () => {
    const remote = new MemoryRemote();
    const catalog = new GatedCatalog();
    const rt = await Runtime.open({ store: MemoryStore.open(), catalog, remote });
    const g = await rt.graftOpen();
    write(rt, g.local, { 1: 5, 2: 6 }); // unpushed: its pages exist only here
    const held = catalog.hold();
    const forking = rt.graftFork(rt.graftSnapshot(g.local));
    await held.waiting; // the fork's records are written, its graft is not registered yet
    // Meanwhile: the source is pushed (its local commits leave its latest snapshot), and local GC runs.
    expect((await rt.graftPush(g.local)).outcome).toBe('pushed');
    rt.collectLocalGarbage({ cacheBudgetBytes: 0 });
    held.open();
    const fork = await forking;
    rt.collectLocalGarbage({ cacheBudgetBytes: 0 });
    const r = rt.graftReader(fork.local);
    expect([r.readPage(PageIdx.parse(1))[0], r.readPage(PageIdx.parse(2))[0]]).toEqual([5, 6]);
  });
});

function flip(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out[3] = (out[3] as number) ^ 1;
  return out;
}
