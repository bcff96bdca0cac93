import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isScionError, PageIdx, VolumeId } from '../core/index.ts';
import { MemoryCatalog, MemoryStore } from '../local/index.ts';
import { bearerTokens, createPresignHandler, type PresignOptions } from '../presign/index.ts';
import { servePresign } from '../presign/node.ts';
import { S3Remote, type RemoteRequestEvent } from '../remote/index.ts';
import { Runtime } from './runtime.ts';

/*
 * Expired URLs end to end: runtime → S3Remote → presign service → the test bucket, which checks
 * every signature's date and lifetime. The app must see a clear UrlExpired, never a crash or data.
 */
const bucket = inject('testBucket');
const prefix = `s3-expiry/${Date.now().toString(36)}`;
const services: Record<string, { url: string; close(): Promise<void> }> = {};

async function serve(name: string, options: Partial<PresignOptions>): Promise<void> {
  const handler = createPresignHandler({ bucket: { ...bucket, prefix }, authorize: bearerTokens({ t: { volumes: '*', write: true, admin: false } }), ...options });
  services[name] = await servePresign(handler, { port: 0 });
}

beforeAll(async () => {
  await serve('good', {});
  // A service whose clock is 10 minutes slow: every URL is expired when it arrives.
  await serve('skewed', { expiresInSeconds: 60, now: () => Date.now() - 10 * 60_000 });
  // URLs that live 5 s, less than the client's 30 s refresh margin.
  await serve('short', { expiresInSeconds: 5 });
});
afterAll(() => Promise.all(Object.values(services).map((s) => s.close())));

async function device(service: string, requests: RemoteRequestEvent[] = []): Promise<Runtime> {
  const remote = new S3Remote({ presign: { endpoint: `${services[service]!.url}/presign`, token: 't' }, onRequest: (e) => requests.push(e), retry: { baseMs: 1, maxMs: 2 } });
  return Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote });
}

function write(rt: Runtime, vid: VolumeId, fill: number): void {
  const w = rt.graftWriter(vid);
  w.writePage(PageIdx.parse(1), new Uint8Array(4096).fill(fill));
  w.commit();
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => undefined, (e: unknown) => e);
}

describe(`expired URLs (${bucket.kind} bucket)`, () => {
  it('an expired URL is refused by the bucket, re-signed once, then reported to the app as UrlExpired', async () => {
    const requests: RemoteRequestEvent[] = [];
    const rt = await device('skewed', requests);
    const g = await rt.graftOpen();
    write(rt, g.local, 1);
    const e = await failure(rt.graftPush(g.local));
    expect(isScionError(e, 'UrlExpired'), String(e)).toBe(true);
    expect((e as Error).message).toMatch(/403.*clock/);
    // Every request refused; each URL was re-signed once, then given up (the log probes run in parallel).
    await new Promise((r) => setTimeout(r, 200));
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => r.status === 403)).toBe(true);
    expect(requests.filter((r) => r.key === requests[0]!.key)).toHaveLength(2);
    // The refused request was the commit PUT (a one-page push carries its frames in it): its pending
    // commit stays for recovery, since an earlier attempt of a refused PUT may have landed.
    expect(rt.graftStatus(g.local)).toMatchObject({ state: 'ahead', pendingPush: { local: 1, remote: 1 } });
  });

  it('a device that clones through expired URLs gets UrlExpired, never data', async () => {
    const writer = await device('good');
    const g = await writer.graftOpen();
    write(writer, g.local, 7);
    expect((await writer.graftPush(g.local)).outcome).toBe('pushed');
    const reader = await device('skewed');
    const cloned = await failure(reader.graftClone(g.remote));
    expect(isScionError(cloned, 'UrlExpired'), String(cloned)).toBe(true);
  });

  it('URLs that live less than the refresh margin are still used, once, as signed', async () => {
    const a = await device('short');
    const g = await a.graftOpen();
    write(a, g.local, 3);
    expect((await a.graftPush(g.local)).outcome).toBe('pushed');
    const b = await device('short');
    const gb = await b.graftClone(g.remote);
    expect((await b.readPageAsync(b.graftSnapshot(gb.local), PageIdx.parse(1)))[0]).toBe(3);
  });
});
