// Remote checkpoints: a pusher makes every CHECKPOINT_INTERVAL-th remote commit carry the volume's whole
// page index, and a new device's clone starts there, reading only the commits after it.
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_INTERVAL, Commit, LSN, PageIdx, type VolumeId } from '../core/index.ts';
import { MemoryCatalog, MemoryStore } from '../local/index.ts';
import { MemoryRemote } from '../remote/index.ts';
import { Runtime } from './runtime.ts';

const PAGE = 4096;

async function device(remote: MemoryRemote) {
  return Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote });
}

function write(rt: Runtime, vid: VolumeId, page: number, fill: number) {
  const w = rt.graftWriter(vid);
  w.writePage(PageIdx.parse(page), new Uint8Array(PAGE).fill(fill & 0xff));
  w.commit();
}

describe('remote checkpoints', () => {
  it(`every ${CHECKPOINT_INTERVAL}th pushed commit is a checkpoint; a clone reads it and the tail only, and every retained LSN reads as on the pusher`, async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const g = await a.graftOpen();
    const pushes = 2 * CHECKPOINT_INTERVAL + 10;
    for (let n = 1; n <= pushes; n++) {
      write(a, g.local, 1 + (n % 20), n);
      expect(await a.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: n });
    }
    const at = 2 * CHECKPOINT_INTERVAL;
    const stored = Commit.decode((await remote.getCommit(g.remote, LSN.parse(at))) as Uint8Array);
    // Pages 1..=20: the one the checkpoint commit wrote, and 19 older holders.
    expect(stored.checkpoint?.map((c) => c.lsn)).toEqual(Array.from({ length: 19 }, (_, i) => at - 19 + i));
    expect(Commit.decode((await remote.getCommit(g.remote, LSN.parse(at - 1))) as Uint8Array).checkpoint).toBeUndefined();

    const b = await device(remote);
    const before = b.readStats().requests;
    const clone = await b.graftClone(g.remote);
    // The hint (which carries the commits after the checkpoint), then the checkpoint commit, the LSN after the
    // last (absent) and, for a log this long, the compacted index (absent: never compacted).
    expect(b.readStats().requests - before).toBe(4);
    expect(b.volumeOldestLsn(g.remote)).toBe(at);
    await b.graftHydrate(clone.local);
    expect(b.snapshotChecksum(b.graftSnapshot(clone.local))).toBe(a.snapshotChecksum(a.graftSnapshot(g.local)));
    for (let lsn = at; lsn <= pushes; lsn++) {
      const snapshot = b.volumeCheckout(g.remote, LSN.parse(lsn));
      await b.snapshotHydrate(snapshot);
      expect(b.snapshotChecksum(snapshot), `remote LSN ${lsn}`).toBe(a.snapshotChecksum(a.volumeCheckout(g.remote, LSN.parse(lsn))));
    }
    expect(() => b.volumeCheckout(g.remote, LSN.parse(at - 1))).toThrow(expect.objectContaining({ code: 'CommitNotFound', message: expect.stringContaining('checkpoint') }));
    // The clone pushes on from there, and its own checkpoint is built from the log it started at a checkpoint.
    for (let n = pushes + 1; n <= 3 * CHECKPOINT_INTERVAL; n++) {
      write(b, clone.local, 1 + (n % 20), n);
      expect(await b.graftPush(clone.local)).toMatchObject({ outcome: 'pushed' });
    }
    const third = Commit.decode((await remote.getCommit(g.remote, LSN.parse(3 * CHECKPOINT_INTERVAL))) as Uint8Array);
    expect(third.checkpoint).toHaveLength(19);
    const c = await device(remote);
    const again = await c.graftClone(g.remote);
    await c.graftHydrate(again.local);
    expect(c.snapshotChecksum(c.graftSnapshot(again.local))).toBe(b.snapshotChecksum(b.graftSnapshot(clone.local)));
  });
});
