import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isScionError, PageIdx, SharedName, VolumeId, type ErrorCode } from '../core/index.ts';
import { IdbCatalog, MemoryStore } from '../local/index.ts';
import { bearerTokens, createPresignHandler, type Grant } from '../presign/index.ts';
import { servePresign } from '../presign/node.ts';
import { S3Remote } from '../remote/index.ts';
import { Runtime } from './runtime.ts';

/*
 * Shared names over real HTTP: runtimes → S3Remote → presign service → the test bucket (radosgw in
 * CI). The service reads the names it grants from the bucket to decide which volumes a token covers.
 */
const bucket = inject('testBucket');
const prefix = `s3-names/${Date.now().toString(36)}`;
const TEAM = SharedName.parse('team');
const OTHER = SharedName.parse('other');
const named = (...names: SharedName[]): Grant => ({ volumes: new Set(), names: new Set(names), write: true, admin: false });
const grants: Record<string, Grant> = {
  team: named(TEAM),
  'team-reader': { ...named(TEAM), write: false },
  other: named(OTHER),
  race: named(SharedName.parse('race')),
  writer: { volumes: '*', write: true, admin: false },
};
let presign: { url: string; close(): Promise<void> };

beforeAll(async () => {
  const handler = createPresignHandler({ bucket: { ...bucket, prefix }, authorize: bearerTokens(grants), expiresInSeconds: 60 });
  presign = await servePresign(handler, { port: 0 });
});
afterAll(() => presign?.close());

let n = 0;
async function device(token: string) {
  const remote = new S3Remote({ presign: { endpoint: `${presign.url}/presign`, token }, retry: { attempts: 1 } });
  return Runtime.open({ store: MemoryStore.open(), catalog: await IdbCatalog.open(`s3-names-${++n}`), remote });
}
async function codeOf(p: Promise<unknown>): Promise<ErrorCode | string> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  return isScionError(e) ? e.code : String(e);
}
const page = (fill: number) => new Uint8Array(4096).fill(fill);
/** A graft on `remote` whose page 1 holds `fill`, committed locally (not pushed). */
async function graftWithPage(rt: Runtime, remote: VolumeId, fill: number) {
  const g = await rt.graftOpen({ remote });
  const w = rt.graftWriter(g.local);
  w.writePage(PageIdx.parse(1), page(fill));
  w.commit();
  return g;
}

describe(`shared names (${bucket.kind} bucket)`, () => {
  it('a device claims a name for a fresh volume and pushes; a second device finds the volume by the name and reads it', async () => {
    const a = await device('team');
    expect(await a.remoteNameGet(TEAM)).toBeUndefined();
    const vid = await a.remoteNameClaim(TEAM);
    const ga = await graftWithPage(a, vid, 7);
    expect(await a.graftPush(ga.local)).toMatchObject({ outcome: 'pushed' });

    const b = await device('team-reader');
    expect(await b.remoteNameGet(TEAM)).toBe(vid);
    const gb = await b.graftClone(vid);
    expect((await b.readPageAsync(b.graftSnapshot(gb.local), PageIdx.parse(1)))[0]).toBe(7);
    // A reader's grant covers the volume for reading only.
    const wb = b.graftWriter(gb.local);
    wb.writePage(PageIdx.parse(1), page(8));
    wb.commit();
    expect(await codeOf(b.graftPush(gb.local))).toBe('Forbidden');
    // A claim of a name that exists returns its volume and changes nothing.
    expect(await a.remoteNameClaim(TEAM, VolumeId.random())).toBe(vid);
  });

  it('a grant for another name reaches neither the name, nor its volume by id, nor can it point its own name there', async () => {
    const a = await device('team');
    const vid = await a.remoteNameClaim(TEAM);
    const c = await device('other');
    expect(await codeOf(c.remoteNameGet(TEAM))).toBe('Forbidden');
    expect(await codeOf(c.remoteNameClaim(TEAM))).toBe('Forbidden');
    expect(await codeOf(c.graftClone(vid))).toBe('Forbidden');
    // The team volume has commits: a name may not be pointed at it by someone who may not use it.
    expect(await codeOf(c.remoteNameClaim(OTHER, vid))).toBe('Forbidden');
    expect(await c.remoteNameGet(OTHER)).toBeUndefined();
    // A fresh volume is fine, and then the other name's grant covers it.
    const own = await c.remoteNameClaim(OTHER);
    const g = await graftWithPage(c, own, 1);
    expect(await c.graftPush(g.local)).toMatchObject({ outcome: 'pushed' });
    expect(await codeOf(a.graftClone(own))).toBe('Forbidden');
  });

  it('devices claiming one new name at once all get the same volume (create-only decides)', async () => {
    const name = SharedName.parse('race');
    const devices = await Promise.all([1, 2, 3, 4].map(() => device('race')));
    const claims = await Promise.all(devices.map((d) => d.remoteNameClaim(name)));
    expect(new Set(claims).size).toBe(1);
    expect(await devices[0]?.remoteNameGet(name)).toBe(claims[0]);
  });

  it('a volume grant may name one of its volumes that already has commits', async () => {
    const w = await device('writer');
    const g = await graftWithPage(w, VolumeId.random(), 3);
    await w.graftPush(g.local);
    const name = SharedName.parse('published');
    expect(await w.remoteNameClaim(name, g.remote)).toBe(g.remote);
  });
});
