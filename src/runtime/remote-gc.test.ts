// Remote GC with retention: what no retained snapshot of any volume reaches goes; every retained
// (volume, LSN) reads the same pages before and after, also on a new device.
import { describe, expect, it } from 'vitest';
import { Commit, computeCommitHash, LSN, PageCount, PageIdx, RemoteKey, VolumeId, type Page } from '../core/index.ts';
import { MemoryCatalog, MemoryStore } from '../local/index.ts';
import { MemoryRemote } from '../remote/index.ts';
import { retainedFloor } from './jobs/remote-gc.ts';
import { Runtime } from './runtime.ts';

const PAGES = 20;

async function device(remote: MemoryRemote) {
  // Segments, not inline frames: what GC deletes (commit objects, inline frames with them, it keeps).
  return Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote, inlineMaxBytes: 0 });
}

/** A volume of `commits` pushes; push n rewrites page (n mod 20) + 1, every 10th push also page 1..5. */
async function volumeOf(commits: number, clock: { now: number }) {
  const remote = new MemoryRemote({ now: () => clock.now });
  const a = await device(remote);
  const g = await a.graftOpen();
  for (let n = 1; n <= commits; n++) {
    const w = a.graftWriter(g.local);
    w.writePage(PageIdx.parse(1 + (n % PAGES)), new Uint8Array(4096).fill(n & 0xff));
    if (n % 10 === 0) for (let p = 1; p <= 5; p++) w.writePage(PageIdx.parse(p), new Uint8Array(4096).fill((n + p) & 0xff));
    w.commit();
    expect(await a.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: n });
  }
  return { remote, a, g };
}

/** The bucket without its latest hint: a clone reads every commit from LSN 1. */
function withoutLatestHint(remote: MemoryRemote): MemoryRemote {
  return new Proxy(remote, {
    get: (target, key) => {
      if (key === 'getLatest') return async () => undefined;
      const value = target[key as keyof MemoryRemote];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** One commit writing page `page` (and, with `fill`, pages 1..page) of the graft. */
function write(rt: Runtime, vid: VolumeId, page: number, fill?: number) {
  const w = rt.graftWriter(vid);
  for (let p = fill === undefined ? page : 1; p <= page; p++) w.writePage(PageIdx.parse(p), new Uint8Array(4096).fill(fill ?? page));
  w.commit();
}

const sizeOf = (remote: MemoryRemote) => ({
  objects: remote.objects.size,
  bytes: [...remote.objects.values()].reduce((sum, o) => sum + o.bytes.byteLength, 0),
  commits: [...remote.objects.keys()].filter((k) => k.includes('/log/')).length,
});

describe('remote GC with retention', () => {
  it('deletes what no retained snapshot reaches; every retained LSN reads the same on the pusher and on a new device', async () => {
    const clock = { now: 1_000_000 };
    const commits = 200;
    const { remote, a, g } = await volumeOf(commits, clock);
    const checksums = new Map<number, string>();
    for (let lsn = 1; lsn <= commits; lsn++) checksums.set(lsn, a.snapshotChecksum(a.volumeCheckout(g.remote, LSN.parse(lsn))));
    const before = sizeOf(remote);
    clock.now += 2 * 3600_000;

    const admin = await device(remote);
    const dry = await admin.collectRemoteGarbage({ retain: { commits: 51 }, dryRun: true });
    expect(sizeOf(remote)).toEqual(before);
    const gc = await admin.collectRemoteGarbage({ retain: { commits: 51 } });
    expect(gc.segmentsDeleted).toEqual(dry.segmentsDeleted);
    expect(gc.retainedFrom).toEqual({ [g.remote]: 150 });
    const after = sizeOf(remote);
    // Every push below 150 whose pages were all overwritten by 150 lost its segment; commit records stay.
    expect(gc.segmentsDeleted.length).toBeGreaterThan(100);
    expect(after.objects).toBe(before.objects - gc.segmentsDeleted.length);
    expect(after.bytes).toBe(before.bytes - gc.bytesDeleted);
    expect(after.commits).toBe(commits);
    // Nothing more to do: a second run deletes nothing.
    expect((await admin.collectRemoteGarbage({ retain: { commits: 51 } })).segmentsDeleted).toEqual([]);

    // The pusher, and a new device that reads every commit record (no hint: its log starts at LSN 1).
    for (const rt of [a, await device(withoutLatestHint(remote))]) {
      if (rt !== a) await rt.graftClone(g.remote);
      for (let lsn = 150; lsn <= commits; lsn++) {
        const snapshot = rt.volumeCheckout(g.remote, LSN.parse(lsn));
        await rt.snapshotHydrate(snapshot);
        expect(rt.snapshotChecksum(snapshot), `LSN ${lsn}`).toBe(checksums.get(lsn));
      }
    }
    // A snapshot older than the retention may have lost its segments: Corrupt (missing), never other pages.
    const reader = await device(withoutLatestHint(remote));
    await reader.graftClone(g.remote);
    await expect(reader.snapshotHydrate(reader.volumeCheckout(g.remote, LSN.parse(5)))).rejects.toMatchObject({ code: 'Corrupt' });
  });

  it("keeps segments another volume's commits reference (a fork's segments in its parent's prefix)", async () => {
    const clock = { now: 1_000_000 };
    const { remote, g } = await volumeOf(100, clock);
    const parent = Commit.decode(remote.objects.get(RemoteKey.commit(g.remote, LSN.parse(3)))!.bytes);
    // A fork B whose first commit names page 4 of the parent's commit 3 (overwritten in the parent since).
    const fork = VolumeId.random();
    const pages: [PageIdx, Page][] = [];
    const hash = await computeCommitHash(fork, LSN.FIRST, PageCount.parse(PAGES), pages);
    remote.objects.set(RemoteKey.commit(fork, LSN.FIRST), { bytes: Commit.encode({ vid: fork, lsn: LSN.FIRST, pageCount: PageCount.parse(PAGES), hash, segment: parent.segment }), lastModified: clock.now });
    clock.now += 2 * 3600_000;
    const gc = await (await device(remote)).collectRemoteGarbage({ retain: { commits: 10 } });
    expect(gc.retainedFrom).toMatchObject({ [g.remote]: 91, [fork]: 1 });
    expect(gc.segmentsDeleted.length).toBeGreaterThan(50);
    expect(gc.segmentsDeleted).not.toContain(parent.segment!.sid);
    expect(remote.objects.has(RemoteKey.segment(parent.segment!))).toBe(true);
  });

  it("keeps the parent's segments a fork's first push referenced, after the parent overwrote them", async () => {
    const clock = { now: 1_000_000 };
    const { remote, a, g } = await volumeOf(20, clock);
    const fork = await a.graftFork(a.graftSnapshot(g.local));
    write(a, fork.local, 21);
    expect(await a.graftPush(fork.local)).toMatchObject({ outcome: 'pushed', pages: 1 });
    const checksum = a.snapshotChecksum(a.graftSnapshot(fork.local));
    // The parent overwrites every page: its old segments are reachable only through the fork.
    for (let n = 0; n < 3; n++) {
      write(a, g.local, PAGES, n + 200);
      await a.graftPush(g.local);
    }
    clock.now += 2 * 3600_000;
    // Retention reaches below the fork's first commit (its LSNs 1..n are only in that checkpoint).
    const gc = await (await device(remote)).collectRemoteGarbage({ retain: { commits: 3 } });
    expect(gc.retainedFrom[fork.remote]).toBeLessThan(a.mustGetGraft(fork.local).sync!.remote);
    expect(gc.segmentsDeleted.length).toBeGreaterThan(0);
    const reader = await device(remote);
    const clone = await reader.graftClone(fork.remote);
    await reader.graftHydrate(clone.local);
    expect(reader.snapshotChecksum(reader.graftSnapshot(clone.local))).toBe(checksum);
  });

  it('keeps young unreferenced segments (a push about to commit) and retains by time as well as by count', async () => {
    const clock = { now: 1_000_000 };
    const { remote, g } = await volumeOf(60, clock);
    clock.now += 1000;
    // Every commit is younger than 10 s: all retained, whatever the count.
    const gc = await (await device(remote)).collectRemoteGarbage({ retain: { commits: 1, ms: 10_000 }, graceMs: 0, now: () => clock.now });
    expect(gc).toMatchObject({ segmentsDeleted: [], retainedFrom: { [g.remote]: 1 } });
    const young = await (await device(remote)).collectRemoteGarbage({ retain: { commits: 1 }, graceMs: 60_000, now: () => clock.now });
    expect(young.segmentsDeleted).toEqual([]);
    expect(young.segmentsKept).toBeGreaterThan(30);
  });

  it('a run cut short anywhere is finished by the next, and readers never notice', async () => {
    const clock = { now: 1_000_000 };
    const { remote, a, g } = await volumeOf(100, clock);
    clock.now += 2 * 3600_000;
    const expected = (await (await device(remote)).collectRemoteGarbage({ retain: { commits: 20 }, dryRun: true })).segmentsDeleted;
    let [deletes, done] = [0, 0];
    const flaky = new Proxy(remote, {
      get: (target, key) => {
        if (key === 'deleteSegment') return async (...args: Parameters<MemoryRemote['deleteSegment']>) => {
          if (++deletes === 7) throw new Error('crash');
          await target.deleteSegment(...args);
          done++;
        };
        const value = target[key as keyof MemoryRemote];
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect((await device(flaky)).collectRemoteGarbage({ retain: { commits: 20 } })).rejects.toThrow('crash');
    const rest = await (await device(remote)).collectRemoteGarbage({ retain: { commits: 20 } });
    expect(done).toBeGreaterThan(0);
    expect(rest.segmentsDeleted).toHaveLength(expected.length - done);
    const b = await device(remote);
    const clone = await b.graftClone(g.remote);
    await b.graftHydrate(clone.local);
    expect(b.snapshotChecksum(b.graftSnapshot(clone.local))).toBe(a.snapshotChecksum(a.graftSnapshot(g.local)));
  });

  it('retainedFloor: the last N LSNs, or back to the oldest commit younger than the time, whichever is older', () => {
    const log = new Map(Array.from({ length: 10 }, (_, i) => [i + 1, i < 5 ? 0 : 100]));
    expect(retainedFloor(log, 10, undefined, 200)).toBe(1);
    expect(retainedFloor(log, 10, { commits: 3 }, 200)).toBe(8);
    expect(retainedFloor(log, 10, { commits: 3, ms: 150 }, 200)).toBe(6);
    expect(retainedFloor(log, 10, { commits: 8, ms: 150 }, 200)).toBe(3);
    expect(retainedFloor(log, 10, { ms: 1 }, 200)).toBe(10);
    expect(retainedFloor(log, 10, { commits: 100 }, 200)).toBe(1);
  });
});
