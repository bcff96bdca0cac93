// Remote GC pruning old commit records: the log then starts at a checkpoint; clones, pulls and
// pushes of devices that were behind the pruned history neither fail as "not found" nor re-create a
// deleted LSN. Run on the memory remote and on the test bucket (radosgw in CI) through the presign service.
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isScionError, LSN, PageIdx, RemoteKey, SYSTEM_IDS, VolumeId, type ErrorCode, type IdSource } from '../core/index.ts';
import { IdbCatalog, MemoryCatalog, MemoryStore } from '../local/index.ts';
import { bearerTokens, createPresignHandler } from '../presign/index.ts';
import { servePresign } from '../presign/node.ts';
import { ForwardingRemote, MemoryRemote, S3Remote, type Remote, type RemoteCall } from '../remote/index.ts';
import { LOG_END_TRUST_MS } from './jobs/fetch-log.ts';
import { PROBE_FRESH_MS } from './jobs/push.ts';
import { minPruneGraceMs } from './jobs/remote-gc.ts';
import { Runtime } from './runtime.ts';

const HOUR = 3600_000;
const PUSHES = 70; // LSN 64 becomes a checkpoint (CHECKPOINT_INTERVAL)
const idx = (i: number) => PageIdx.parse(i);

function write(rt: Runtime, vid: VolumeId, page: number, fill: number) {
  const w = rt.graftWriter(vid);
  w.writePage(idx(page), new Uint8Array(4096).fill(fill));
  w.commit();
}

async function fills(rt: Runtime, vid: VolumeId): Promise<number[]> {
  const s = rt.graftSnapshot(vid);
  return Promise.all(Array.from({ length: s.pageCount }, async (_, i) => (await rt.readPageAsync(s, idx(i + 1)))[0] as number));
}

async function expectCode(p: Promise<unknown>, code: ErrorCode) {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(isScionError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
}

/** A runtime clock that can be moved on (as after a long sleep), for the devices that fall behind. */
function movableClock(): { ids: IdSource; offset: number } {
  const clock = { offset: 0, ids: { now: () => Date.now() + clock.offset, random: SYSTEM_IDS.random } };
  return clock;
}

interface Bucket {
  device(ids?: IdSource): Promise<Runtime>;
  /** The LSNs whose commit records exist. */
  commitKeys(vid: VolumeId): Promise<number[]>;
}

async function memoryCommitKeys(remote: MemoryRemote, vid: VolumeId): Promise<number[]> {
  return [...remote.objects.keys()].filter((k) => k.startsWith(RemoteKey.logPrefix(vid))).map((k) => RemoteKey.parse(k)).flatMap((k) => (k.kind === 'commit' ? [k.lsn as number] : [])).sort((x, y) => x - y);
}

async function listedCommitKeys(lister: Remote, vid: VolumeId): Promise<number[]> {
  const lsns: number[] = [];
  for await (const o of lister.list('volumes/')) {
    const k = RemoteKey.parse(o.key);
    if (k.kind === 'commit' && k.vid === vid) lsns.push(k.lsn);
  }
  return lsns.sort((x, y) => x - y);
}

/** A pushes PUSHES commits; two devices stop following at LSN 10, the second also writes offline. */
async function devicesBehind(bucket: Bucket) {
  const a = await bucket.device();
  const g = await a.graftOpen();
  const clock = movableClock();
  const behind = await bucket.device(clock.ids);
  const offline = await bucket.device(clock.ids);
  let gb: Awaited<ReturnType<Runtime['graftClone']>> | undefined;
  let gc: typeof gb;
  for (let n = 1; n <= PUSHES; n++) {
    write(a, g.local, 1 + (n % 10), n);
    expect(await a.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: n });
    if (n === 10) {
      gb = await behind.graftClone(g.remote);
      gc = await offline.graftClone(g.remote);
      write(offline, gc.local, 1, 200);
    }
  }
  if (!gb || !gc) throw new Error('clones missing');
  return { a, g, clock, behind, offline, gb, gc };
}

/**
 * After pruning: a new device clones and reads `expected`. Once their look at the log's end is
 * older than fetchLog trusts (the hint is read beside the probe), the device behind the pruned
 * history with nothing unpushed restarts at the checkpoint, as a clone; the one with unpushed
 * commits is diverged, says why and what to do, and re-creates no LSN (the keys stay `keys`).
 */
async function expectDevicesFollow(bucket: Bucket, devices: Awaited<ReturnType<typeof devicesBehind>>, expected: number[], keys: number[]) {
  const { g, clock, behind, offline, gb, gc } = devices;
  const fresh = await bucket.device();
  const gf = await fresh.graftClone(g.remote);
  expect(fresh.graftStatus(gf.local).remoteLsn).toBe(PUSHES);
  expect(await fills(fresh, gf.local)).toEqual(expected);
  clock.offset = LOG_END_TRUST_MS + 1;
  expect(await behind.graftPull(gb.local)).toMatchObject({ outcome: 'pulled', to: PUSHES });
  expect(await fills(behind, gb.local)).toEqual(expected);
  const pulled = await offline.graftPull(gc.local);
  expect(pulled).toMatchObject({ outcome: 'diverged', ahead: 1 });
  expect(pulled.outcome === 'diverged' && pulled.message).toMatch(/pruned.*rebase.*fork/s);
  expect(await offline.graftPush(gc.local)).toMatchObject({ outcome: 'diverged', ahead: 1 });
  expect(await bucket.commitKeys(g.remote)).toEqual(keys);
}

async function scenario(bucket: Bucket) {
  const devices = await devicesBehind(bucket);
  const { a, g, behind, gb } = devices;
  const expected = await fills(a, g.local);
  const checksums = new Map<number, string>();
  for (let lsn = 66; lsn <= PUSHES; lsn++) checksums.set(lsn, a.snapshotChecksum(a.volumeCheckout(g.remote, LSN.parse(lsn))));

  const admin = await bucket.device();
  const now = () => Date.now() + 3 * HOUR;
  // A grace within the URLs' expiry would let a stale pusher re-create a deleted LSN: refused.
  await expectCode(admin.collectRemoteGarbage({ retain: { commits: 5 }, pruneCommits: true, graceMs: HOUR, now }), 'InvalidInput');
  expect(minPruneGraceMs()).toBeGreaterThan(HOUR);
  expect(await bucket.commitKeys(g.remote)).toHaveLength(PUSHES);

  const dry = await admin.collectRemoteGarbage({ retain: { commits: 5 }, pruneCommits: true, graceMs: 2 * HOUR, now, dryRun: true });
  expect(dry).toMatchObject({ commitsDeleted: 63, prunedBelow: { [g.remote]: 64 } });
  expect(await bucket.commitKeys(g.remote)).toHaveLength(PUSHES);
  // Commits younger than the grace period stay.
  expect((await admin.collectRemoteGarbage({ retain: { commits: 5 }, pruneCommits: true, graceMs: 2 * HOUR, dryRun: true })).commitsDeleted).toBe(0);
  const gcResult = await admin.collectRemoteGarbage({ retain: { commits: 5 }, pruneCommits: true, graceMs: 2 * HOUR, now });
  expect(gcResult).toMatchObject({ commitsDeleted: 63, retainedFrom: { [g.remote]: 66 }, prunedBelow: { [g.remote]: 64 } });
  expect(await bucket.commitKeys(g.remote)).toEqual(Array.from({ length: PUSHES - 63 }, (_, i) => 64 + i));
  // Nothing more to do.
  expect((await admin.collectRemoteGarbage({ retain: { commits: 5 }, pruneCommits: true, graceMs: 2 * HOUR, now })).commitsDeleted).toBe(0);

  // The pusher reads every retained LSN as before, and pushes on.
  for (const [lsn, sum] of checksums) expect(a.snapshotChecksum(a.volumeCheckout(g.remote, LSN.parse(lsn)))).toBe(sum);
  await expectDevicesFollow(bucket, devices, expected, Array.from({ length: PUSHES - 63 }, (_, i) => 64 + i));
  // The writer pushes on past the pruned history; the device that restarted follows.
  write(a, g.local, 3, 250);
  expect(await a.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: PUSHES + 1 });
  expect(await behind.graftPull(gb.local)).toMatchObject({ outcome: 'pulled', to: PUSHES + 1 });
  expect((await fills(behind, gb.local))[2]).toBe(250);
}

/**
 * The latest hint is lost (deleted, or damaged) after pruning: LSN 1 is gone and no hint names the
 * checkpoint. A clone finds the log by listing; a device behind the pruned history that probes an
 * absent LSN lists to tell pruned history from the end (before: it took the gap for the end — a
 * pull said up-to-date, a push re-created a pruned LSN that no reader would ever see).
 */
async function lostHint(bucket: Bucket, loseHint: (vid: VolumeId) => Promise<void>) {
  const devices = await devicesBehind(bucket);
  const { a, g } = devices;
  await a.hintsSettled();
  const expected = await fills(a, g.local);
  const admin = await bucket.device();
  const gcResult = await admin.collectRemoteGarbage({ retain: { commits: 5 }, pruneCommits: true, graceMs: 2 * HOUR, now: () => Date.now() + 3 * HOUR });
  expect(gcResult).toMatchObject({ prunedBelow: { [g.remote]: 64 } });
  const keys = await bucket.commitKeys(g.remote);
  expect(keys[0]).toBeGreaterThan(1);
  await loseHint(g.remote);
  await expectDevicesFollow(bucket, devices, expected, keys);
}

describe('a pruned volume whose latest hint is lost', () => {
  const remote = new MemoryRemote();
  const bucket = (inlineMaxBytes: number): Bucket => ({
    device: (ids) => Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote, inlineMaxBytes, ...(ids ? { ids } : {}) }),
    commitKeys: (vid) => memoryCommitKeys(remote, vid),
  });
  const deleted = async (vid: VolumeId) => void remote.objects.delete(RemoteKey.latest(vid));
  const damaged = async (vid: VolumeId) => void remote.objects.set(RemoteKey.latest(vid), { bytes: new Uint8Array(40).fill(7), lastModified: Date.now() });

  it('deleted: clones find the log by listing; devices behind restart or diverge, never re-create an LSN', () => lostHint(bucket(0), deleted));
  it('damaged: the same', () => lostHint(bucket(0), damaged));
  it('with inline pushes (records below the floor kept for their frames): clones start at the floor checkpoint', () => lostHint(bucket(16 * 1024), deleted));
  it('with LSN 1 itself kept below the floor (its inline frames hold a page never written again): a clone goes past the gap', async () => {
    const { device, commitKeys } = bucket(16 * 1024);
    const a = await device();
    const g = await a.graftOpen();
    for (let n = 1; n <= PUSHES; n++) {
      write(a, g.local, n === 1 ? 20 : 1 + (n % 10), n);
      expect(await a.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: n });
    }
    await a.hintsSettled();
    const expected = await fills(a, g.local);
    await (await device()).collectRemoteGarbage({ retain: { commits: 5 }, pruneCommits: true, graceMs: 2 * HOUR, now: () => Date.now() + 3 * HOUR });
    expect((await commitKeys(g.remote)).slice(0, 2)).toEqual([1, 57]);
    await deleted(g.remote);
    // Before: the clone read LSN 1, took absent LSN 2 for the end, and showed the volume as of LSN 1.
    const fresh = await device();
    const gf = await fresh.graftClone(g.remote);
    expect(fresh.volumeOldestLsn(g.remote)).toBe(64);
    expect(await fills(fresh, gf.local)).toEqual(expected);
  });
});

// Pushes upload segments here (inlineMaxBytes: 0): a commit record holding a retained page's inline frames is
// never pruned (remote-gc.test.ts), which would change the counts below.
describe('pruning commit records on the memory remote', () => {
  it('keeps the log from a checkpoint the hint names; devices behind it restart or diverge, never re-create an LSN', async () => {
    const remote = new MemoryRemote();
    await scenario({
      device: (ids) => Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote, inlineMaxBytes: 0, ...(ids ? { ids } : {}) }),
      commitKeys: (vid) => memoryCommitKeys(remote, vid),
    });
  });
});

describe('pruning commit records on the test bucket', () => {
  const testBucket = inject('testBucket');
  const prefix = `remote-prune/${Date.now().toString(36)}`;
  let presign: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    const handler = createPresignHandler({ bucket: { ...testBucket, prefix }, authorize: bearerTokens({ admin: { volumes: '*', write: true, admin: true } }), expiresInSeconds: 60 });
    presign = await servePresign(handler, { port: 0 });
  });
  afterAll(() => presign?.close());

  it('keeps the log from a checkpoint the hint names; devices behind it restart or diverge, never re-create an LSN', async () => {
    let n = 0;
    const remote = (): Remote => new S3Remote({ presign: { endpoint: `${presign.url}/presign`, token: 'admin' } });
    const lister = remote();
    await scenario({
      device: async (ids) => Runtime.open({ store: MemoryStore.open(), catalog: await IdbCatalog.open(`remote-prune-${++n}`), remote: remote(), inlineMaxBytes: 0, ...(ids ? { ids } : {}) }),
      commitKeys: (vid) => listedCommitKeys(lister, vid),
    });
  }, 120_000);

  it('a pruned volume whose hint was damaged: clones find the log by listing; devices behind restart or diverge', async () => {
    let n = 0;
    const remote = (): Remote => new S3Remote({ presign: { endpoint: `${presign.url}/presign`, token: 'admin' } });
    const lister = remote();
    await lostHint({
      device: async (ids) => Runtime.open({ store: MemoryStore.open(), catalog: await IdbCatalog.open(`remote-prune-lost-${++n}`), remote: remote(), ...(ids ? { ids } : {}) }),
      commitKeys: (vid) => listedCommitKeys(lister, vid),
    }, async (vid) => void (await lister.putLatest(vid, new Uint8Array(40).fill(7))));
  }, 120_000);
});

describe('a push whose commit PUT would follow its probe late', () => {
  it('probes again first (PROBE_FRESH_MS): a commit that landed meanwhile makes it diverged, with no PUT of its LSN', async () => {
    const remote = new MemoryRemote();
    const clock = movableClock();
    const puts: string[] = [];
    const b = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote });
    const gb = await b.graftOpen();
    write(b, gb.local, 1, 1);
    await b.graftPush(gb.local);
    let stalled = false;
    // The device stalls during its segment upload (a laptop asleep), and another device pushes meanwhile.
    class Stalling extends ForwardingRemote {
      protected override async send<T>(call: RemoteCall, request: () => Promise<T>): Promise<T> {
        if (call.op === 'putCommit') puts.push(call.key);
        if (call.op === 'putSegment' && !stalled) {
          stalled = true;
          write(b, gb.local, 1, 3);
          await b.graftPush(gb.local);
          clock.offset += PROBE_FRESH_MS + 1;
        }
        return request();
      }
    }
    const a = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote: new Stalling(remote), ids: clock.ids, inlineMaxBytes: 0 });
    const ga = await a.graftClone(gb.remote);
    write(a, ga.local, 1, 2);
    expect(await a.graftPush(ga.local)).toMatchObject({ outcome: 'diverged', ahead: 1, behind: 1 });
    expect(stalled).toBe(true);
    expect(puts).toEqual([]);
  });
});

describe('pruning beside small pushes (inline frames in commit records)', () => {
  it('keeps every commit record whose inline frames hold a page a retained LSN reads', async () => {
    const remote = new MemoryRemote();
    const device = () => Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote });
    const a = await device();
    const g = await a.graftOpen();
    for (let n = 1; n <= PUSHES; n++) {
      write(a, g.local, 1 + (n % 10), n);
      expect(await a.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: n });
    }
    await a.hintsSettled();
    const expected = await fills(a, g.local);
    const admin = await device();
    const result = await admin.collectRemoteGarbage({ retain: { commits: 5 }, pruneCommits: true, graceMs: 2 * HOUR, now: () => Date.now() + 3 * HOUR });
    // Below the floor (64) the commits 57..63 hold the newest version at LSN 66 of pages 8, 9, 10, 1, 2, 3, 4
    // inside their records: those 7 stay, the other 56 go.
    expect(result).toMatchObject({ commitsDeleted: 63 - 7, prunedBelow: { [g.remote]: 64 } });
    const fresh = await device();
    const gf = await fresh.graftClone(g.remote);
    expect(await fills(fresh, gf.local)).toEqual(expected);
  });
});
