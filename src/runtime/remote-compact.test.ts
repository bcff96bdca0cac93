// The remote compactor: a volume's live pages copied into a few fresh segments and published as its
// compacted index, so a clone reads them in a few requests; every retained (volume, LSN) reads the
// same before and after, on every device, also once GC deleted a superseded compacted segment.
// Run on the memory remote and on the test bucket (radosgw in CI) through the presign service.
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CompactedIndex, LSN, PageIdx, RemoteKey, VolumeId } from '../core/index.ts';
import { IdbCatalog, MemoryCatalog, MemoryStore } from '../local/index.ts';
import { bearerTokens, createPresignHandler } from '../presign/index.ts';
import { servePresign } from '../presign/node.ts';
import { ForwardingRemote, MemoryRemote, S3Remote, type Remote, type RemoteCall } from '../remote/index.ts';
import { Runtime } from './runtime.ts';

const PAGES = 40;
const PUSHES = 140;
const idx = (i: number) => PageIdx.parse(i);

function write(rt: Runtime, vid: VolumeId, page: number, fill: number) {
  const w = rt.graftWriter(vid);
  w.writePage(idx(page), new Uint8Array(4096).fill(fill & 0xff));
  w.commit();
}

/** Every page of the graft's snapshot (async reads: the test bucket has no blocking path in Node), and the bucket requests they took. */
async function readAll(rt: Runtime, vid: VolumeId): Promise<{ fills: number[]; requests: number }> {
  const before = rt.readStats().requests;
  const s = rt.graftSnapshot(vid);
  const fills: number[] = [];
  for (let i = 1; i <= s.pageCount; i++) fills.push((await rt.readPageAsync(s, idx(i)))[0] as number);
  return { fills, requests: rt.readStats().requests - before };
}

/** Fails the first compacted-index write: a compactor that crashed after uploading its segments. */
class CrashBeforePublish extends ForwardingRemote {
  armed = true;
  protected override send<T>(call: RemoteCall, request: () => Promise<T>): Promise<T> {
    if (call.op === 'putCompacted' && this.armed) {
      this.armed = false;
      return Promise.reject(new Error('the compactor crashed'));
    }
    return request();
  }
}

interface Bucket {
  device(remote?: (r: Remote) => Remote): Promise<Runtime>;
  compacted(vid: VolumeId): Promise<CompactedIndex | undefined>;
}

async function scenario(bucket: Bucket) {
  const a = await bucket.device();
  const g = await a.graftOpen();
  for (let p = 1; p <= PAGES; p++) write(a, g.local, p, 0);
  await a.graftPush(g.local);
  // Each push rewrites one page: the live pages end up in as many segments as pages.
  for (let n = 2; n <= PUSHES; n++) {
    write(a, g.local, 1 + (n % PAGES), n);
    expect(await a.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: n });
  }
  const expected = (await readAll(a, g.local)).fills;

  const before = await bucket.device();
  const gb = await before.graftClone(g.remote);
  const cold = await readAll(before, gb.local);
  expect(cold.fills).toEqual(expected);
  expect(cold.requests).toBe(PAGES);

  // A compactor that crashes after its upload publishes nothing; the next run does it all again.
  let crashing: CrashBeforePublish | undefined;
  const crashed = await bucket.device((r) => (crashing = new CrashBeforePublish(r)));
  await expect(crashed.compactRemote({ volume: g.remote })).rejects.toThrow(/crashed/);
  expect(crashing?.armed).toBe(false);
  expect(await bucket.compacted(g.remote)).toBeUndefined();
  const admin = await bucket.device();
  expect(await admin.compactRemote({ volume: g.remote })).toMatchObject({ outcome: 'compacted', lsn: PUSHES, pages: PAGES, segments: 1 });
  expect(await admin.compactRemote({ volume: g.remote })).toEqual({ outcome: 'up-to-date', lsn: PUSHES });
  const first = await bucket.compacted(g.remote);

  // A clone now reads every page in one request; the pusher and the earlier clone read as before.
  const after = await bucket.device();
  const gc = await after.graftClone(g.remote);
  const warm = await readAll(after, gc.local);
  expect(warm.fills).toEqual(expected);
  expect(warm.requests).toBe(1);
  for (let lsn = after.volumeOldestLsn(g.remote) ?? 1; lsn <= PUSHES; lsn++) {
    const snapshot = after.volumeCheckout(g.remote, LSN.parse(lsn));
    await after.snapshotHydrate(snapshot);
    expect(after.snapshotChecksum(snapshot), `LSN ${lsn}`).toBe(a.snapshotChecksum(a.volumeCheckout(g.remote, LSN.parse(lsn))));
  }

  // Pushes go on (nothing in the log changed); a clone takes the newer pages from their commits.
  const idle = await bucket.device();
  const gi = await idle.graftClone(g.remote);
  for (let n = PUSHES + 1; n <= PUSHES + 5; n++) {
    write(a, g.local, n % PAGES, 200 + n);
    expect(await a.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: n });
  }
  const later = await bucket.device();
  const gl = await later.graftClone(g.remote);
  const mixed = await readAll(later, gl.local);
  expect(mixed.fills).toEqual((await readAll(a, g.local)).fills);
  expect(mixed.requests).toBe(1 + 5);

  // A second compaction supersedes the first; GC deletes the old compacted segment (and the crashed
  // run's), and a device still holding the old index in memory reads the originals instead.
  expect(await admin.compactRemote({ volume: g.remote })).toMatchObject({ outcome: 'compacted', lsn: PUSHES + 5 });
  const gcResult = await admin.collectRemoteGarbage({ graceMs: 0 });
  expect(gcResult.segmentsDeleted).toEqual(expect.arrayContaining(first?.segments.map((s) => s.sid) ?? ['?']));
  expect(gcResult.segmentsDeleted).toHaveLength(2);
  expect((await readAll(idle, gi.local)).fills).toEqual(expected);
  const newest = await bucket.device();
  const gn = await newest.graftClone(g.remote);
  expect(await readAll(newest, gn.local)).toEqual({ fills: mixed.fills, requests: 1 });
}

describe('remote compaction on the memory remote', () => {
  it('merges the live pages into one segment a clone reads in one request; every LSN reads the same on every device', async () => {
    const remote = new MemoryRemote();
    await scenario({
      device: (wrap) => Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote: wrap ? wrap(remote) : remote }),
      compacted: async (vid) => {
        const bytes = await remote.getCompacted(vid);
        return bytes && CompactedIndex.decode(bytes, vid);
      },
    });
  });

  it('a damaged compacted index is ignored', async () => {
    const remote = new MemoryRemote();
    const a = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote });
    const g = await a.graftOpen();
    for (let n = 1; n <= PUSHES; n++) {
      write(a, g.local, 1 + (n % PAGES), n);
      await a.graftPush(g.local);
    }
    await a.compactRemote({ volume: g.remote });
    const key = RemoteKey.compacted(g.remote);
    const stored = remote.objects.get(key);
    if (!stored) throw new Error('no compacted index');
    const damaged = stored.bytes.slice();
    damaged[20] = (damaged[20] as number) ^ 0xff;
    remote.objects.set(key, { ...stored, bytes: damaged });
    expect(() => CompactedIndex.decode(damaged, g.remote)).toThrow(expect.objectContaining({ code: 'Corrupt' }));
    const b = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote });
    const gb = await b.graftClone(g.remote);
    expect((await readAll(b, gb.local)).fills).toEqual((await readAll(a, g.local)).fills);
    // The compactor writes a new one over it.
    expect(await b.compactRemote({ volume: gb.remote })).toMatchObject({ outcome: 'compacted', lsn: PUSHES });
  });
});

describe('remote compaction on the test bucket', () => {
  const testBucket = inject('testBucket');
  const prefix = `remote-compact/${Date.now().toString(36)}`;
  let presign: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    const handler = createPresignHandler({
      bucket: { ...testBucket, prefix },
      authorize: bearerTokens({ admin: { volumes: '*', write: true, admin: true }, writer: { volumes: '*', write: true, admin: false } }),
      expiresInSeconds: 60,
    });
    presign = await servePresign(handler, { port: 0 });
  });
  afterAll(() => presign?.close());

  it('merges the live pages into one segment a clone reads in one request; every LSN reads the same on every device', async () => {
    let n = 0;
    const remote = (token = 'admin'): Remote => new S3Remote({ presign: { endpoint: `${presign.url}/presign`, token } });
    const reader = remote();
    await scenario({
      device: async (wrap) => Runtime.open({ store: MemoryStore.open(), catalog: await IdbCatalog.open(`remote-compact-${++n}`), remote: wrap ? wrap(remote()) : remote() }),
      compacted: async (vid) => {
        const bytes = await reader.getCompacted(vid);
        return bytes && CompactedIndex.decode(bytes, vid);
      },
    });
    // Only an admin grant publishes a compacted index.
    const writer = remote('writer');
    await expect(writer.putCompacted(VolumeId.random(), new Uint8Array(8))).rejects.toMatchObject({ code: 'Forbidden' });
  }, 120_000);
});
