import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UploadBody, type PresignedRequest, type PresignResponse } from '../core/index.ts';
import { fakeSegmentId, fakeVolumeId } from '../core/testing.ts';
import { bearerTokens, createPresignHandler, type BucketConfig, type PresignOptions } from './index.ts';

/*
 * What the README's security model asks beyond handler.test.ts: a caller can never get a URL that
 * lives longer than the service's lifetime, or that points outside the configured bucket and
 * prefix, whatever its request holds.
 */
const BUCKET: BucketConfig = {
  endpoint: 'http://127.0.0.1:7480',
  bucket: 'scion-test',
  region: 'us-east-1',
  accessKeyId: 'AKIDSCIONTEST',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+secret/KEY',
  prefix: 'tenant/a',
};
const NOW = Date.UTC(2025, 0, 2, 3, 4, 5);
const VID = fakeVolumeId(1);
const SID = fakeSegmentId(1);
const ADMIN = { admin: { volumes: '*' as const, write: true, admin: true } };

const handler = (overrides: Partial<PresignOptions> = {}) =>
  createPresignHandler({ bucket: BUCKET, authorize: bearerTokens(ADMIN), now: () => NOW, ...overrides });

async function ask(body: unknown, h = handler()): Promise<{ status: number; urls: PresignedRequest[] }> {
  const res = await h(new Request('http://presign.test/presign', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer admin' }, body: JSON.stringify(body) }));
  const json = (await res.json()) as Partial<PresignResponse>;
  return { status: res.status, urls: (json.urls ?? []) as PresignedRequest[] };
}

/** Where a signed URL points, and whether that is inside the configured bucket and prefix. */
function confined(u: PresignedRequest, bucket = BUCKET): string | undefined {
  const url = new URL(u.url);
  const root = new URL(bucket.endpoint);
  const prefix = `${bucket.prefix ?? ''}/`.replace(/^\/$/, '');
  const virtual = bucket.pathStyle === false;
  if (url.origin !== (virtual ? `${root.protocol}//${bucket.bucket}.${root.host}` : root.origin)) return `origin ${url.origin}`;
  if (url.username || url.password) return 'credentials in the URL';
  const path = decodeURIComponent(url.pathname);
  if (path.split('/').some((s) => s === '..' || s === '.')) return `dot segment in ${path}`;
  const bucketPath = virtual ? '' : `/${bucket.bucket}`;
  if (url.searchParams.get('list-type') === '2') {
    if (url.pathname !== (virtual ? '/' : bucketPath)) return `listing on ${url.pathname}`;
    if (!(url.searchParams.get('prefix') ?? '').startsWith(prefix)) return `listing prefix ${url.searchParams.get('prefix')}`;
    const after = url.searchParams.get('start-after');
    if (after !== null && !after.startsWith(url.searchParams.get('prefix') ?? '\u0000')) return `start-after ${after} outside the listed prefix`;
  } else if (!path.startsWith(`${bucketPath}/${prefix}`)) return `object ${path}`;
  return undefined;
}

describe('presign security: URL lifetime', () => {
  it('refuses a service lifetime longer than an hour, or not a whole number of seconds', () => {
    for (const expiresInSeconds of [3601, 86_400, 604_800, Infinity, Number.NaN, -1]) {
      expect(() => handler({ expiresInSeconds }), String(expiresInSeconds)).toThrow(expect.objectContaining({ code: 'InvalidInput' }));
    }
  });

  it('a caller cannot ask for a longer life: expiry fields in the request are ignored', async () => {
    const { status, urls } = await ask({
      expiresInSeconds: 604_800,
      'X-Amz-Expires': 604_800,
      ops: [{ op: 'getCommit', vid: VID, lsn: 1, expires: 604_800, expiresInSeconds: 604_800, 'X-Amz-Expires': '604800' }],
    });
    expect(status).toBe(200);
    expect(new URL(urls[0]!.url).searchParams.getAll('X-Amz-Expires')).toEqual(['300']);
    expect(urls[0]!.expiresAt).toBe(NOW + 300_000);
  });

  it('a listing cursor cannot smuggle its own X-Amz-Expires, prefix or list-type into the URL', async () => {
    for (const after of ['volumes/?X-Amz-Expires=604800', 'segments/&prefix=', 'volumes/#x', 'volumes/%26X-Amz-Expires%3D604800', 'segments/ x']) {
      expect((await ask({ ops: [{ op: 'listVolumes', after }] })).status, after).toBe(400);
    }
  });

  it('every URL of any accepted request expires at the configured lifetime, never later', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3600 }), fc.array(fc.constantFrom<object>({ op: 'getCommit', vid: VID, lsn: 3 }, { op: 'putSegment', vid: VID, sid: SID, upload: UploadBody.of(new Uint8Array(3)) }, { op: 'listSegments' }, { op: 'deleteSegment', sid: SID }), { minLength: 1, maxLength: 5 }), async (seconds, ops) => {
        const { status, urls } = await ask({ ops }, handler({ expiresInSeconds: seconds }));
        expect(status).toBe(200);
        for (const u of urls) {
          expect(new URL(u.url).searchParams.getAll('X-Amz-Expires')).toEqual([String(seconds)]);
          expect(u.expiresAt).toBe(NOW + seconds * 1000);
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('presign security: keys stay in the bucket', () => {
  // Fragments of path tricks: dot segments, encoded slashes and dots, other buckets, hosts, queries.
  const trick = fc.constantFrom('..', '../', '/', '%2F', '%2f', '%2e%2e', '.%2e', '\\', 'other-bucket', 'scion-test', '@evil.example', '?x-id=DeleteObject', '#', ':', '//', VID, SID, 'volumes/', 'segments/', 'log/', '0000000000000001');
  const tricky = fc.array(trick, { maxLength: 6 }).map((parts) => parts.join(''));
  const anyOp = fc.record({
    op: fc.constantFrom('getCommit', 'putCommit', 'getLatest', 'putLatest', 'getSegment', 'putSegment', 'deleteSegment', 'deleteCommit', 'listLog', 'listSegments', 'listVolumes'),
    upload: fc.constant(UploadBody.of(new Uint8Array(3))),
    vid: fc.oneof(fc.constant(VID), tricky),
    sid: fc.oneof(fc.constant(SID), tricky),
    lsn: fc.oneof(fc.constant(1), fc.constant('1'), tricky),
    after: fc.option(fc.oneof(tricky, tricky.map((t) => `volumes/${VID}/log/${t}`), tricky.map((t) => `segments/${t}`)), { nil: undefined }),
  });

  for (const [name, bucket] of [
    ['path-style', BUCKET],
    ['virtual-hosted, no prefix', { ...BUCKET, pathStyle: false, prefix: undefined, endpoint: 'https://s3.example.com' }],
  ] as const) {
    it(`${name}: whatever the ops hold, a signed URL names only the configured bucket and prefix`, async () => {
      const h = handler({ bucket });
      let signed = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(anyOp, { minLength: 1, maxLength: 3 }), async (ops) => {
          const { status, urls } = await ask({ ops }, h);
          expect([200, 400]).toContain(status);
          for (const u of urls) expect(confined(u, bucket), u.url).toBeUndefined();
          signed += urls.length;
        }),
        { numRuns: 300 },
      );
      expect(signed).toBeGreaterThan(0);
    });
  }

  it('a cursor with dot segments is only a lexical bound inside the listed prefix, never another path', async () => {
    const { status, urls } = await ask({ ops: [{ op: 'listLog', vid: VID, after: `volumes/${VID}/log/../../../../other-bucket/x` }] });
    expect(status).toBe(200);
    const url = new URL(urls[0]!.url);
    expect(url.pathname).toBe('/scion-test');
    expect(url.searchParams.get('prefix')).toBe(`tenant/a/volumes/${VID}/log/`);
    expect(url.searchParams.get('start-after')?.startsWith(`tenant/a/volumes/${VID}/log/`)).toBe(true);
  });
});
