import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isScionError, LSN, RemoteKey, SegmentId, VolumeId, type PresignOp } from '../core/index.ts';
import type { RemoteRequestEvent } from './remote.ts';
import { PresignClient } from './presign-client.ts';
import { RETRY_DEFAULTS } from './retry.ts';
import { parseListing, S3Remote } from './s3-remote.ts';

/*
 * A scripted bucket + presign service on loopback: the presign endpoint signs every op as a URL on
 * the same server, and each object path answers with the next status of its script.
 */
let server: Server;
let base: string;
let signCalls = 0;
const script = new Map<string, number[]>();
const hits = new Map<string, number>();
/** Paths answered 200 with an empty body (a torn upload some buckets keep). */
const empty = new Set<string>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/presign') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        signCalls++;
        const { ops } = JSON.parse(body) as { ops: PresignOp[] };
        const urls = ops.map((op) => ({
          method: op.op.startsWith('put') ? 'PUT' : 'GET',
          url: `${base}/obj/${op.op}/${'sid' in op ? op.sid : 'lsn' in op ? `${op.vid}/${op.lsn}` : ''}`,
          headers: {},
          expiresAt: Date.now() + 60_000,
        }));
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ urls }));
      });
      return;
    }
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    const status = script.get(url.pathname)?.shift() ?? 200;
    req.resume();
    res.statusCode = status;
    res.end(status === 200 && !empty.has(url.pathname) ? 'hello' : '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const remote = () => new S3Remote({ presign: { endpoint: `${base}/presign`, token: 't' }, retry: { baseMs: 1, maxMs: 2 } });
const vid = VolumeId.random();

describe('S3Remote', () => {
  it('names each request in its events by the layout key, not by the URL path (bucket, prefix) it was sent to', async () => {
    const events: RemoteRequestEvent[] = [];
    const r = new S3Remote({ presign: { endpoint: `${base}/presign`, token: 't' }, onRequest: (e) => events.push(e) });
    const [own, sid] = [VolumeId.random(), SegmentId.random()];
    await r.getCommit(own, LSN.FIRST);
    await r.getSegmentRange({ sid, home: own }, { start: 0, end: 5 });
    expect(events.map((e) => e.key)).toEqual([RemoteKey.commit(own, LSN.FIRST), RemoteKey.segment({ sid, home: own })]);
    expect(events.every((e) => !e.sync)).toBe(true);
  });

  it('retries 5xx with backoff and then succeeds', async () => {
    const path = `/obj/getCommit/${vid}/1`;
    script.set(path, [503, 500]);
    expect(new TextDecoder().decode(await remote().getCommit(vid, LSN.FIRST))).toBe('hello');
    expect(hits.get(path)).toBe(3);
  });

  it('reports each request by its layout key, not the URL it was signed as', async () => {
    const keys: string[] = [];
    const r = new S3Remote({ presign: { endpoint: `${base}/presign`, token: 't' }, onRequest: (e) => keys.push(e.key) });
    await r.getCommit(vid, LSN.parse(3));
    expect(keys).toEqual([RemoteKey.commit(vid, LSN.parse(3))]);
  });

  it('gives up after the configured attempts with RemoteUnavailable', async () => {
    const path = `/obj/getCommit/${vid}/2`;
    script.set(path, [503, 503, 503, 503, 503]);
    const e = await remote().getCommit(vid, LSN.parse(2)).catch((err: unknown) => err);
    expect(isScionError(e, 'RemoteUnavailable')).toBe(true);
    expect(hits.get(path)).toBe(RETRY_DEFAULTS.attempts);
  });

  it('does not retry a 4xx other than a refused URL', async () => {
    const sid = SegmentId.random();
    const path = `/obj/getSegment/${sid}`;
    script.set(path, [400]);
    const e = await remote().getSegmentRange({ sid }, { start: 0, end: 5 }).catch((err: unknown) => err);
    expect(isScionError(e, 'RemoteUnavailable')).toBe(true);
    expect(hits.get(path)).toBe(1);
  });

  it('re-signs once after a 403, then reports UrlExpired if the bucket still refuses', async () => {
    const ok = `/obj/getCommit/${vid}/3`;
    script.set(ok, [403]);
    expect(await remote().getCommit(vid, LSN.parse(3))).toBeDefined();
    const refused = `/obj/getCommit/${vid}/4`;
    script.set(refused, [403, 403]);
    const e = await remote().getCommit(vid, LSN.parse(4)).catch((err: unknown) => err);
    expect(isScionError(e, 'UrlExpired')).toBe(true);
    expect(hits.get(refused)).toBe(2);
  });

  it('returns a stored empty object as empty bytes (the decoder calls it Corrupt), not an error about streams', async () => {
    const path = `/obj/getCommit/${vid}/9`;
    empty.add(path);
    expect(await remote().getCommit(vid, LSN.parse(9))).toEqual(new Uint8Array());
  });

  it('a segment the bucket does not have is Corrupt: a commit names it', async () => {
    const sid = SegmentId.random();
    script.set(`/obj/getSegment/${sid}`, [404]);
    const e = await remote().getSegmentRange({ sid }, { start: 0, end: 5 }).catch((err: unknown) => err);
    expect(isScionError(e, 'Corrupt')).toBe(true);
  });

  it('maps 404 to absent and 412 to an existing object', async () => {
    script.set(`/obj/getCommit/${vid}/5`, [404]);
    expect(await remote().getCommit(vid, LSN.parse(5))).toBeUndefined();
    script.set(`/obj/putCommit/${vid}/5`, [412]);
    expect(await remote().putCommit(vid, LSN.parse(5), new Uint8Array(1))).toBe('exists');
  });
});

describe('PresignClient', () => {
  it('caches signed URLs until shortly before they expire', async () => {
    const client = new PresignClient({ endpoint: `${base}/presign`, token: 't' });
    const before = signCalls;
    const op: PresignOp = { op: 'getCommit', vid, lsn: LSN.FIRST };
    await client.sign([op]);
    await client.sign([op, op]);
    expect(signCalls - before).toBe(1);
    const stale = new PresignClient({ endpoint: `${base}/presign`, token: 't', refreshMarginMs: 120_000 });
    await stale.sign([op]);
    await stale.sign([op]);
    expect(signCalls - before).toBe(3);
  });
});

describe('helpers', () => {
  it('listings drop the bucket prefix so keys match the layout', () => {
    const xml = `<ListBucketResult><Prefix>tenant/a/volumes/</Prefix><IsTruncated>true</IsTruncated>
      <Contents><Key>tenant/a/volumes/v1/log/0000000000000001</Key><LastModified>2026-11-24T04:00:00.000Z</LastModified><Size>42</Size></Contents>
    </ListBucketResult>`;
    expect(parseListing(xml, 'volumes/')).toEqual({
      truncated: true,
      objects: [{ key: 'volumes/v1/log/0000000000000001', size: 42, lastModified: Date.parse('2026-11-24T04:00:00.000Z') }],
    });
  });
});

describe('PresignClient batching', () => {
  it('signs concurrent callers in one round trip, and a refused batch does not fail the others', async () => {
    const asked: PresignOp[][] = [];
    const fake: typeof fetch = async (_url, init) => {
      const { ops } = JSON.parse(String(init?.body)) as { ops: PresignOp[] };
      asked.push(ops);
      if (ops.some((o) => o.op === 'listVolumes')) return new Response(JSON.stringify({ name: 'ScionError', code: 'Forbidden', message: 'Op 1 (listVolumes) is not allowed.' }), { status: 403 });
      return Response.json({ urls: ops.map(() => ({ method: 'GET', url: 'http://x/', headers: {}, expiresAt: Date.now() + 60_000 })) });
    };
    const client = new PresignClient({ endpoint: 'http://presign.test/presign', fetch: fake });
    const a = { op: 'getCommit', vid, lsn: LSN.parse(1) } as const;
    const b = { op: 'getCommit', vid, lsn: LSN.parse(2) } as const;
    await Promise.all([client.sign([a]), client.sign([b])]);
    expect(asked).toEqual([[a, b]]);
    expect(client.roundTrips).toBe(1);

    asked.length = 0;
    const c = { op: 'getCommit', vid, lsn: LSN.parse(3) } as const;
    const [ok, refused] = await Promise.allSettled([client.sign([c]), client.sign([{ op: 'listVolumes' }])]);
    expect(ok.status).toBe('fulfilled');
    expect(refused.status === 'rejected' && isScionError(refused.reason, 'Forbidden')).toBe(true);
    expect(asked).toEqual([[c, { op: 'listVolumes' }], [c], [{ op: 'listVolumes' }]]);
  });
});
