// The same S3 checks against both local buckets: what Scion relies on (presigned SigV4, Range,
// create-only PUT, CORS for browsers, ListObjectsV2, DELETE). radosgw runs when installed (CI installs it).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  objectUrl,
  presign,
  RADOSGW_INSTALL,
  radosgwInstalled,
  send,
  startEmbeddedBucket,
  startRadosgw,
  type TestBucketServer,
} from './index.ts';

const ORIGIN = 'http://127.0.0.1:5173';
const CREATE_ONLY = { 'If-None-Match': '*' };

const kinds = [
  { name: 'embedded (@20minutes/s3rver + front)', start: () => startEmbeddedBucket(), skip: false },
  {
    name: radosgwInstalled() ? 'radosgw' : `radosgw — SKIPPED: not installed (${RADOSGW_INSTALL})`,
    start: () => startRadosgw(),
    skip: !radosgwInstalled(),
  },
];

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = async (r: Response): Promise<string> => new TextDecoder().decode(await r.arrayBuffer());
const headerList = (r: Response, name: string): string[] =>
  (r.headers.get(name) ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

function listed(xml: string): { keys: string[]; truncated: boolean; next: string | undefined } {
  const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1] as string);
  const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1];
  return { keys, truncated: /<IsTruncated>true<\/IsTruncated>/.test(xml), next };
}

for (const kind of kinds) {
  describe.skipIf(kind.skip)(kind.name, () => {
    let b: TestBucketServer;
    // Keys of this run, so a reused bucket directory cannot disturb the checks.
    const run = `conformance/${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const k = (name: string): string => `${run}/${name}`;

    beforeAll(async () => {
      b = await kind.start();
    }, 120_000);
    afterAll(async () => {
      await b?.stop();
    }, 60_000);

    async function put(key: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
      return send(await presign(b, 'PUT', key, { headers }), { body: typeof body === 'string' ? bytes(body) : body });
    }
    async function get(key: string, extra: Record<string, string> = {}): Promise<Response> {
      return send(await presign(b, 'GET', key), { headers: extra });
    }

    it('presigned PUT then GET returns the same bytes, with an ETag', async () => {
      const body = randomBytes(3000);
      const p = await put(k('roundtrip'), body);
      expect(p.status).toBe(200);
      await p.arrayBuffer();
      expect(p.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
      const g = await get(k('roundtrip'));
      expect(g.status).toBe(200);
      expect(Buffer.from(await g.arrayBuffer()).equals(body)).toBe(true);
      expect(g.headers.get('etag')).toBe(p.headers.get('etag'));
      const h = await send(await presign(b, 'HEAD', k('roundtrip')));
      expect(h.status).toBe(200);
      expect(h.headers.get('content-length')).toBe('3000');
      expect(h.headers.get('etag')).toBe(p.headers.get('etag'));
    });

    it('GET with Range answers 206 with exactly those bytes', async () => {
      expect((await put(k('range'), 'hello world, 0123456789')).status).toBe(200);
      const r = await get(k('range'), { Range: 'bytes=6-10' });
      expect(r.status).toBe(206);
      expect(await text(r)).toBe('world');
      expect(r.headers.get('content-range')).toBe('bytes 6-10/23');
      const suffix = await get(k('range'), { Range: 'bytes=-5' });
      expect(suffix.status).toBe(206);
      expect(await text(suffix)).toBe('56789');
    });

    it('refuses a tampered signature, a URL for another key, an anonymous and an expired request (403)', async () => {
      expect((await put(k('auth'), 'secret')).status).toBe(200);
      expect((await put(k('auth-other'), 'other')).status).toBe(200);
      const signed = await presign(b, 'GET', k('auth'));

      const tampered = new URL(signed.url);
      const sig = tampered.searchParams.get('X-Amz-Signature') as string;
      tampered.searchParams.set('X-Amz-Signature', sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0'));
      const t = await fetch(tampered);
      expect(t.status).toBe(403);
      expect(await t.text()).toContain('SignatureDoesNotMatch');

      const other = new URL(signed.url);
      other.pathname = new URL(objectUrl(b, k('auth-other'))).pathname;
      const o = await fetch(other);
      expect(o.status).toBe(403);
      expect(await o.text()).toContain('SignatureDoesNotMatch');

      const anonymous = await fetch(objectUrl(b, k('auth')));
      expect(anonymous.status).toBe(403);
      await anonymous.arrayBuffer();

      const old = await presign(b, 'GET', k('auth'), { signedAt: Date.now() - 3600_000, expiresIn: 60 });
      const e = await send(old);
      expect(e.status).toBe(403);
      expect(await e.text()).toContain('AccessDenied');
    });

    it('a URL signed for 1 s is refused 2 s later', async () => {
      expect((await put(k('short'), 'x')).status).toBe(200);
      // X-Amz-Date has whole seconds, so a URL signed late in a second has almost none of its 1 s left,
      // and on a loaded machine the request itself may take longer. So sign at the start of a second,
      // and count a refusal of the fresh URL only if the answer came within that second; else sign again.
      let signed: Awaited<ReturnType<typeof presign>> | undefined;
      let signedAt = 0;
      for (let attempt = 1; !signed; attempt++) {
        await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000)));
        signedAt = Date.now();
        const url = await presign(b, 'GET', k('short'), { expiresIn: 1, signedAt });
        const fresh = await send(url);
        await fresh.arrayBuffer();
        const inTime = Date.now() < signedAt - (signedAt % 1000) + 1000;
        if (fresh.status === 200) signed = url;
        else if (inTime || attempt === 10) expect.fail(`a URL signed for 1 s was refused (${fresh.status}) ${inTime ? 'within its second' : 'in 10 tries'}`);
      }
      await new Promise((r) => setTimeout(r, Math.max(0, signedAt + 2100 - Date.now())));
      const late = await send(signed);
      expect(late.status).toBe(403);
      await late.arrayBuffer();
    });

    it('PUT with signed If-None-Match: * creates a new key (200) and refuses an existing one (412)', async () => {
      const first = await put(k('create-only'), 'first', CREATE_ONLY);
      expect(first.status).toBe(200);
      const second = await put(k('create-only'), 'second', CREATE_ONLY);
      expect(second.status).toBe(412);
      expect(await second.text()).toContain('PreconditionFailed');
      expect(await text(await get(k('create-only')))).toBe('first');
    });

    it('the same URL sent without its signed If-None-Match header is refused (403) and writes nothing', async () => {
      const signed = await presign(b, 'PUT', k('dropped-header'), { headers: CREATE_ONLY });
      expect(new URL(signed.url).searchParams.get('X-Amz-SignedHeaders')).toBe('host;if-none-match');
      const r = await send({ ...signed, headers: {} }, { body: 'sneaky' });
      expect(r.status).toBe(403);
      expect(await r.text()).toContain('SignatureDoesNotMatch');
      const g = await get(k('dropped-header'));
      expect(g.status).toBe(404);
      await g.arrayBuffer();
    });

    it('two concurrent create-only PUTs to one key: exactly one 200 and one 412, and the winner is stored', async () => {
      for (let i = 0; i < 5; i++) {
        const key = k(`race-${i}`);
        const [a, c] = await Promise.all([presign(b, 'PUT', key, { headers: CREATE_ONLY }), presign(b, 'PUT', key, { headers: CREATE_ONLY })]);
        const bodyA = randomBytes(64 * 1024);
        const bodyC = randomBytes(64 * 1024);
        const [ra, rc] = await Promise.all([send(a, { body: bodyA }), send(c, { body: bodyC })]);
        await Promise.all([ra.arrayBuffer(), rc.arrayBuffer()]);
        expect([ra.status, rc.status].sort()).toEqual([200, 412]);
        const stored = Buffer.from(await (await get(key)).arrayBuffer());
        expect(stored.equals(ra.status === 200 ? bodyA : bodyC)).toBe(true);
      }
    });

    it('CORS: a preflight for PUT + If-None-Match is allowed, responses expose ETag and Content-Range', async () => {
      const pre = await fetch(objectUrl(b, k('cors')), {
        method: 'OPTIONS',
        headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'if-none-match' },
      });
      await pre.arrayBuffer();
      expect(pre.status).toBe(200);
      expect(['*', ORIGIN]).toContain(pre.headers.get('access-control-allow-origin'));
      expect(headerList(pre, 'access-control-allow-methods')).toContain('put');
      expect(headerList(pre, 'access-control-allow-headers')).toContain('if-none-match');
      expect(Number(pre.headers.get('access-control-max-age'))).toBeGreaterThan(0);

      const p = await put(k('cors'), 'cors body', CREATE_ONLY);
      expect(p.status).toBe(200);
      const g = await get(k('cors'), { Origin: ORIGIN, Range: 'bytes=0-3' });
      expect(g.status).toBe(206);
      await g.arrayBuffer();
      expect(['*', ORIGIN]).toContain(g.headers.get('access-control-allow-origin'));
      expect(headerList(g, 'access-control-expose-headers')).toEqual(expect.arrayContaining(['etag', 'content-range']));

      // A browser must be able to read the 412 of a lost create-only race.
      const lost = await send(await presign(b, 'PUT', k('cors'), { headers: CREATE_ONLY }), { body: bytes('again'), headers: { Origin: ORIGIN } });
      expect(lost.status).toBe(412);
      await lost.arrayBuffer();
      expect(['*', ORIGIN]).toContain(lost.headers.get('access-control-allow-origin'));
    });

    it('ListObjectsV2 lists keys under a prefix, after a key, and page by page', async () => {
      const names = ['list/a', 'list/b', 'list/c', 'list/d', 'listing-outside'];
      for (const n of names) expect((await put(k(n), n)).status).toBe(200);
      const list = async (query: Record<string, string>): Promise<ReturnType<typeof listed>> => {
        const r = await send(await presign(b, 'GET', '', { query: { 'list-type': '2', ...query } }));
        const xml = await text(r);
        expect(r.status, xml).toBe(200);
        return listed(xml);
      };
      const all = await list({ prefix: k('list/') });
      expect(all.keys).toEqual(['a', 'b', 'c', 'd'].map((n) => k(`list/${n}`)));
      expect(all.truncated).toBe(false);
      expect((await list({ prefix: k('list/'), 'start-after': k('list/b') })).keys).toEqual([k('list/c'), k('list/d')]);
      const page1 = await list({ prefix: k('list/'), 'max-keys': '3' });
      expect(page1.keys).toEqual([k('list/a'), k('list/b'), k('list/c')]);
      expect(page1.truncated).toBe(true);
      expect(page1.next).toBeTruthy();
      const page2 = await list({ prefix: k('list/'), 'max-keys': '3', 'continuation-token': page1.next as string });
      expect(page2.keys).toEqual([k('list/d')]);
      expect(page2.truncated).toBe(false);
    });

    it('DELETE removes the object (204), then GET is 404 and listing omits it', async () => {
      expect((await put(k('gone/x'), 'bye')).status).toBe(200);
      const d = await send(await presign(b, 'DELETE', k('gone/x')));
      expect(d.status).toBe(204);
      const g = await get(k('gone/x'));
      expect(g.status).toBe(404);
      expect(await g.text()).toContain('NoSuchKey');
      const l = await send(await presign(b, 'GET', '', { query: { 'list-type': '2', prefix: k('gone/') } }));
      expect(listed(await text(l)).keys).toEqual([]);
    });
  });
}
