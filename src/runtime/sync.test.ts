import { describe, expect, it, vi } from 'vitest';
import { isScionError, LSN, PageIdx, RemoteKey, SegmentId, VolumeId, type ErrorCode } from '../core/index.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../local/index.ts';
import { MemoryRemote, type Remote } from '../remote/index.ts';
import { Runtime } from './runtime.ts';

/** A "device": a runtime with its own store and catalog, sharing `remote` with the others. */
/** `segments`: every push uploads a segment object, however small (no inline frames). */
async function device(remote: Remote, file = new MemoryDirectory(), catalog = new MemoryCatalog(), { segments = false } = {}) {
  const rt = await Runtime.open({ store: MemoryStore.open(file), catalog, remote, ...(segments ? { inlineMaxBytes: 0 } : {}) });
  return {
    rt,
    file,
    catalog,
    /** Simulates a crash and restart: same bytes, same catalog, a new runtime. */
    async restart(withRemote: Remote = remote) {
      return (await device(withRemote, file.copy(), catalog, { segments })).rt;
    },
  };
}

const idx = (n: number) => PageIdx.parse(n);
const page = (fill: number) => new Uint8Array(4096).fill(fill);

function write(rt: Runtime, vid: VolumeId, pages: Record<number, number>) {
  const w = rt.graftWriter(vid);
  for (const [i, fill] of Object.entries(pages)) w.writePage(idx(Number(i)), page(fill));
  w.commit();
}

function fills(rt: Runtime, vid: VolumeId): number[] {
  const r = rt.graftReader(vid);
  return Array.from({ length: r.pageCount }, (_, i) => r.readPage(idx(i + 1))[0] as number);
}

async function expectCode(p: Promise<unknown> | (() => unknown), code: ErrorCode) {
  const e = await (typeof p === 'function' ? Promise.resolve().then(p) : p).then(() => undefined, (err: unknown) => err);
  expect(isScionError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
}

const keysOf = (remote: MemoryRemote, kind: 'commit' | 'segment') => [...remote.objects.keys()].filter((k) => RemoteKey.parse(k).kind === kind);
const commitKeys = (remote: MemoryRemote) => keysOf(remote, 'commit');

describe('push and pull', () => {
  it('A pushes, B clones and pulls A\'s later commits without copying pages', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const ga = await a.rt.tagOpen('main');
    write(a.rt, ga.local, { 1: 1, 2: 2 });
    write(a.rt, ga.local, { 2: 3 });
    expect(await a.rt.graftPush(ga.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 1, localLsn: 2, pages: 2 });
    expect(a.rt.graftStatus(ga.local)).toMatchObject({ state: 'in-sync', remoteLsn: 1, localWatermark: 2 });
    expect(commitKeys(remote)).toEqual([RemoteKey.commit(ga.remote, LSN.FIRST)]);

    const b = await device(remote);
    const gb = await b.rt.graftClone(ga.remote, { tag: 'main' });
    expect(b.rt.tagGet('main')).toBe(gb.local);
    expect(b.rt.readStats().framesFetched).toBe(0);
    expect(fills(b.rt, gb.local)).toEqual([1, 3]);

    write(a.rt, ga.local, { 3: 4 });
    await a.rt.graftPush(ga.local);
    expect(await b.rt.graftPull(gb.local)).toEqual({ outcome: 'pulled', from: 1, to: 2 });
    expect(fills(b.rt, gb.local)).toEqual([1, 3, 4]);
    expect(await b.rt.graftPull(gb.local)).toEqual({ outcome: 'up-to-date' });
    expect(await a.rt.graftPush(ga.local)).toEqual({ outcome: 'up-to-date' });
  });

  it('clone is a fast-forward: the hint carries the commits, one probe finds the end, no page reads', async () => {
    const requests: string[] = [];
    const remote = new MemoryRemote({ onRequest: (e) => requests.push(`${e.method} ${e.key.split('/')[0]}`) });
    const a = await device(remote);
    const ga = await a.rt.graftOpen();
    for (let i = 0; i < 5; i++) {
      write(a.rt, ga.local, { [i + 1]: i });
      await a.rt.graftPush(ga.local);
    }
    const b = await device(remote);
    requests.length = 0;
    const gb = await b.rt.graftClone(ga.remote);
    // The hint (with the 5 commits) and LSN 6, absent.
    expect(requests.filter((r) => r.startsWith('GET volumes'))).toHaveLength(2);
    expect(requests.filter((r) => r.includes('segments'))).toHaveLength(0);
    expect(b.rt.graftStatus(gb.local)).toMatchObject({ remoteLsn: 5, state: 'in-sync' });
  });

  it('concurrent pushers: exactly one wins each LSN, the other reports divergence and can reset', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const ga = await a.rt.graftOpen();
    write(a.rt, ga.local, { 1: 1 });
    await a.rt.graftPush(ga.local);
    const b = await device(remote);
    const gb = await b.rt.graftClone(ga.remote, { tag: 'main' });

    write(a.rt, ga.local, { 1: 10 });
    write(b.rt, gb.local, { 1: 20 });
    const results = await Promise.all([a.rt.graftPush(ga.local), b.rt.graftPush(gb.local)]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['diverged', 'pushed']);
    expect(commitKeys(remote)).toHaveLength(2);
    const loser = results[0].outcome === 'diverged' ? a : b;
    const loserGraft = results[0].outcome === 'diverged' ? ga : gb;
    expect(results.find((r) => r.outcome === 'diverged')).toMatchObject({ ahead: 1, waysOut: ['reset', 'fork'] });
    expect((await loser.rt.graftPull(loserGraft.local)).outcome).toBe('diverged');
    expect(loser.rt.graftStatus(loserGraft.local).state).toBe('diverged');

    const fresh = await loser.rt.graftReset(loserGraft.local);
    const winnerFill = results[0].outcome === 'pushed' ? 10 : 20;
    expect(fills(loser.rt, fresh.local)).toEqual([winnerFill]);
    expect(loser.rt.graftStatus(fresh.local).state).toBe('in-sync');
    write(loser.rt, fresh.local, { 2: 2 });
    expect((await loser.rt.graftPush(fresh.local)).outcome).toBe('pushed');
  });

  it('a never-synced graft whose remote already has commits reports divergence instead of overwriting', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const ga = await a.rt.graftOpen();
    write(a.rt, ga.local, { 1: 1 });
    await a.rt.graftPush(ga.local);
    const b = await device(remote);
    const gb = await b.rt.graftOpen({ remote: ga.remote });
    write(b.rt, gb.local, { 1: 2 });
    expect((await b.rt.graftPush(gb.local)).outcome).toBe('diverged');
    expect(commitKeys(remote)).toHaveLength(1);
  });

  it('push collapses many local commits into one segment with the newest version of each page', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote, undefined, undefined, { segments: true });
    const g = await a.rt.graftOpen();
    for (let i = 1; i <= 10; i++) write(a.rt, g.local, { 1: i, [i + 1]: i });
    const pushed = await a.rt.graftPush(g.local);
    expect(pushed).toMatchObject({ outcome: 'pushed', remoteLsn: 1, localLsn: 10, pages: 11 });
    expect(keysOf(remote, 'segment')).toHaveLength(1);
    const b = await device(remote);
    const gb = await b.rt.graftClone(g.remote);
    expect(fills(b.rt, gb.local)).toEqual([10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('soft truncation is pushed: the remote page count shrinks', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const g = await a.rt.graftOpen();
    write(a.rt, g.local, { 1: 1, 2: 2, 3: 3 });
    await a.rt.graftPush(g.local);
    const w = a.rt.graftWriter(g.local);
    w.softTruncate(1 as never);
    w.commit();
    await a.rt.graftPush(g.local);
    const b = await device(remote);
    const gb = await b.rt.graftClone(g.remote);
    expect(fills(b.rt, gb.local)).toEqual([1]);
  });
});

describe('lazy reads and hydrate', () => {
  async function bigVolume(pages: number) {
    const remote = new MemoryRemote();
    const a = await device(remote, undefined, undefined, { segments: true });
    const g = await a.rt.graftOpen();
    const w = a.rt.graftWriter(g.local);
    for (let i = 1; i <= pages; i++) w.writePage(idx(i), page(i % 251));
    w.commit();
    await a.rt.graftPush(g.local);
    return { remote, a, g };
  }

  it('a miss fetches exactly one frame (≤ 64 pages) and caches all of its pages', async () => {
    const { remote, g } = await bigVolume(300);
    const requests: string[] = [];
    const b = await device(new MemoryRemoteSpy(remote, requests));
    const gb = await b.rt.graftClone(g.remote);
    requests.length = 0;
    const r = b.rt.graftReader(gb.local);
    expect(r.readPage(idx(130))[0]).toBe(130);
    expect(requests).toEqual(['range segments']);
    expect(b.rt.readStats()).toMatchObject({ pagesMissed: 1, framesFetched: 1, pagesFetched: 64 });
    // Pages 129..192 share the frame: no new request.
    expect(r.readPage(idx(129))[0]).toBe(129);
    expect(r.readPage(idx(192))[0]).toBe(192);
    expect(requests).toHaveLength(1);
    expect(b.rt.snapshotMissingPages(r.snapshot).size).toBe(300 - 64);
  });

  it('the async read path uses the same cache and verification', async () => {
    const { remote, g } = await bigVolume(100);
    const b = await device(remote);
    const gb = await b.rt.graftClone(g.remote);
    const snapshot = b.rt.graftSnapshot(gb.local);
    expect((await b.rt.readPageAsync(snapshot, idx(70)))[0]).toBe(70);
    expect(b.rt.readStats().framesFetched).toBe(1);
    expect(b.rt.readPage(snapshot, idx(65))[0]).toBe(65);
    expect(b.rt.readStats().framesFetched).toBe(1);
  });

  it('hydrate leaves nothing missing, coalesces adjacent frames and reports progress', async () => {
    const { remote, a, g } = await bigVolume(1000);
    const requests: string[] = [];
    const b = await device(new MemoryRemoteSpy(remote, requests));
    const gb = await b.rt.graftClone(g.remote);
    requests.length = 0;
    const progress: number[] = [];
    const result = await b.rt.graftHydrate(gb.local, { onProgress: (p) => progress.push(p.framesDone) });
    expect(result.framesTotal).toBe(16);
    expect(result.framesDone).toBe(16);
    expect(requests.length).toBeLessThan(16);
    expect(progress.at(-1)).toBe(16);
    const snapshot = b.rt.graftSnapshot(gb.local);
    expect(b.rt.snapshotMissingPages(snapshot).isEmpty).toBe(true);
    expect(b.rt.snapshotChecksum(snapshot)).toBe(a.rt.snapshotChecksum(a.rt.graftSnapshot(g.local)));
    remote.setOnline(false);
    expect(b.rt.graftReader(gb.local).readPage(idx(999))[0]).toBe(999 % 251);
  });

  it('clone of a 10,000-page volume copies no pages until they are read', async () => {
    const { remote, g } = await bigVolume(10_000);
    const requests: string[] = [];
    const b = await device(new MemoryRemoteSpy(remote, requests));
    const gb = await b.rt.graftClone(g.remote);
    expect(requests.some((r) => r.includes('segments'))).toBe(false);
    expect(b.rt.graftReader(gb.local).pageCount).toBe(10_000);
    expect(b.file.totalBytes).toBeLessThan(64 * 1024);
  });

  it('offline, a page never fetched fails with PageNotLocal: never zeros', async () => {
    const { remote, g } = await bigVolume(100);
    const b = await device(remote);
    const gb = await b.rt.graftClone(g.remote);
    remote.setOnline(false);
    const r = b.rt.graftReader(gb.local);
    await expectCode(() => r.readPage(idx(5)), 'PageNotLocal');
    remote.setOnline(true);
    expect(r.readPage(idx(5))[0]).toBe(5);
  });

  it('a corrupt frame on the remote is a Corrupt error, never wrong pages', async () => {
    const { remote, g } = await bigVolume(10);
    const [key, obj] = [...remote.objects].find(([k]) => RemoteKey.parse(k).kind === 'segment')!;
    const bad = obj.bytes.slice();
    bad[bad.length - 3]! ^= 0xff;
    remote.objects.set(key, { ...obj, bytes: bad });
    const b = await device(remote);
    const gb = await b.rt.graftClone(g.remote);
    await expectCode(() => b.rt.graftReader(gb.local).readPage(idx(1)), 'Corrupt');
  });
});

describe('crashes during push (RecoverPendingCommit)', () => {
  /** A remote whose commit PUT lands but whose response is lost, or that fails before landing. */
  class LossyRemote extends MemoryRemote {
    mode: 'ok' | 'lose-response' | 'fail-before' = 'ok';
    override async putCommit(...args: Parameters<MemoryRemote['putCommit']>) {
      if (this.mode === 'fail-before') throw Object.assign(new Error('boom'), { name: 'ScionError', code: 'RemoteUnavailable' });
      const r = await super.putCommit(...args);
      if (this.mode === 'lose-response') throw Object.assign(new Error('response lost'), { name: 'ScionError', code: 'RemoteUnavailable' });
      return r;
    }
  }

  async function pushWith(mode: LossyRemote['mode']) {
    const remote = new LossyRemote();
    const a = await device(remote);
    const g = await a.rt.graftOpen();
    write(a.rt, g.local, { 1: 1, 2: 2 });
    remote.mode = mode;
    await expect(a.rt.graftPush(g.local)).rejects.toThrow();
    remote.mode = 'ok';
    expect(a.rt.graftGet(g.local)?.pending).toMatchObject({ local: 1, remote: 1 });
    return { remote, a, g };
  }

  it('commit landed, response lost → recovered at restart as success, with no duplicate commit', async () => {
    const { remote, a, g } = await pushWith('lose-response');
    const rt = await a.restart();
    expect(rt.graftGet(g.local)?.pending).toBeUndefined();
    expect(rt.graftStatus(g.local)).toMatchObject({ state: 'in-sync', remoteLsn: 1, localWatermark: 1 });
    expect(await rt.graftPush(g.local)).toEqual({ outcome: 'up-to-date' });
    expect(commitKeys(remote)).toHaveLength(1);
  });

  it('commit never landed → recovery drops the pending commit and the next push succeeds', async () => {
    const { remote, a, g } = await pushWith('fail-before');
    const rt = await a.restart();
    expect(rt.graftGet(g.local)?.pending).toBeUndefined();
    expect(await rt.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 1 });
    expect(commitKeys(remote)).toHaveLength(1);
  });

  /**
   * A remote whose first commit PUT is held "in the network": the client gets no answer, and the PUT
   * lands only when the test calls `land()` (after recovery found the LSN absent, say).
   */
  function delayingRemote() {
    const remote = new MemoryRemote();
    let delayed: Parameters<MemoryRemote['putCommit']> | undefined;
    let held = true;
    let landFirst = false;
    const lossy = new Proxy(remote, {
      get: (target, key) => {
        if (key === 'putCommit') return async (...args: Parameters<MemoryRemote['putCommit']>) => {
          if (held && delayed === undefined) {
            delayed = args;
            throw Object.assign(new Error('no answer yet'), { name: 'ScionError', code: 'RemoteUnavailable' });
          }
          if (landFirst) {
            landFirst = false;
            held = false;
            await target.putCommit(...(delayed as Parameters<MemoryRemote['putCommit']>));
          }
          return target.putCommit(...args);
        };
        const value = target[key as keyof MemoryRemote];
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return {
      remote,
      lossy: lossy as Remote,
      /** The delayed PUT lands just before the next commit PUT (after that push's probe found the LSN free). */
      landBeforeNextPut: () => void (landFirst = true),
      /** The delayed PUT lands now (or is refused if the LSN was taken meanwhile). */
      land: async () => {
        held = false;
        return remote.putCommit(...(delayed as Parameters<MemoryRemote['putCommit']>));
      },
    };
  }

  /** A device whose first push is delayed, then restarted: recovery finds the LSN absent and abandons the push. */
  async function abandonedPush() {
    const net = delayingRemote();
    const a = await device(net.lossy);
    const g = await a.rt.graftOpen();
    write(a.rt, g.local, { 1: 1, 2: 1 });
    await expectCode(a.rt.graftPush(g.local), 'RemoteUnavailable');
    const restarted = await device(net.lossy, a.file.copy(), a.catalog); // a crash and restart
    const rt = restarted.rt;
    expect(rt.graftGet(g.local)?.pending).toBeUndefined(); // recovery: absent
    expect(rt.graftGet(g.local)?.abandoned).toMatchObject([{ local: 1, remote: 1 }]);
    return { ...net, restarted, g, rt };
  }

  // Was a known bug: recovery forgot the push it found absent, so the delayed PUT landing
  // afterwards read as someone else's commit and the next push reported divergence from itself.
  it('a delayed commit PUT landing after recovery found it absent is recognised as ours', async () => {
    const { remote, land, g, rt } = await abandonedPush();
    expect(await land()).toBe('created'); // the delayed PUT lands now
    write(rt, g.local, { 2: 2, 3: 3 });
    expect(await rt.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 2, localLsn: 2 });
    expect(rt.graftStatus(g.local)).toMatchObject({ state: 'in-sync', remoteLsn: 2, localWatermark: 2 });
    expect(rt.graftGet(g.local)?.abandoned).toBeUndefined();
    expect(commitKeys(remote)).toHaveLength(2); // no duplicate commit
    const b = await device(remote);
    const gb = await b.rt.graftClone(g.remote);
    expect(fills(b.rt, gb.local)).toEqual([1, 2, 3]);
  });

  it('a push with nothing new after the abandoned one lands it when it is found landed late', async () => {
    const { remote, land, g, rt } = await abandonedPush();
    await land();
    expect(await rt.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 1, localLsn: 1, pages: 2 });
    expect(rt.graftStatus(g.local)).toMatchObject({ state: 'in-sync', remoteLsn: 1, localWatermark: 1 });
    expect(commitKeys(remote)).toHaveLength(1);
  });

  it('the delayed PUT lands between the next push\'s probe and its own commit PUT: that push adopts it and pushes the rest', async () => {
    const { remote, landBeforeNextPut, g, rt } = await abandonedPush();
    write(rt, g.local, { 3: 3 });
    landBeforeNextPut();
    expect(await rt.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 2, localLsn: 2, pages: 1 });
    expect(rt.graftStatus(g.local)).toMatchObject({ state: 'in-sync', remoteLsn: 2, localWatermark: 2 });
    expect(commitKeys(remote)).toHaveLength(2);
    const b = await device(remote);
    expect(fills(b.rt, (await b.rt.graftClone(g.remote)).local)).toEqual([1, 1, 3]);
  });

  it('a pull that finds the abandoned push landed late lands it: in sync, not diverged', async () => {
    const { remote, land, g, rt } = await abandonedPush();
    await land();
    expect(await rt.graftPull(g.local)).toEqual({ outcome: 'up-to-date' });
    expect(rt.graftStatus(g.local)).toMatchObject({ state: 'in-sync', remoteLsn: 1, localWatermark: 1, ahead: 0 });
    expect(await rt.graftPush(g.local)).toEqual({ outcome: 'up-to-date' });
    expect(commitKeys(remote)).toHaveLength(1);
    expect(fills(rt, g.local)).toEqual([1, 1]);
  });

  it('a fetch that finds the abandoned push landed late lands it: status never says diverged', async () => {
    const { land, g, rt } = await abandonedPush();
    await land();
    write(rt, g.local, { 3: 3 });
    expect(await rt.graftFetch(g.local)).toBe(1);
    expect(rt.graftStatus(g.local)).toMatchObject({ state: 'ahead', remoteLsn: 1, localWatermark: 1, ahead: 1, behind: 0 });
  });

  it('the abandoned push is kept across a restart and lands after it', async () => {
    const { remote, land, restarted, g, rt } = await abandonedPush();
    write(rt, g.local, { 2: 5 });
    // The catalog holds the abandoned push: a second restart still knows it.
    const again = await restarted.restart();
    expect(again.graftGet(g.local)?.abandoned).toMatchObject([{ local: 1, remote: 1 }]);
    await land();
    expect(await again.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 2, localLsn: 2, pages: 1 });
    expect(commitKeys(remote)).toHaveLength(2);
    const b = await device(remote);
    expect(fills(b.rt, (await b.rt.graftClone(g.remote)).local)).toEqual([1, 5]);
  });

  it('the next push wins the LSN before the delayed PUT lands: the late PUT is refused and the abandoned push forgotten', async () => {
    const { remote, land, g, rt } = await abandonedPush();
    write(rt, g.local, { 2: 2 });
    expect(await rt.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 1, localLsn: 2 });
    expect(rt.graftGet(g.local)?.abandoned).toBeUndefined();
    expect(await land()).toBe('exists');
    expect(commitKeys(remote)).toHaveLength(1);
    expect(fills(rt, g.local)).toEqual([1, 2]);
  });

  it('someone else takes the LSN of an abandoned push: it is forgotten and the push reports the real divergence', async () => {
    const { remote, land, g, rt } = await abandonedPush();
    const other = await device(remote);
    const go = await other.rt.graftOpen({ remote: g.remote });
    write(other.rt, go.local, { 1: 9 });
    await other.rt.graftPush(go.local);
    expect(await land()).toBe('exists'); // too late: the LSN is taken
    expect(await rt.graftPush(g.local)).toMatchObject({ outcome: 'diverged', ahead: 1, behind: 1 });
    expect(rt.graftGet(g.local)?.abandoned).toBeUndefined();
    expect(commitKeys(remote)).toHaveLength(1);
    // The way out works as before: reset takes the remote's side.
    const reset = await rt.graftReset(g.local);
    expect(fills(rt, reset.local)).toEqual([9]);
  });

  it('an abandoned push never landing blocks nothing: pulls and pushes of others go on, local GC keeps its commits', async () => {
    const { remote, g, rt } = await abandonedPush();
    for (let i = 0; i < 5; i++) write(rt, g.local, { 3: 10 + i });
    rt.collectLocalGarbage({ historyCommits: 1 });
    expect(await rt.graftPull(g.local)).toEqual({ outcome: 'up-to-date' });
    expect(await rt.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 1, localLsn: 6 });
    expect(rt.graftGet(g.local)?.abandoned).toBeUndefined();
    const b = await device(remote);
    expect(fills(b.rt, (await b.rt.graftClone(g.remote)).local)).toEqual([1, 1, 14]);
  });

  it('local GC does not squash the commits an abandoned push covers: it still lands after GC', async () => {
    const { remote, land, g, rt } = await abandonedPush();
    // Overwrite the abandoned push's pages many times over, then squash all history but the last commit.
    for (let i = 0; i < 6; i++) write(rt, g.local, { 1: 20 + i, 2: 30 + i });
    rt.collectLocalGarbage({ historyCommits: 1 });
    await land();
    expect(await rt.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 2, localLsn: 7 });
    const b = await device(remote);
    const gb = await b.rt.graftClone(g.remote);
    expect(fills(b.rt, gb.local)).toEqual([25, 35]);
  });

  it('someone else took the LSN meanwhile → recovery reports divergence', async () => {
    const { remote, a, g } = await pushWith('fail-before');
    const other = await device(remote);
    const go = await other.rt.graftOpen({ remote: g.remote });
    write(other.rt, go.local, { 1: 9 });
    await other.rt.graftPush(go.local);
    const rt = await a.restart();
    expect(rt.graftGet(g.local)?.pending).toBeUndefined();
    expect((await rt.graftPush(g.local)).outcome).toBe('diverged');
    expect(commitKeys(remote)).toHaveLength(1);
  });

  it('a crash after the segment upload leaves an orphan segment that remote GC removes after the grace period', async () => {
    let now = 1_000_000;
    const remote = new MemoryRemote({ now: () => now });
    const a = await device(remote, undefined, undefined, { segments: true });
    const g = await a.rt.graftOpen();
    write(a.rt, g.local, { 1: 1 });
    await a.rt.graftPush(g.local);
    const orphan = SegmentId.random();
    await remote.putSegment(g.remote, orphan, new Uint8Array(10));
    const early = await a.rt.collectRemoteGarbage({ graceMs: 60_000, now: () => now });
    expect(early).toMatchObject({ segmentsDeleted: [], segmentsKept: 1, segmentsReferenced: 1, commitsScanned: 1 });
    now += 120_000;
    const gc = await a.rt.collectRemoteGarbage({ graceMs: 60_000, now: () => now });
    expect(gc.segmentsDeleted).toEqual([orphan]);
    expect(remote.objects.has(RemoteKey.segment({ sid: orphan, home: g.remote }))).toBe(false);
    // The referenced segment survives: a fresh clone still reads the page.
    const b = await device(remote);
    const gb = await b.rt.graftClone(g.remote);
    expect(b.rt.graftReader(gb.local).readPage(idx(1))[0]).toBe(1);
  });
});

/** Counts requests by kind while delegating to a MemoryRemote. */
class MemoryRemoteSpy implements Remote {
  readonly #inner: Remote;
  readonly #log: string[];
  constructor(inner: MemoryRemote, log: string[]) {
    this.#inner = inner;
    this.#log = log;
  }
  getCommit: Remote['getCommit'] = (...a: Parameters<Remote['getCommit']>) => (this.#log.push('get volumes'), this.#inner.getCommit(...a));
  putCommit: Remote['putCommit'] = (...a: Parameters<Remote['putCommit']>) => (this.#log.push('put volumes'), this.#inner.putCommit(...a));
  getLatest: Remote['getLatest'] = (...a: Parameters<Remote['getLatest']>) => (this.#log.push('get latest'), this.#inner.getLatest(...a));
  putLatest: Remote['putLatest'] = (...a: Parameters<Remote['putLatest']>) => (this.#log.push('put latest'), this.#inner.putLatest(...a));
  putSegment: Remote['putSegment'] = (...a: Parameters<Remote['putSegment']>) => (this.#log.push('put segments'), this.#inner.putSegment(...a));
  getSegmentRange: Remote['getSegmentRange'] = (...a: Parameters<Remote['getSegmentRange']>) => (this.#log.push('range segments'), this.#inner.getSegmentRange(...a));
  getSegmentRangeSync: Remote['getSegmentRangeSync'] = (...a: Parameters<Remote['getSegmentRangeSync']>) => (this.#log.push('range segments'), this.#inner.getSegmentRangeSync(...a));
  getName: Remote['getName'] = (...a: Parameters<Remote['getName']>) => (this.#log.push('get names'), this.#inner.getName(...a));
  putName: Remote['putName'] = (...a: Parameters<Remote['putName']>) => (this.#log.push('put names'), this.#inner.putName(...a));
  firstLsn: Remote['firstLsn'] = (...a: Parameters<Remote['firstLsn']>) => (this.#log.push('list log'), this.#inner.firstLsn(...a));
  putFork: Remote['putFork'] = (...a: Parameters<Remote['putFork']>) => (this.#log.push('put fork'), this.#inner.putFork(...a));
  list: Remote['list'] = (...a: Parameters<Remote['list']>) => this.#inner.list(...a);
  deleteSegment: Remote['deleteSegment'] = (...a: Parameters<Remote['deleteSegment']>) => this.#inner.deleteSegment(...a);
  getCompacted: Remote['getCompacted'] = (...a: Parameters<Remote['getCompacted']>) => (this.#log.push('get compacted'), this.#inner.getCompacted(...a));
  putCompacted: Remote['putCompacted'] = (...a: Parameters<Remote['putCompacted']>) => this.#inner.putCompacted(...a);
  deleteCommit: Remote['deleteCommit'] = (...a: Parameters<Remote['deleteCommit']>) => this.#inner.deleteCommit(...a);
}


describe('remotes that move or disappear', () => {
  it('switching remotes hydrates what is missing, forks, pushes to the new remote and moves the tags', async () => {
    const oldRemote = new MemoryRemote();
    const a = await device(oldRemote);
    const g = await a.rt.graftOpen();
    write(a.rt, g.local, Object.fromEntries(Array.from({ length: 150 }, (_, i) => [i + 1, i % 200])));
    await a.rt.graftPush(g.local);
    // B knows the volume only lazily; its remote is about to disappear.
    const b = await device(oldRemote);
    const gb = await b.rt.graftClone(g.remote, { tag: 'notes' });
    write(b.rt, gb.local, { 151: 99 });
    const oldObjects = [...oldRemote.objects.keys()];
    const moved = await b.rt.graftSwitchRemote(gb.local);
    expect(b.rt.tagGet('notes')).toBe(moved.local);
    expect(b.rt.graftStatus(moved.local)).toMatchObject({ state: 'in-sync', remoteLsn: 1 });
    // The old remote volume and its segments disappear: the new remote holds everything on its own.
    for (const key of oldObjects) oldRemote.objects.delete(key);
    const c = await device(oldRemote);
    const gc = await c.rt.graftClone(moved.remote);
    expect(fills(c.rt, gc.local).slice(148)).toEqual([148, 149, 99]);
  });

  it('when the old remote is gone and pages were never fetched, switching refuses with PageNotLocal', async () => {
    const oldRemote = new MemoryRemote();
    const a = await device(oldRemote);
    const g = await a.rt.graftOpen();
    write(a.rt, g.local, { 1: 1, 100: 2 });
    await a.rt.graftPush(g.local);
    const b = await device(oldRemote);
    const gb = await b.rt.graftClone(g.remote);
    oldRemote.setOnline(false);
    await expectCode(b.rt.graftSwitchRemote(gb.local), 'PageNotLocal');
    expect(b.rt.graftList()).toHaveLength(1);
  });
});

describe('frames and local GC', () => {
  it('a frame may hold any pages: a planner that groups every 10th page first still reads back right', async () => {
    const remote = new MemoryRemote();
    const rt = await Runtime.open({
      store: MemoryStore.open(),
      catalog: new MemoryCatalog(),
      remote,
      planFrames: (pages) => {
        const all = [...pages.keys()].sort((x, y) => x - y);
        const hot = all.filter((i) => i % 10 === 0);
        const rest = all.filter((i) => i % 10 !== 0);
        return { frames: [hot, ...Array.from({ length: Math.ceil(rest.length / 64) }, (_, k) => rest.slice(k * 64, k * 64 + 64))], hotFrames: 1 };
      },
    });
    const g = await rt.graftOpen();
    write(rt, g.local, Object.fromEntries(Array.from({ length: 100 }, (_, i) => [i + 1, i + 1])));
    await rt.graftPush(g.local);
    const b = await device(remote);
    const gb = await b.rt.graftClone(g.remote);
    // A cold reader fetches the hot frame first, in one request, and then reads its pages locally.
    const hot = await b.rt.graftHydrate(gb.local, { hotOnly: true });
    expect(hot).toMatchObject({ framesTotal: 1, framesDone: 1 });
    const r = b.rt.graftReader(gb.local);
    for (const i of [10, 50, 90]) expect(r.readPage(idx(i))[0]).toBe(i);
    expect(b.rt.readStats().framesFetched).toBe(1);
    expect(r.readPage(idx(51))[0]).toBe(51);
    expect(b.rt.readStats().framesFetched).toBe(2);
  });

  it('the frames of one fetch are verified, then cached in one store write (hydrate and a read-ahead miss)', async () => {
    const remote = new MemoryRemote();
    const rt = await Runtime.open({
      store: MemoryStore.open(), catalog: new MemoryCatalog(), remote,
      // Three hot frames of 4 pages, then frames of 8.
      planFrames: (pages) => {
        const all = [...pages.keys()].sort((x, y) => x - y);
        return { frames: Array.from({ length: Math.ceil(all.length / 4) }, (_, k) => all.slice(k * 4, k * 4 + 4)), hotFrames: 3 };
      },
    });
    const g = await rt.graftOpen();
    write(rt, g.local, Object.fromEntries(Array.from({ length: 40 }, (_, i) => [i + 1, i + 1])));
    await rt.graftPush(g.local);
    const store = MemoryStore.open();
    const puts = vi.spyOn(store, 'putPagesSync');
    const b = await Runtime.open({ store, catalog: new MemoryCatalog(), remote });
    const gb = await b.graftClone(g.remote);
    expect(await b.graftHydrate(gb.local, { hotOnly: true })).toMatchObject({ framesTotal: 3, framesDone: 3 });
    expect(puts.mock.calls.map(([, pages]) => pages.size)).toEqual([12]);
    puts.mockClear();
    const r = b.graftReader(gb.local);
    expect(r.readPage(idx(13), { readAheadPages: 8 })[0]).toBe(13);
    expect(puts.mock.calls.map(([, pages]) => pages.size)).toEqual([12]);
    expect(fills(b, gb.local)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('local GC evicts cached pages no snapshot reaches, then re-fetchable ones over budget, never unpushed ones', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const g = await a.rt.graftOpen();
    write(a.rt, g.local, Object.fromEntries(Array.from({ length: 128 }, (_, i) => [i + 1, 1])));
    await a.rt.graftPush(g.local);
    write(a.rt, g.local, Object.fromEntries(Array.from({ length: 128 }, (_, i) => [i + 1, 2])));
    await a.rt.graftPush(g.local);
    write(a.rt, g.local, { 1: 3 }); // unpushed

    const b = await device(remote);
    const gb = await b.rt.graftClone(g.remote, {});
    await b.rt.snapshotHydrate(b.rt.volumeCheckout(g.remote, LSN.FIRST)); // old version: unreachable now
    await b.rt.graftHydrate(gb.local);
    const unreachable = b.rt.collectLocalGarbage();
    expect(unreachable.pagesEvicted).toBe(128);
    expect(fills(b.rt, gb.local).every((f) => f === 2)).toBe(true);

    const budget = b.rt.collectLocalGarbage({ cacheBudgetBytes: 64 * 4096 });
    expect(budget).toEqual({ pagesEvicted: 64, pagesKept: 64, commitsSquashed: 0 });
    expect(b.rt.snapshotMissingPages(b.rt.graftSnapshot(gb.local)).size).toBe(64);
    expect(fills(b.rt, gb.local).every((f) => f === 2)).toBe(true); // re-fetched on read

    const keepUnpushed = a.rt.collectLocalGarbage({ cacheBudgetBytes: 0 });
    expect(keepUnpushed.pagesKept).toBeGreaterThanOrEqual(1);
    remote.setOnline(false);
    expect(a.rt.graftReader(g.local).readPage(idx(1))[0]).toBe(3);
  });
});
