import { createHash, createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LSN, UploadBody, type ErrorWire, type PresignedRequest, type PresignResponse } from '../core/index.ts';
import { fakeSegmentId, fakeVolumeId } from '../core/testing.ts';
import { bearerTokens, createPresignHandler, type BucketConfig, type Grant, type PresignOptions } from './index.ts';

const BUCKET: BucketConfig = {
  endpoint: 'http://127.0.0.1:7480',
  bucket: 'scion-test',
  region: 'us-east-1',
  accessKeyId: 'AKIDSCIONTEST',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+secret/KEY',
  prefix: 'tenant/a',
};
const NOW = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const VID = fakeVolumeId(1);
const OTHER_VID = fakeVolumeId(2);
const SID = fakeSegmentId(1);
const BODY = new TextEncoder().encode('the one body these URLs may upload');
const UPLOAD = UploadBody.of(BODY);
const TOKENS: Record<string, Grant> = {
  writer: { volumes: new Set([VID]), write: true, admin: false },
  reader: { volumes: new Set([VID]), write: false, admin: false },
  nobody: { volumes: new Set(), write: false, admin: false },
  admin: { volumes: '*', write: true, admin: true },
};

function makeHandler(overrides: Partial<PresignOptions> = {}): (req: Request) => Promise<Response> {
  return createPresignHandler({ bucket: BUCKET, authorize: bearerTokens(TOKENS), now: () => NOW, ...overrides });
}

/** `token` '' sends no Authorization header. */
function post(body: unknown, token = 'writer', init: { path?: string; headers?: Record<string, string> } = {}): Request {
  return new Request(`http://presign.test${init.path ?? '/presign'}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}), ...init.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function sign(ops: unknown[], token = 'writer', handler = makeHandler()): Promise<PresignedRequest[]> {
  const res = await handler(post({ ops }, token));
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as PresignResponse).urls as PresignedRequest[];
}

async function refusal(res: Response | Promise<Response>): Promise<{ status: number; body: ErrorWire }> {
  const r = await res;
  const text = await r.text();
  expect(text).not.toContain(BUCKET.secretAccessKey);
  return { status: r.status, body: JSON.parse(text) as ErrorWire };
}

/**
 * An independent SigV4 query-string verifier (node:crypto, written from the AWS spec), as a bucket
 * would run it: true iff the URL's signature matches the request the client will send.
 */
function verify(req: { method: string; url: string; headers: Readonly<Record<string, string>> }, secret: string, nowMs: number): boolean {
  const url = new URL(req.url);
  const q = url.searchParams;
  const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [...q]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [enc(k), enc(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const signedHeaders = q.get('X-Amz-SignedHeaders') ?? '';
  const lower = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const canonicalHeaders = signedHeaders.split(';').map((h) => `${h}:${h === 'host' ? url.host : (lower[h] ?? '').trim()}\n`).join('');
  const canonical = [req.method, url.pathname, query, canonicalHeaders, signedHeaders, 'UNSIGNED-PAYLOAD'].join('\n');
  const date = q.get('X-Amz-Date') ?? '';
  const [, day, region, service] = (q.get('X-Amz-Credential') ?? '').split('/');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
  const kSigning = hmac(hmac(hmac(hmac(`AWS4${secret}`, day ?? ''), region ?? ''), service ?? ''), 'aws4_request');
  const signedAt = Date.parse(date.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const fresh = nowMs < signedAt + Number(q.get('X-Amz-Expires')) * 1000;
  return fresh && hmac(kSigning, toSign).toString('hex') === q.get('X-Amz-Signature');
}

describe('the test verifier', () => {
  it('accepts the example presigned URL of the AWS S3 documentation', () => {
    const url =
      'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    expect(verify({ method: 'GET', url, headers: {} }, secret, Date.UTC(2013, 4, 24, 1))).toBe(true);
    expect(verify({ method: 'PUT', url, headers: {} }, secret, Date.UTC(2013, 4, 24, 1))).toBe(false);
    expect(verify({ method: 'GET', url, headers: {} }, secret, Date.UTC(2013, 4, 25, 1))).toBe(false); // expired
  });
});

describe('createPresignHandler: signing', () => {
  const ALL_OPS = [
    { op: 'getCommit', vid: VID, lsn: 7 },
    { op: 'putCommit', vid: VID, lsn: 8, upload: UPLOAD },
    { op: 'getSegment', sid: SID, vid: VID },
    { op: 'putSegment', vid: VID, sid: SID, upload: UPLOAD },
    { op: 'deleteSegment', sid: SID, vid: VID },
    { op: 'listLog', vid: VID, after: `volumes/${VID}/log/${LSN.format(LSN.parse(7))}` },
    { op: 'listSegments' },
    { op: 'listVolumes' },
  ];

  it('returns one URL per op, in op order, each with a signature the bucket will accept', async () => {
    const urls = await sign(ALL_OPS, 'admin');
    expect(urls.map((u) => u.method)).toEqual(['GET', 'PUT', 'GET', 'PUT', 'DELETE', 'GET', 'GET', 'GET']);
    for (const u of urls) {
      expect(new URL(u.url).searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
      expect(verify(u, BUCKET.secretAccessKey, NOW + 1000), u.url).toBe(true);
      expect(verify(u, 'another secret', NOW + 1000)).toBe(false);
    }
  });

  it('builds object URLs from the layout under the configured bucket and prefix only', async () => {
    const [getCommit, putCommit, getSegment, , deleteSegment] = await sign(ALL_OPS, 'admin');
    const base = 'http://127.0.0.1:7480/scion-test/tenant/a/';
    expect(getCommit?.url.startsWith(`${base}volumes/${VID}/log/0000000000000007?`)).toBe(true);
    expect(putCommit?.url.startsWith(`${base}volumes/${VID}/log/0000000000000008?`)).toBe(true);
    expect(getSegment?.url.startsWith(`${base}volumes/${VID}/segments/${SID}?`)).toBe(true);
    expect(deleteSegment?.url.startsWith(`${base}volumes/${VID}/segments/${SID}?`)).toBe(true);
    // Format 1's shared segments stay readable (and collectable).
    const [deleteCommit] = await sign([{ op: 'deleteCommit', vid: VID, lsn: 7 }], 'admin');
    expect([deleteCommit?.method, deleteCommit?.url.startsWith(`${base}volumes/${VID}/log/0000000000000007?`)]).toEqual(['DELETE', true]);
    const [v1Get, v1Delete] = await sign([{ op: 'getSegment', sid: SID }, { op: 'deleteSegment', sid: SID }], 'admin');
    expect(v1Get?.url.startsWith(`${base}segments/${SID}?`)).toBe(true);
    expect(v1Delete?.url.startsWith(`${base}segments/${SID}?`)).toBe(true);
  });

  it('signs ListObjectsV2 on the bucket, confined to the op’s prefix', async () => {
    const [, , , , , listLog, listSegments, listVolumes] = await sign(ALL_OPS, 'admin');
    const params = (u: PresignedRequest | undefined): URLSearchParams => {
      const url = new URL(u?.url ?? '');
      expect(url.origin + url.pathname).toBe('http://127.0.0.1:7480/scion-test');
      expect(url.searchParams.get('list-type')).toBe('2');
      return url.searchParams;
    };
    expect(params(listLog).get('prefix')).toBe(`tenant/a/volumes/${VID}/log/`);
    expect(params(listLog).get('start-after')).toBe(`tenant/a/volumes/${VID}/log/0000000000000007`);
    expect(params(listSegments).get('prefix')).toBe('tenant/a/segments/');
    expect(params(listSegments).has('start-after')).toBe(false);
    expect(params(listVolumes).get('prefix')).toBe('tenant/a/volumes/');
  });

  it('signs the exact length, both digests, the content type and If-None-Match: * into create-only PUTs', async () => {
    const urls = await sign([{ op: 'putCommit', vid: VID, lsn: 1, upload: UPLOAD }, { op: 'putSegment', vid: VID, sid: SID, upload: UPLOAD }, { op: 'getCommit', vid: VID, lsn: 1 }]);
    for (const put of urls.slice(0, 2) as PresignedRequest[]) {
      expect(new URL(put.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-md5;content-type;host;if-none-match;x-amz-checksum-sha256');
      expect(put.headers).toEqual({
        'content-length': String(BODY.byteLength),
        'content-md5': createHash('md5').update(BODY).digest('base64'),
        'content-type': 'application/octet-stream',
        'if-none-match': '*',
        'x-amz-checksum-sha256': createHash('sha256').update(BODY).digest('base64'),
      });
      expect(verify(put, BUCKET.secretAccessKey, NOW)).toBe(true);
      // Drop or change any of them (overwrite, another length, another body, HTML) and the signature no longer matches.
      for (const name of Object.keys(put.headers)) {
        const { [name]: _, ...dropped } = put.headers;
        expect(verify({ ...put, headers: dropped }, BUCKET.secretAccessKey, NOW), name).toBe(false);
        expect(verify({ ...put, headers: { ...put.headers, [name]: 'text/html' } }, BUCKET.secretAccessKey, NOW), name).toBe(false);
      }
    }
    expect(new URL(urls[2]?.url ?? '').searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(urls[2]?.headers).toEqual({});
  });

  it('signs the latest hint as an overwrite of one exact body', async () => {
    const [put, get] = await sign([{ op: 'putLatest', vid: VID, upload: UPLOAD }, { op: 'getLatest', vid: VID }], 'writer');
    expect(put?.url.startsWith(`http://127.0.0.1:7480/scion-test/tenant/a/volumes/${VID}/latest?`)).toBe(true);
    expect(new URL(put?.url ?? '').searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-md5;content-type;host;x-amz-checksum-sha256');
    expect(get?.method).toBe('GET');
    expect(await refusal(makeHandler()(post({ ops: [{ op: 'putLatest', vid: VID, upload: UPLOAD }] }, 'reader')))).toMatchObject({ status: 403 });
  });

  it('refuses an upload longer than the service allows, naming the limit', async () => {
    const handler = makeHandler({ maxUploadBytes: 4096 });
    const big = { ...UPLOAD, length: 4097 };
    expect(await sign([{ op: 'putSegment', vid: VID, sid: SID, upload: { ...UPLOAD, length: 4096 } }], 'writer', handler)).toHaveLength(1);
    const { status, body } = await refusal(handler(post({ ops: [{ op: 'putSegment', vid: VID, sid: SID, upload: big }] })));
    expect([status, body.code]).toEqual([400, 'InvalidInput']);
    expect(body.message).toContain('4096');
    expect(await refusal(handler(post({ ops: [{ op: 'putCommit', vid: VID, lsn: 1, upload: { ...UPLOAD, length: 5 * 1024 * 1024 } }] })))).toMatchObject({ status: 400 });
  });

  it('a signature covers its key: the URL cannot be moved to another object', async () => {
    const [u] = await sign([{ op: 'getCommit', vid: VID, lsn: 1 }], 'reader');
    const moved = { ...(u as PresignedRequest), url: (u as PresignedRequest).url.replace(VID, OTHER_VID) };
    expect(verify(moved, BUCKET.secretAccessKey, NOW)).toBe(false);
  });

  it('expires after the configured lifetime (default 300 s), and expiresAt says when', async () => {
    const [u] = await sign([{ op: 'getSegment', sid: SID }], 'reader');
    const q = new URL(u?.url ?? '').searchParams;
    expect(q.get('X-Amz-Expires')).toBe('300');
    expect(q.get('X-Amz-Date')).toBe('20250102T030405Z');
    expect(u?.expiresAt).toBe(Math.floor(NOW / 1000) * 1000 + 300_000);
    expect(verify(u as PresignedRequest, BUCKET.secretAccessKey, (u?.expiresAt ?? 0) - 1)).toBe(true);
    expect(verify(u as PresignedRequest, BUCKET.secretAccessKey, u?.expiresAt ?? 0)).toBe(false);

    const [short] = await sign([{ op: 'getSegment', sid: SID }], 'reader', makeHandler({ expiresInSeconds: 60 }));
    expect(new URL(short?.url ?? '').searchParams.get('X-Amz-Expires')).toBe('60');
    expect(short?.expiresAt).toBe(Math.floor(NOW / 1000) * 1000 + 60_000);
  });

  it('uses the real clock by default', async () => {
    const before = Date.now();
    const [u] = await sign([{ op: 'getSegment', sid: SID }], 'reader', makeHandler({ now: undefined }));
    expect(u?.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 300_000);
    expect(u?.expiresAt).toBeLessThanOrEqual(Date.now() + 300_000);
  });

  it('signs virtual-hosted URLs and session tokens', async () => {
    const bucket = { ...BUCKET, endpoint: 'https://s3.eu-west-1.example.com', region: 'eu-west-1', pathStyle: false, prefix: undefined, sessionToken: 'SESSION' };
    const handler = makeHandler({ bucket });
    const [get, list] = await sign([{ op: 'getCommit', vid: VID, lsn: 1 }, { op: 'listSegments' }], 'admin', handler);
    expect(get?.url.startsWith(`https://scion-test.s3.eu-west-1.example.com/volumes/${VID}/log/0000000000000001?`)).toBe(true);
    expect(new URL(get?.url ?? '').searchParams.get('X-Amz-Security-Token')).toBe('SESSION');
    expect(new URL(list?.url ?? '').pathname).toBe('/');
    for (const u of [get, list]) expect(verify(u as PresignedRequest, BUCKET.secretAccessKey, NOW)).toBe(true);
  });

  it('never puts the secret key in a response', async () => {
    const res = await makeHandler()(post({ ops: [{ op: 'putCommit', vid: VID, lsn: 1, upload: UPLOAD }] }));
    const text = await res.text();
    expect(text).not.toContain(BUCKET.secretAccessKey);
    expect(text).not.toContain(encodeURIComponent(BUCKET.secretAccessKey));
    expect(res.headers.get('Cache-Control')).toBe('no-store');
  });
});

describe('createPresignHandler: refusals', () => {
  const handler = makeHandler();
  const GET_COMMIT = { ops: [{ op: 'getCommit', vid: VID, lsn: 1 }] };

  it('answers 401 without credentials or with an unknown token', async () => {
    for (const token of ['', 'wrong']) {
      const res = await handler(post(GET_COMMIT, token));
      expect(res.headers.get('WWW-Authenticate')).toBe('Bearer');
      const { status, body } = await refusal(res);
      expect(status).toBe(401);
      expect(body).toMatchObject({ name: 'ScionError', code: 'Forbidden', details: { authenticated: false } });
    }
  });

  it('serves only POST on its path', async () => {
    const get = new Request('http://presign.test/presign', { headers: { Authorization: 'Bearer writer' } });
    const res = await handler(get);
    expect(res.headers.get('Allow')).toBe('POST, OPTIONS');
    expect(await refusal(res)).toMatchObject({ status: 405, body: { code: 'InvalidInput' } });
    expect(await refusal(handler(post(GET_COMMIT, 'writer', { path: '/other' })))).toMatchObject({ status: 404, body: { code: 'InvalidInput' } });
    expect(await refusal(handler(post(GET_COMMIT, 'writer', { path: '/presign/' })))).toMatchObject({ status: 404 });
    const custom = makeHandler({ path: '/api/sign' });
    expect((await custom(post(GET_COMMIT, 'writer', { path: '/api/sign' }))).status).toBe(200);
    expect((await custom(post(GET_COMMIT))).status).toBe(404);
  });

  it('refuses bodies that are not a JSON presign request', async () => {
    const bad = [
      post('{"ops": ['),
      post(GET_COMMIT, 'writer', { headers: { 'Content-Type': 'text/plain' } }),
      post({}),
      post({ ops: [] }),
      post({ ops: Array.from({ length: 257 }, () => GET_COMMIT.ops[0]) }),
      post({ ops: [{ op: 'getEverything' }] }),
      post({ ops: [{ op: 'getCommit', vid: VID, lsn: 0 }] }),
      post(' '.repeat(200 * 1024)),
      new Request('http://presign.test/presign', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer writer' } }),
    ];
    for (const req of bad) expect(await refusal(handler(req))).toMatchObject({ status: 400, body: { code: 'InvalidInput' } });
  });

  it('accepts a full batch of 256 ops', async () => {
    const ops = Array.from({ length: 256 }, (_, i) => ({ op: 'getCommit', vid: VID, lsn: i + 1 }));
    expect(await sign(ops)).toHaveLength(256);
  });

  it('refuses ids that could steer a key: slashes, encoded slashes, dot segments', async () => {
    const tricks = [
      { op: 'getCommit', vid: `${VID}/../${OTHER_VID}`, lsn: 1 },
      { op: 'getCommit', vid: `../${VID.slice(3)}`, lsn: 1 },
      { op: 'getCommit', vid: `${VID.slice(0, 23)}%2F`, lsn: 1 },
      { op: 'getCommit', vid: VID.replace(/.$/, '/'), lsn: 1 },
      { op: 'getCommit', vid: VID.toUpperCase(), lsn: 1 },
      { op: 'getCommit', vid: VID, lsn: '../1' },
      { op: 'getSegment', sid: `${SID.slice(0, 24)}..` },
      { op: 'getSegment', sid: `../segments/${SID}` },
      { op: 'getSegment', sid: `${SID.slice(0, 23)}%2F` },
      { op: 'getSegment', sid: VID }, // an id of the wrong kind
      { op: 'listLog', vid: VID, after: `volumes/${OTHER_VID}/log/0000000000000001` },
      { op: 'listLog', vid: VID, after: '../' },
      { op: 'listLog', vid: VID, after: '%2F' },
    ];
    for (const op of tricks) {
      const { status, body } = await refusal(makeHandler()(post({ ops: [op] }, 'admin')));
      expect([status, body.code], JSON.stringify(op)).toEqual([400, 'InvalidInput']);
    }
  });

  it('refuses ops the grant does not cover, and signs none of the batch', async () => {
    const cases: [token: string, op: object][] = [
      ['writer', { op: 'getCommit', vid: OTHER_VID, lsn: 1 }],
      ['writer', { op: 'listLog', vid: OTHER_VID }],
      ['writer', { op: 'putCommit', vid: OTHER_VID, lsn: 1, upload: UPLOAD }],
      ['reader', { op: 'putCommit', vid: VID, lsn: 1, upload: UPLOAD }],
      ['reader', { op: 'putSegment', vid: VID, sid: SID, upload: UPLOAD }],
      // A write grant on one volume creates segments under that volume only.
      ['writer', { op: 'putSegment', vid: OTHER_VID, sid: SID, upload: UPLOAD }],
      ['writer', { op: 'getSegment', vid: OTHER_VID, sid: SID }],
      ['writer', { op: 'putLatest', vid: OTHER_VID, upload: UPLOAD }],
      ['writer', { op: 'getLatest', vid: OTHER_VID }],
      ['writer', { op: 'deleteSegment', sid: SID }],
      ['writer', { op: 'deleteSegment', sid: SID, vid: VID }],
      // Pruning history is remote GC's, never a writer's: a deleted LSN could be taken again.
      ['writer', { op: 'deleteCommit', vid: VID, lsn: 1 }],
      ['writer', { op: 'listSegments' }],
      ['writer', { op: 'listVolumes' }],
    ];
    for (const [token, op] of cases) {
      const res = await handler(post({ ops: [{ op: 'getCommit', vid: VID, lsn: 1 }, op] }, token));
      const { status, body } = await refusal(res);
      expect([status, body.code, body.details?.op], JSON.stringify(op)).toEqual([403, 'Forbidden', 1]);
      expect(body).not.toHaveProperty('urls');
    }
  });

  it('lets any authenticated caller read a format 1 segment by id; format 2 segments need their volume', async () => {
    expect(await sign([{ op: 'getSegment', sid: SID }], 'nobody')).toHaveLength(1);
    expect(await refusal(handler(post({ ops: [{ op: 'getSegment', sid: SID, vid: VID }] }, 'nobody')))).toMatchObject({ status: 403 });
    expect(await sign([{ op: 'getSegment', sid: SID, vid: VID }], 'reader')).toHaveLength(1);
    expect(await sign([{ op: 'putSegment', vid: VID, sid: SID, upload: UPLOAD }], 'writer')).toHaveLength(1);
    expect(await sign([{ op: 'putCommit', vid: VID, lsn: 3, upload: UPLOAD }, { op: 'listLog', vid: VID }], 'writer')).toHaveLength(2);
  });

  it('answers 403 when authorize throws Forbidden, and a generic 500 for anything else', async () => {
    const onError = vi.fn();
    const throwing = (e: unknown) => makeHandler({ onError, authorize: () => Promise.reject(e) });
    const forbidden = await refusal(throwing(Object.assign(new Error('banned'), { name: 'ScionError', code: 'Forbidden' }))(post(GET_COMMIT)));
    expect(forbidden).toMatchObject({ status: 403, body: { code: 'Forbidden', message: 'banned' } });
    expect(onError).not.toHaveBeenCalled();

    const leak = new Error(`db password hunter2, key ${BUCKET.secretAccessKey}`);
    const res = await throwing(leak)(post(GET_COMMIT));
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(JSON.parse(text)).toMatchObject({ name: 'ScionError', code: 'Internal' });
    expect(text).not.toMatch(/hunter2|secret|at .*\.ts/);
    expect(onError).toHaveBeenCalledWith(leak);
  });
});

describe('createPresignHandler: options', () => {
  it('refuses an expiry above an hour, and other bad configuration', () => {
    const bad: Partial<PresignOptions>[] = [
      { expiresInSeconds: 3601 },
      { expiresInSeconds: 0 },
      { expiresInSeconds: 1.5 },
      { bucket: { ...BUCKET, bucket: 'a/b' } },
      { bucket: { ...BUCKET, bucket: '..' } },
      { bucket: { ...BUCKET, prefix: 'a/../b' } },
      { bucket: { ...BUCKET, prefix: 'a/%2F' } },
      { bucket: { ...BUCKET, endpoint: 'http://user:pass@127.0.0.1:7480' } },
      { bucket: { ...BUCKET, endpoint: 'ftp://127.0.0.1' } },
      { bucket: { ...BUCKET, endpoint: 'not a url' } },
      { bucket: { ...BUCKET, secretAccessKey: '' } },
      { path: 'presign' },
      { allowedOrigins: ['https://app.example/'] },
      { readEndpoint: 'ftp://127.0.0.1' },
    ];
    for (const overrides of bad) expect(() => makeHandler(overrides), JSON.stringify(overrides)).toThrow(expect.objectContaining({ code: 'InvalidInput' }));
    expect(() => makeHandler({ expiresInSeconds: 3600 })).not.toThrow();
  });
});

describe('createPresignHandler: readEndpoint', () => {
  const fetched: string[] = [];
  beforeEach(() => {
    fetched.length = 0;
    vi.stubGlobal('fetch', async (url: string) => (fetched.push(url), new Response(null, { status: 404 })));
  });
  afterEach(() => void vi.unstubAllGlobals());
  const readLog = [{ op: 'readLog', vid: VID, from: 1 }];

  it('reads the bucket where the service reaches it, and hands out URLs that name bucket.endpoint', async () => {
    const urls = await sign(readLog, 'reader', makeHandler({ readEndpoint: 'http://10.0.0.7:9000' }));
    expect(fetched.length).toBeGreaterThan(0);
    expect(fetched.every((u) => u.startsWith('http://10.0.0.7:9000/scion-test/tenant/a/'))).toBe(true);
    expect(urls.map((u) => new URL(u.url).origin)).toEqual([BUCKET.endpoint]);
  });

  it('reads at bucket.endpoint without it', async () => {
    await sign(readLog, 'reader');
    expect(fetched.length).toBeGreaterThan(0);
    expect(fetched.every((u) => u.startsWith(`${BUCKET.endpoint}/`))).toBe(true);
  });
});

describe('createPresignHandler: CORS', () => {
  const APP = 'https://app.example';
  const handler = makeHandler({ allowedOrigins: [APP] });
  const preflight = (origin: string): Request =>
    new Request('http://presign.test/presign', {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
    });

  it('answers the preflight of an allowed origin', async () => {
    const res = await handler(preflight(APP));
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(APP);
    expect(res.headers.get('Access-Control-Allow-Methods')).toBe('POST');
    expect(res.headers.get('Access-Control-Allow-Headers')?.toLowerCase()).toBe('authorization, content-type');
    expect(res.headers.get('Access-Control-Allow-Credentials')).toBeNull();
    expect(res.headers.get('Vary')).toBe('Origin');
  });

  it('gives other origins no CORS headers', async () => {
    const res = await handler(preflight('https://evil.example'));
    expect(res.status).toBe(403);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
    const post_ = await handler(post({ ops: [{ op: 'getSegment', sid: SID }] }, 'writer', { headers: { Origin: 'https://evil.example' } }));
    expect(post_.headers.get('Access-Control-Allow-Origin')).toBeNull();
    expect((await makeHandler()(preflight(APP))).headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('lets an allowed page read answers and errors', async () => {
    for (const token of ['writer', 'wrong']) {
      const res = await handler(post({ ops: [{ op: 'getSegment', sid: SID }] }, token, { headers: { Origin: APP } }));
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe(APP);
    }
    const any = makeHandler({ allowedOrigins: '*' });
    expect((await any(preflight('https://elsewhere.example'))).headers.get('Access-Control-Allow-Origin')).toBe('https://elsewhere.example');
  });
});
