import 'fake-indexeddb/auto';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Commit, computeReferenceHash, isScionError, LSN, PageIdx, RemoteKey, SegmentId, VolumeId, type ErrorCode, type PresignResponse } from '../core/index.ts';
import { encodeForkV1 } from '../core/testing.ts';
import { IdbCatalog, MemoryStore } from '../local/index.ts';
import { bearerTokens, createPresignHandler, type Grant } from '../presign/index.ts';
import { servePresign } from '../presign/node.ts';
import { PresignClient, S3Remote, type RemoteRequestEvent } from '../remote/index.ts';
import type { FramePlanner } from './job-context.ts';
import { Runtime } from './runtime.ts';

/*
 * The whole sync path over real HTTP: runtimes → S3Remote → presign service (Node) → the test
 * bucket (radosgw in CI, the embedded emulator elsewhere), which verifies signatures and expiry and
 * enforces create-only PUTs.
 */
const bucket = inject('testBucket');
const prefix = `s3-sync/${Date.now().toString(36)}`;
const SHARED = VolumeId.random();
/** Every remote volume the tests push to, for the GC test to re-read. */
const pushedRemotes = new Set<VolumeId>([SHARED]);
let presign: { url: string; close(): Promise<void> };
/** The fork test's volumes: a parent, and the fork whose first push references the parent's segments. */
const PARENT = VolumeId.random();
const FORK = VolumeId.random();
/** A volume whose writer may not read the parent. */
const INTRUDER = VolumeId.random();
const FORK_PAGES = 300;
/** The inline-frame fork test's volumes: a parent whose pushes carry their frames in its commit objects, and its fork. */
const INLINE_PARENT = VolumeId.random();
const INLINE_FORK = VolumeId.random();
/** A fork of the inline fork, made by a writer granted only the inline fork and it. */
const INLINE_GRANDCHILD = VolumeId.random();
/** A fork of the inline parent whose record a Scion before listed commits wrote (version 1). */
const OLD_FORK = VolumeId.random();
const OLD_FORK_FORK = VolumeId.random();

const grants: Record<string, Grant> = {
  admin: { volumes: '*', write: true, admin: true },
  writer: { volumes: '*', write: true, admin: false },
  'reader-of-shared': { volumes: new Set([SHARED]), write: false, admin: false },
  'reader-of-shared-and-more': { volumes: '*', write: false, admin: false },
  'reader-of-fork-and-parent': { volumes: new Set([FORK, PARENT]), write: false, admin: false },
  'reader-of-fork-only': { volumes: new Set([FORK]), write: false, admin: false },
  'writer-of-intruder': { volumes: new Set([INTRUDER]), write: true, admin: false },
  'writer-of-fork-only': { volumes: new Set([FORK]), write: true, admin: false },
  'reader-of-inline-fork-only': { volumes: new Set([INLINE_FORK]), write: false, admin: false },
  'writer-of-inline-fork-and-grandchild': { volumes: new Set([INLINE_FORK, INLINE_GRANDCHILD]), write: true, admin: false },
  'reader-of-inline-grandchild-only': { volumes: new Set([INLINE_GRANDCHILD]), write: false, admin: false },
  'reader-of-old-fork-only': { volumes: new Set([OLD_FORK]), write: false, admin: false },
  'writer-of-old-fork-and-its-fork': { volumes: new Set([OLD_FORK, OLD_FORK_FORK]), write: true, admin: false },
};

beforeAll(async () => {
  const handler = createPresignHandler({ bucket: { ...bucket, prefix }, authorize: bearerTokens(grants), expiresInSeconds: 60 });
  presign = await servePresign(handler, { port: 0 });
});
afterAll(() => presign?.close());

let n = 0;
async function device(token: string | PresignClient = 'writer', onRequest?: (e: RemoteRequestEvent) => void, options: { inlineMaxBytes?: number; planFrames?: FramePlanner } = {}) {
  const remote = new S3Remote({ presign: typeof token === 'string' ? { endpoint: `${presign.url}/presign`, token } : token, onRequest });
  return Runtime.open({ store: MemoryStore.open(), catalog: await IdbCatalog.open(`s3-sync-${++n}`), remote, ...options });
}

const idx = (i: number) => PageIdx.parse(i);
function write(rt: Runtime, vid: VolumeId, pages: Record<number, number>) {
  const w = rt.graftWriter(vid);
  for (const [i, fill] of Object.entries(pages)) w.writePage(idx(Number(i)), new Uint8Array(4096).fill(fill));
  w.commit();
}
async function fillsAsync(rt: Runtime, vid: VolumeId): Promise<number[]> {
  const s = rt.graftSnapshot(vid);
  return Promise.all(Array.from({ length: s.pageCount }, async (_, i) => (await rt.readPageAsync(s, idx(i + 1)))[0] as number));
}
async function expectCode(p: Promise<unknown>, code: ErrorCode) {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(isScionError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
  return e as Error;
}

describe(`sync through presigned URLs (${bucket.kind} bucket)`, () => {
  it('two runtimes share a volume: push, clone, lazy read of one frame, pull', async () => {
    const a = await device();
    const ga = await a.graftOpen({ remote: SHARED });
    const w = a.graftWriter(ga.local);
    for (let i = 1; i <= 200; i++) w.writePage(idx(i), new Uint8Array(4096).fill(i));
    w.commit();
    expect(await a.graftPush(ga.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 1, pages: 200 });

    const requests: RemoteRequestEvent[] = [];
    const b = await device('writer', (e) => requests.push(e));
    const gb = await b.graftClone(SHARED);
    // 200 pages of one byte each compress into the commit object (inline frames): a page is a ranged GET of it.
    const ranged = () => requests.filter((r) => r.status === 206);
    expect(ranged()).toHaveLength(0);
    const page = await b.readPageAsync(b.graftSnapshot(gb.local), idx(150));
    expect(page[0]).toBe(150);
    expect(ranged()).toHaveLength(1);
    expect(ranged()[0]?.status).toBe(206);

    write(a, ga.local, { 201: 7 });
    await a.graftPush(ga.local);
    expect(await b.graftPull(gb.local)).toMatchObject({ outcome: 'pulled', to: 2 });
    expect((await fillsAsync(b, gb.local)).slice(198)).toEqual([199, 200, 7]);
  });

  it('a push is one presign round trip; an up-to-date pull is one round trip and one bucket request', async () => {
    const remote = VolumeId.random();
    pushedRemotes.add(remote);
    const signer = new PresignClient({ endpoint: `${presign.url}/presign`, token: 'writer' });
    const requests: RemoteRequestEvent[] = [];
    const a = await device(signer, (e) => requests.push(e));
    const ga = await a.graftOpen({ remote });
    for (let round = 1; round <= 3; round++) {
      write(a, ga.local, { [round]: round, 100: round });
      const before = signer.roundTrips;
      requests.length = 0;
      expect(await a.graftPush(ga.local)).toMatchObject({ outcome: 'pushed', remoteLsn: round });
      expect(signer.roundTrips - before, `push ${round}`).toBe(1);
      // Small pushes: the commit object carrying its frames (its create-only PUT is the probe), then,
      // after the push resolved, the latest hint.
      expect(requests.map((r) => r.method)).toEqual(['PUT']);
      await a.hintsSettled();
      expect(requests.map((r) => `${r.method} ${r.key.split('/').at(-2) === 'log' ? 'commit' : r.key.split('/').at(-1)}`)).toEqual(['PUT commit', 'PUT latest']);
    }
    const readerSigner = new PresignClient({ endpoint: `${presign.url}/presign`, token: 'writer' });
    const pulled: RemoteRequestEvent[] = [];
    const b = await device(readerSigner, (e) => pulled.push(e));
    const gb = await b.graftClone(remote);
    expect(b.graftStatus(gb.local).remoteLsn).toBe(3);
    const before = readerSigner.roundTrips;
    pulled.length = 0;
    expect(await b.graftPull(gb.local)).toEqual({ outcome: 'up-to-date' });
    // The presign service probed the next LSN itself (readLog): no bucket request of the device's own.
    expect(readerSigner.roundTrips - before).toBe(1);
    expect(pulled).toEqual([]);
  });

  it("a clone's hot frames come with its presign round trip: hydrating them makes no bucket request", async () => {
    const remote = VolumeId.random();
    pushedRemotes.add(remote);
    // Pages 1–2 hot (as the SQLite planner puts page 1 and interior pages first), the rest in frames of 8.
    const planFrames: FramePlanner = (pages) => {
      const rest = [...pages.keys()].filter((i) => i > 2).sort((x, y) => x - y);
      return { frames: [[idx(1), idx(2)], ...Array.from({ length: Math.ceil(rest.length / 8) }, (_, k) => rest.slice(k * 8, k * 8 + 8))], hotFrames: 1 };
    };
    const a = await device('writer', undefined, { inlineMaxBytes: 0, planFrames });
    const ga = await a.graftOpen({ remote });
    write(a, ga.local, Object.fromEntries(Array.from({ length: 40 }, (_, i) => [i + 1, i + 1])));
    expect(await a.graftPush(ga.local)).toMatchObject({ outcome: 'pushed', pages: 40 });
    await a.hintsSettled();

    // The answer: the hint (whose tail carries commit 1, so not commit 1 again), LSN 2 absent, the hot frame.
    const res = await fetch(`${presign.url}/presign`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer reader-of-shared-and-more' }, body: JSON.stringify({ ops: [{ op: 'readLog', vid: remote, from: 1 }] }) });
    const answer = (await res.json()) as PresignResponse;
    const bodies = new Map(answer.reads?.objects.map((o) => [o.key, o.body !== null]));
    expect([bodies.get(RemoteKey.latest(remote)), bodies.has(RemoteKey.commit(remote, LSN.FIRST)), bodies.get(RemoteKey.commit(remote, LSN.parse(2)))]).toEqual([true, false, false]);
    expect(answer.reads?.ranges).toHaveLength(1);

    const signer = new PresignClient({ endpoint: `${presign.url}/presign`, token: 'reader-of-shared-and-more' });
    const requests: RemoteRequestEvent[] = [];
    const b = await device(signer, (e) => requests.push(e));
    const gb = await b.graftClone(remote);
    expect(await b.graftHydrate(gb.local, { hotOnly: true })).toMatchObject({ framesDone: 1, framesTotal: 1 });
    expect(requests).toEqual([]);
    expect(signer.roundTrips).toBe(1);
    const snapshot = b.graftSnapshot(gb.local);
    expect([(await b.readPageAsync(snapshot, idx(1)))[0], (await b.readPageAsync(snapshot, idx(2)))[0]]).toEqual([1, 2]);
    expect(requests).toEqual([]);
    // A page outside the hot frames is the bucket's ranged GET, as before.
    expect((await b.readPageAsync(snapshot, idx(30)))[0]).toBe(30);
    expect(requests.map((r) => r.status)).toEqual([206]);
  });

  it('a clone and a pull are one presign round trip each and no bucket request; the first page reads need no signing', async () => {
    const remote = VolumeId.random();
    pushedRemotes.add(remote);
    const a = await device();
    const ga = await a.graftOpen({ remote });
    for (let round = 1; round <= 3; round++) {
      write(a, ga.local, { [round]: round, 100: round });
      await a.graftPush(ga.local);
    }
    const signer = new PresignClient({ endpoint: `${presign.url}/presign`, token: 'reader-of-shared-and-more' });
    const requests: RemoteRequestEvent[] = [];
    const b = await device(signer, (e) => requests.push(e));
    const gb = await b.graftClone(remote);
    expect(b.graftStatus(gb.local).remoteLsn).toBe(3);
    expect(signer.roundTrips).toBe(1);
    expect(requests).toEqual([]);
    // Pages of every commit: one GET each, on URLs the clone's round trip brought.
    expect((await fillsAsync(b, gb.local)).slice(0, 3)).toEqual([1, 2, 3]);
    expect(signer.roundTrips).toBe(1);
    expect(requests.length).toBeGreaterThan(0);
    // (Small pushes' frames are inside their commit objects: ranged GETs of those.)
    expect(requests.every((r) => r.method === 'GET' && (r.key.includes('/segments/') || r.key.includes('/log/')))).toBe(true);
    // A pull of one new commit: one round trip, its commit and probes read by the service, its segment's URL with them.
    write(a, ga.local, { 4: 4 });
    await a.graftPush(ga.local);
    await a.hintsSettled(); // the hint is written after the push resolved
    requests.length = 0;
    expect(await b.graftPull(gb.local)).toMatchObject({ outcome: 'pulled', to: 4 });
    expect(signer.roundTrips).toBe(2);
    expect(requests).toEqual([]);
    expect((await b.readPageAsync(b.graftSnapshot(gb.local), idx(4)))[0]).toBe(4);
    expect(signer.roundTrips).toBe(2);
    expect(requests).toHaveLength(1);
  });

  it('concurrent pushers: exactly one wins each LSN and the other reports divergence', async () => {
    const remote = VolumeId.random();
    pushedRemotes.add(remote);
    const a = await device();
    const b = await device();
    const ga = await a.graftOpen({ remote });
    write(a, ga.local, { 1: 1 });
    await a.graftPush(ga.local);
    const gb = await b.graftClone(remote);
    write(a, ga.local, { 1: 2 });
    write(b, gb.local, { 1: 3 });
    const outcomes = (await Promise.all([a.graftPush(ga.local), b.graftPush(gb.local)])).map((r) => r.outcome).sort();
    expect(outcomes).toEqual(['diverged', 'pushed']);
  });

  it('hydrate leaves nothing missing and matches the writer\'s checksum', async () => {
    const remote = VolumeId.random();
    pushedRemotes.add(remote);
    const a = await device();
    const ga = await a.graftOpen({ remote });
    const w = a.graftWriter(ga.local);
    // Varied bytes, so the frames do not fit in the commit object: a segment object.
    for (let i = 1; i <= 300; i++) w.writePage(idx(i), Uint8Array.from({ length: 4096 }, (_, j) => (i * 7 + j * j) & 0xff));
    w.commit();
    await a.graftPush(ga.local);
    const b = await device();
    const gb = await b.graftClone(remote);
    const progress = await b.graftHydrate(gb.local);
    expect(progress.framesDone).toBe(5);
    const snapshot = b.graftSnapshot(gb.local);
    expect(b.snapshotMissingPages(snapshot).isEmpty).toBe(true);
    expect(b.snapshotChecksum(snapshot)).toBe(a.snapshotChecksum(a.graftSnapshot(ga.local)));
  });

  it('remote GC deletes only unreferenced segments: every volume still hydrates afterwards (admin grant)', async () => {
    const admin = await device('admin');
    // The push that lost the race above left its segment behind: the only garbage there is.
    const result = await admin.collectRemoteGarbage({ graceMs: 0 });
    expect(result.segmentsReferenced).toBeGreaterThanOrEqual(1);
    expect(result.segmentsDeleted.length).toBeLessThanOrEqual(1);
    expect((await admin.collectRemoteGarbage({ graceMs: 0 })).segmentsDeleted).toEqual([]);
    for (const remote of pushedRemotes) {
      const b = await device();
      const gb = await b.graftClone(remote);
      await b.graftHydrate(gb.local);
      expect(b.snapshotMissingPages(b.graftSnapshot(gb.local)).isEmpty).toBe(true);
    }
  });

  it('out-of-scope, unauthenticated and unprivileged requests are refused with clear errors', async () => {
    const reader = await device('reader-of-shared');
    const g = await reader.graftClone(SHARED);
    expect(reader.graftStatus(g.local).remoteLsn).toBeGreaterThan(0);
    const other = await reader.graftOpen();
    write(reader, other.local, { 1: 1 });
    const outOfScope = await expectCode(reader.graftPush(other.local), 'Forbidden');
    expect(outOfScope.message).toMatch(/op 0|not allowed|may not/i);
    await expectCode((await device('no-such-token')).graftClone(SHARED), 'Forbidden');
    await expectCode((await device('writer')).collectRemoteGarbage(), 'Forbidden');
  });

  it('a forged URL is refused by the bucket and reported as an error, not as data', async () => {
    const client = new PresignClient({ endpoint: `${presign.url}/presign`, token: 'writer' });
    const [req] = await client.sign([{ op: 'getCommit', vid: SHARED, lsn: 1 as never }]);
    const forged = req!.url.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000');
    expect((await fetch(forged)).status).toBe(403);
    const moved = req!.url.replace(SHARED, VolumeId.random());
    expect((await fetch(moved)).status).toBe(403);
  });
});

// A fork's first push: it references the segments its parent uploaded instead of uploading every
// page again, and a new device's clone reads them.
describe(`a fork's first push references its parent's segments (${bucket.kind} bucket)`, () => {
  it('uploads only the pages written since the fork; a new device clones the fork and reads every page', async () => {
    // The parent uploads segments (its inline frames: the inline-frame fork tests below).
    const a = await device('writer', undefined, { inlineMaxBytes: 0 });
    const ga = await a.graftOpen({ remote: PARENT });
    // Varied bytes (the first one says which page), so the parent's segment does not compress to nothing.
    const w = a.graftWriter(ga.local);
    for (let i = 1; i <= FORK_PAGES; i++) w.writePage(idx(i), Uint8Array.from({ length: 4096 }, (_, j) => (j === 0 ? i : i * 7 + j * j) & 0xff));
    w.commit();
    await a.graftPush(ga.local);
    write(a, ga.local, { 5: 99 });
    await a.graftPush(ga.local);
    // An unpushed change of the parent (what a diverged graft has) is the fork's to upload.
    write(a, ga.local, { 7: 77 });
    const expected = await fillsAsync(a, ga.local);

    const events: RemoteRequestEvent[] = [];
    const forker = await device('writer', (e) => events.push(e));
    const gp = await forker.graftClone(PARENT);
    write(forker, gp.local, { 7: 77 });
    const fork = await forker.graftFork(forker.graftSnapshot(gp.local), { remote: FORK });
    write(forker, fork.local, { [FORK_PAGES + 1]: 33 });
    events.length = 0;
    const pushed = await forker.graftPush(fork.local);
    const puts = events.filter((e) => e.method === 'PUT');
    // The lazy clone it forked fetches no page to push.
    expect(events.filter((e) => e.method === 'GET' && e.key.includes('/segments/'))).toEqual([]);
    // Two pages uploaded (the parent's unpushed page 7 and the fork's page 301), not 301.
    expect(pushed).toMatchObject({ outcome: 'pushed', remoteLsn: 3, pages: 2 });
    // Their frames (inside the commit object: small).
    expect(pushed.outcome === 'pushed' && pushed.bytes).toBeGreaterThan(0);
    expect(pushed.outcome === 'pushed' && pushed.bytes).toBeLessThan(2 * 4096 + 1024);
    expect(puts.reduce((sum, e) => sum + e.bytes, 0)).toBeLessThan(16 * 1024);
    // The forking device reads its own pages locally after the push.
    expect(await fillsAsync(forker, fork.local)).toEqual([...expected, 33]);

    const reader = await device('reader-of-fork-and-parent');
    const clone = await reader.graftClone(FORK);
    expect(reader.graftSnapshot(clone.local).pageCount).toBe(FORK_PAGES + 1);
    const fills = await fillsAsync(reader, clone.local);
    expect(fills.slice(0, 8)).toEqual([1, 2, 3, 4, 99, 6, 77, 8]);
    expect(fills).toEqual([...expected, 33]);
    expect(reader.snapshotChecksum(reader.graftSnapshot(clone.local))).toBe(forker.snapshotChecksum(forker.graftSnapshot(fork.local)));

    // The fork's next push is an ordinary one on top.
    write(forker, fork.local, { 2: 22 });
    expect(await forker.graftPush(fork.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 4, pages: 1 });
    expect(await reader.graftPull(clone.local)).toMatchObject({ outcome: 'pulled', to: 4 });
    expect((await fillsAsync(reader, clone.local)).slice(0, 3)).toEqual([1, 22, 3]);
  });

  it("a reader whose grant covers only the fork reads every page, the parent's too (through the fork record)", async () => {
    const signer = new PresignClient({ endpoint: `${presign.url}/presign`, token: 'reader-of-fork-only' });
    const reader = await device(signer);
    const clone = await reader.graftClone(FORK);
    const fills = await fillsAsync(reader, clone.local);
    expect(fills.slice(0, 8)).toEqual([1, 22, 3, 4, 99, 6, 77, 8]);
    expect(fills[FORK_PAGES]).toBe(33);
    // The clone's one presign round trip signed the parent's segments too (through the fork record).
    expect(signer.roundTrips).toBe(1);
  });

  it('a writer of one volume cannot reach another by naming it: no fork record naming it, no segment of it', async () => {
    const admin = new S3Remote({ presign: { endpoint: `${presign.url}/presign`, token: 'admin' } });
    const parentCommit = Commit.decode((await admin.getCommit(PARENT, LSN.parse(1))) as Uint8Array);
    const sid = parentCommit.segment?.sid as SegmentId;
    const client = new PresignClient({ endpoint: `${presign.url}/presign`, token: 'writer-of-intruder' });
    await expectCode(client.sign([{ op: 'putFork', vid: INTRUDER, ancestors: [PARENT] }]), 'Forbidden');
    // Nor have the service read the parent's log for it.
    await expectCode(client.sign([{ op: 'readLog', vid: PARENT, from: LSN.FIRST }]), 'Forbidden');
    // Even knowing a real segment id of the parent (from a leak), directly or through its own volume.
    await expectCode(client.sign([{ op: 'getSegment', vid: PARENT, sid }]), 'Forbidden');
    await expectCode(client.sign([{ op: 'getSegment', vid: PARENT, sid, via: INTRUDER }]), 'Forbidden');
    // Naming the parent in its own commits changes nothing: the service trusts only fork records it signed.
    const reference = { vid: INTRUDER, lsn: LSN.parse(1), pageCount: parentCommit.pageCount, segment: parentCommit.segment };
    const checkpoint: Commit = { vid: INTRUDER, lsn: LSN.parse(2), pageCount: parentCommit.pageCount, hash: parentCommit.hash, checkpoint: [{ ...reference, hash: computeReferenceHash(reference) }], ancestors: [PARENT] };
    expect(await new S3Remote({ presign: client }).putCommit(INTRUDER, LSN.parse(2), Commit.encode(checkpoint))).toBe('created');
    await expectCode(client.sign([{ op: 'getSegment', vid: PARENT, sid, via: INTRUDER }]), 'Forbidden');
    await expectCode(client.sign([{ op: 'getCommit', vid: PARENT, lsn: LSN.parse(1), via: INTRUDER }]), 'Forbidden');
    // readLog brings that commit (the intruder's own) but signs no URL for the segment it names.
    const res = await fetch(`${presign.url}/presign`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer writer-of-intruder' }, body: JSON.stringify({ ops: [{ op: 'readLog', vid: INTRUDER, from: 1 }] }) });
    const answer = (await res.json()) as PresignResponse;
    expect(answer.reads?.objects.find((o) => o.key === RemoteKey.commit(INTRUDER, LSN.parse(2)))?.body).toBeTruthy();
    expect(answer.reads?.signed).toEqual([]);
    // Nor by naming a fork it does not hold a grant for.
    await expectCode(client.sign([{ op: 'getSegment', vid: PARENT, sid, via: FORK }]), 'Forbidden');
    // A grant of a fork reaches only the segments of the ancestors its fork record lists, through it.
    const forkWriter = new PresignClient({ endpoint: `${presign.url}/presign`, token: 'writer-of-fork-only' });
    await expectCode(forkWriter.sign([{ op: 'getSegment', vid: SHARED, sid, via: FORK }]), 'Forbidden');
    await expectCode(forkWriter.sign([{ op: 'getSegment', vid: PARENT, sid }]), 'Forbidden');
    await expectCode(forkWriter.sign([{ op: 'getCommit', vid: PARENT, lsn: LSN.parse(1) }]), 'Forbidden');
    await expectCode(forkWriter.sign([{ op: 'putFork', vid: INTRUDER, ancestors: [PARENT] }]), 'Forbidden');
    expect(await forkWriter.sign([{ op: 'getSegment', vid: PARENT, sid, via: FORK }])).toHaveLength(1);
  });
});

// A small push carries its frames in its commit object: a fork's reader reads those of its ancestor
// through the fork, only the commits its fork record lists (the ones its first push names).
describe(`a fork shares the pages its parent pushed inline (${bucket.kind} bucket)`, () => {
  it("a reader granted only the fork reads the parent's inline pages, not the parent's commits after the fork", async () => {
    const a = await device();
    const ga = await a.graftOpen({ remote: INLINE_PARENT });
    write(a, ga.local, { 1: 11, 2: 12, 3: 13 });
    expect(await a.graftPush(ga.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 1 });
    const admin = new S3Remote({ presign: { endpoint: `${presign.url}/presign`, token: 'admin' } });
    expect(Commit.decode((await admin.getCommit(INLINE_PARENT, LSN.parse(1))) as Uint8Array).segment?.inline).toBeDefined();

    const forker = await device();
    const gp = await forker.graftClone(INLINE_PARENT);
    const fork = await forker.graftFork(forker.graftSnapshot(gp.local), { remote: INLINE_FORK });
    write(forker, fork.local, { 4: 14 });
    expect(await forker.graftPush(fork.local)).toMatchObject({ outcome: 'pushed' });
    // The parent goes on after the fork.
    write(a, ga.local, { 2: 22 });
    expect(await a.graftPush(ga.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 2 });

    const signer = new PresignClient({ endpoint: `${presign.url}/presign`, token: 'reader-of-inline-fork-only' });
    const reader = await device(signer);
    const clone = await reader.graftClone(INLINE_FORK);
    expect(await fillsAsync(reader, clone.local)).toEqual([11, 12, 13, 14]);
    // The clone's one presign round trip signed the parent's commit objects too (through the fork record).
    expect(signer.roundTrips).toBe(1);
    // The parent's commit after the fork (not in the fork record) stays refused, through the fork or not; so does any volume the fork record does not list.
    await expectCode(signer.sign([{ op: 'getCommit', vid: INLINE_PARENT, lsn: LSN.parse(2), via: INLINE_FORK }]), 'Forbidden');
    await expectCode(signer.sign([{ op: 'getCommit', vid: INLINE_PARENT, lsn: LSN.parse(1) }]), 'Forbidden');
    await expectCode(signer.sign([{ op: 'getCommit', vid: SHARED, lsn: LSN.parse(1), via: INLINE_FORK }]), 'Forbidden');
    expect(await signer.sign([{ op: 'getCommit', vid: INLINE_PARENT, lsn: LSN.parse(1), via: INLINE_FORK }])).toHaveLength(1);
    // Nor does a forged via: a fork not granted, or the parent itself.
    await expectCode(signer.sign([{ op: 'getCommit', vid: INLINE_PARENT, lsn: LSN.parse(1), via: FORK }]), 'Forbidden');
    await expectCode(signer.sign([{ op: 'getCommit', vid: INLINE_PARENT, lsn: LSN.parse(1), via: INLINE_PARENT }]), 'Forbidden');
  });

  it("a fork of the fork, made and read by grants of the forks alone, reads the grandparent's inline pages the first fork's record lists", async () => {
    const writer = new PresignClient({ endpoint: `${presign.url}/presign`, token: 'writer-of-inline-fork-and-grandchild' });
    const forker = await device(writer);
    const gb = await forker.graftClone(INLINE_FORK);
    const fork = await forker.graftFork(forker.graftSnapshot(gb.local), { remote: INLINE_GRANDCHILD });
    write(forker, fork.local, { 5: 15 });
    expect(await forker.graftPush(fork.local)).toMatchObject({ outcome: 'pushed' });

    const reader = await device(new PresignClient({ endpoint: `${presign.url}/presign`, token: 'reader-of-inline-grandchild-only' }));
    const clone = await reader.graftClone(INLINE_GRANDCHILD);
    expect(await fillsAsync(reader, clone.local)).toEqual([11, 12, 13, 14, 15]);

    // Its record may list only commits of the grandparent that the first fork's record lists (LSN 1).
    const lsns = (...n: number[]) => n.map((x) => LSN.parse(x));
    const fork2 = (...listed: number[]) => writer.sign([{ op: 'putFork', vid: INLINE_GRANDCHILD, ancestors: [INLINE_PARENT, INLINE_FORK], inlineCommits: { [INLINE_PARENT]: lsns(...listed) } }]);
    expect(await fork2(1)).toHaveLength(1);
    const refused = await expectCode(fork2(1, 2), 'Forbidden');
    expect(refused.message).toContain(`the fork lists LSN 2 of ${INLINE_PARENT}, which is not granted; through ${INLINE_FORK} only its commits 1 are readable`);
    // A writer who reads the parent itself may list any commits it holds, none past its end.
    const direct = new PresignClient({ endpoint: `${presign.url}/presign`, token: 'writer' });
    const listing = (...listed: number[]) => direct.sign([{ op: 'putFork', vid: VolumeId.random(), ancestors: [INLINE_PARENT], inlineCommits: { [INLINE_PARENT]: lsns(...listed) } }]);
    expect(await listing(1, 2)).toHaveLength(1);
    expect((await expectCode(listing(2, 3), 'Forbidden')).message).toContain(`the log of ${INLINE_PARENT} holds no commit at LSN 3; name a commit that exists`);
  });

  it('a fork record of version 1 (no listed commits) still passes segment reads through it, and refuses commit reads saying what to do', async () => {
    const aws = new AwsClient({ accessKeyId: bucket.accessKeyId, secretAccessKey: bucket.secretAccessKey, service: 's3', region: bucket.region });
    const put = await aws.fetch(`${bucket.endpoint}/${bucket.bucket}/${prefix}/${RemoteKey.fork(OLD_FORK)}`, { method: 'PUT', body: encodeForkV1(OLD_FORK, [INLINE_PARENT]) as Uint8Array<ArrayBuffer> });
    expect(put.status).toBe(200);
    const signer = new PresignClient({ endpoint: `${presign.url}/presign`, token: 'reader-of-old-fork-only' });
    expect(await signer.sign([{ op: 'getSegment', vid: INLINE_PARENT, sid: SegmentId.random(), via: OLD_FORK }])).toHaveLength(1);
    const refused = await expectCode(signer.sign([{ op: 'getCommit', vid: INLINE_PARENT, lsn: LSN.parse(1), via: OLD_FORK }]), 'Forbidden');
    expect(refused.message).toContain('version 1');
    expect(refused.message).toContain(`grant ${INLINE_PARENT} to this reader, or fork ${INLINE_PARENT} again`);
    // A fork of it may list the grandparent (its segments), but none of its commits through it.
    const writer = new PresignClient({ endpoint: `${presign.url}/presign`, token: 'writer-of-old-fork-and-its-fork' });
    const ancestors = [INLINE_PARENT, OLD_FORK];
    expect(await writer.sign([{ op: 'putFork', vid: OLD_FORK_FORK, ancestors }])).toHaveLength(1);
    await expectCode(writer.sign([{ op: 'putFork', vid: OLD_FORK_FORK, ancestors, inlineCommits: { [INLINE_PARENT]: [LSN.parse(1)] } }]), 'Forbidden');
  });
});
