// What a writer holding Scion's upload URLs can bend on each local bucket. Every URL comes from the
// real presign handler (exact length, Content-MD5, x-amz-checksum-sha256, content type and
// If-None-Match signed); the attacker adds headers or changes the body. Each check records whether
// the bucket refused it AND whether damage was done; the expected table per bucket is the record
// the README's threat model cites.
import { randomBytes } from 'node:crypto';
import { AwsClient } from 'aws4fetch';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LSN, RemoteKey, UploadBody, type PresignedRequest, type PresignOp } from '../../src/core/index.ts';
import { fakeSegmentId, fakeVolumeId } from '../../src/core/testing.ts';
import { bearerTokens, createPresignHandler, scionBucketPolicy, type BucketConfig } from '../../src/presign/index.ts';
import { objectUrl, RADOSGW_INSTALL, radosgwInstalled, startEmbeddedBucket, startRadosgw, type TestBucketServer } from './index.ts';

type Check = 'copy-source' | 'copy-over-existing' | 'acl-public-read' | 'grant-full-control' | 'content-type-override' | 'oversized-body' | 'other-body-same-length';

/** true: the bucket refused the request and nothing changed; false: it accepted and the damage is real. */
type Record_ = Readonly<Record<Check, boolean>>;

const ALL_REFUSED: Record_ = {
  'copy-source': true,
  'copy-over-existing': true,
  'acl-public-read': true,
  'grant-full-control': true,
  'content-type-override': true,
  'oversized-body': true,
  'other-body-same-length': true,
};

/** radosgw 16 honours unsigned x-amz-* headers on presigned URLs, and a copy ignores the signed If-None-Match. */
const RADOSGW_BARE: Record_ = { ...ALL_REFUSED, 'copy-source': false, 'copy-over-existing': false, 'acl-public-read': false, 'grant-full-control': false };

/** Applies scionBucketPolicy() with the owner's credentials, as an operator would. */
async function withPolicy(b: TestBucketServer, prefix: string): Promise<TestBucketServer> {
  const aws = new AwsClient({ accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey, service: 's3', region: b.region });
  const res = await aws.fetch(`${b.endpoint}/${b.bucket}?policy`, { method: 'PUT', body: scionBucketPolicy(b.bucket, prefix) });
  expect(res.status, await res.text()).toBe(204);
  return b;
}

const rgwSkip = radosgwInstalled() ? '' : ` — SKIPPED: not installed (${RADOSGW_INSTALL})`;
const kinds: { name: string; start: (prefix: string) => Promise<TestBucketServer>; skip: boolean; expected: Record_ }[] = [
  { name: 'embedded', start: () => startEmbeddedBucket(), skip: false, expected: ALL_REFUSED },
  { name: `radosgw${rgwSkip}`, start: () => startRadosgw(), skip: !radosgwInstalled(), expected: RADOSGW_BARE },
  { name: `radosgw with scionBucketPolicy()${rgwSkip}`, start: async (prefix) => withPolicy(await startRadosgw(), prefix), skip: !radosgwInstalled(), expected: ALL_REFUSED },
];

const A = fakeVolumeId(1);
const B = fakeVolumeId(2);

for (const kind of kinds) {
  describe.skipIf(kind.skip)(`hostile uploads: ${kind.name}`, () => {
    let b: TestBucketServer;
    let bucket: BucketConfig;
    let sign: (ops: PresignOp[]) => Promise<PresignedRequest[]>;
    const observed: Partial<Record<Check, boolean>> = {};

    beforeAll(async () => {
      const prefix = `hostile/${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
      b = await kind.start(prefix);
      bucket = { ...b, prefix, pathStyle: true };
      const handler = createPresignHandler({
        bucket,
        authorize: bearerTokens({ a: { volumes: new Set([A]), write: true, admin: false }, b: { volumes: new Set([B]), write: true, admin: false } }),
      });
      const signer = (token: string) => async (ops: PresignOp[]) => {
        const res = await handler(new Request('http://presign.test/presign', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify({ ops }) }));
        expect(res.status, await res.clone().text()).toBe(200);
        return ((await res.json()) as { urls: PresignedRequest[] }).urls;
      };
      sign = signer('a');
      // Volume B's first commit, written by B's own writer.
      const [putB] = await signer('b')([{ op: 'putCommit', vid: B, lsn: LSN.FIRST, upload: UploadBody.of(VICTIM) }]);
      expect((await send(putB!, VICTIM)).status).toBe(200);
    }, 120_000);
    afterAll(async () => {
      // The record, per bucket: what the README's threat model states.
      console.log(`hostile uploads on ${kind.name}: ${JSON.stringify(observed)}`);
      await b?.stop();
    }, 60_000);

    const VICTIM = new TextEncoder().encode('volume B, commit 1: the bytes a writer of A must never copy');
    const fullKey = (key: string) => `${bucket.prefix}/${key}`;
    const anonymous = (key: string) => fetch(objectUrl(b, fullKey(key)));
    async function stored(key: string): Promise<Uint8Array | undefined> {
      const [get] = await (key.startsWith(`volumes/${A}/segments/`) ? sign([{ op: 'getSegment', vid: A, sid: key.split('/').at(-1) as never }]) : sign([{ op: 'getCommit', vid: A, lsn: LSN.FIRST }]));
      const res = await fetch(get!.url);
      return res.status === 200 ? new Uint8Array(await res.arrayBuffer()) : (await res.arrayBuffer(), undefined);
    }
    function send(u: PresignedRequest, body: Uint8Array, extra: Record<string, string> = {}, drop: string[] = []): Promise<Response> {
      const headers = Object.fromEntries(Object.entries({ ...u.headers, ...extra }).filter(([k]) => !drop.includes(k)));
      return fetch(u.url, { method: u.method, headers, body: body as Uint8Array<ArrayBuffer> });
    }
    async function segmentUrl(body: Uint8Array) {
      const sid = fakeSegmentId(Math.floor(Math.random() * 1e9));
      const [u] = await sign([{ op: 'putSegment', vid: A, sid, upload: UploadBody.of(body) }]);
      return { u: u!, key: RemoteKey.segment({ sid, home: A }) };
    }
    const same = (x: Uint8Array | undefined, y: Uint8Array) => x !== undefined && Buffer.from(x).equals(Buffer.from(y));

    it('an aborted upload stores nothing, and the full retry then creates the object', async () => {
      const body = randomBytes(256 * 1024);
      const { u, key } = await segmentUrl(body);
      await new Promise<void>((resolve) => {
        const req = request(u.url, { method: 'PUT', headers: u.headers });
        req.on('error', () => resolve());
        req.write(body.subarray(0, 1000), () => setTimeout(() => (req.destroy(), resolve()), 100));
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(await stored(key)).toBeUndefined();
      expect((await send(u, body)).status).toBe(200);
      expect(same(await stored(key), body)).toBe(true);
    });

    it('x-amz-copy-source on a segment URL: copying another volume\'s commit', async () => {
      const { u, key } = await segmentUrl(VICTIM);
      const res = await send(u, VICTIM, { 'x-amz-copy-source': `/${b.bucket}/${fullKey(RemoteKey.commit(B, LSN.FIRST))}` });
      await res.arrayBuffer();
      // Same length as the victim on purpose: the only thing that differs is whether a copy happened.
      const got = await stored(key);
      observed['copy-source'] = res.status >= 400 && got === undefined;
    });

    it('x-amz-copy-source onto an existing segment (is If-None-Match honoured?)', async () => {
      const mine = new TextEncoder().encode('A segment of A, long enough to be replaced by B commit bytes!');
      const { u, key } = await segmentUrl(mine);
      expect((await send(u, mine)).status).toBe(200);
      const res = await send(u, mine, { 'x-amz-copy-source': `/${b.bucket}/${fullKey(RemoteKey.commit(B, LSN.FIRST))}` });
      await res.arrayBuffer();
      observed['copy-over-existing'] = res.status >= 400 && same(await stored(key), mine);
    });

    /** PUT with a header that widens who may read; refused iff the bucket refused and anonymous reads still fail. */
    async function widensAccess(header: string, value: string): Promise<boolean> {
      const body = randomBytes(100);
      const { u, key } = await segmentUrl(body);
      const res = await send(u, body, { [header]: value });
      await res.arrayBuffer();
      const anon = await anonymous(key);
      await anon.arrayBuffer();
      return res.status >= 400 && anon.status !== 200;
    }

    it('x-amz-acl: public-read (an object anyone can read without a signature)', async () => {
      observed['acl-public-read'] = await widensAccess('x-amz-acl', 'public-read');
    });

    it('x-amz-grant-full-control for everyone', async () => {
      observed['grant-full-control'] = await widensAccess('x-amz-grant-full-control', 'uri="http://acs.amazonaws.com/groups/global/AllUsers"');
    });

    it('Content-Type: text/html instead of the signed type', async () => {
      const body = new TextEncoder().encode('<script>alert(1)</script>');
      const { u, key } = await segmentUrl(body);
      const res = await send(u, body, { 'content-type': 'text/html' });
      await res.arrayBuffer();
      observed['content-type-override'] = res.status >= 400 && (await stored(key)) === undefined;
    });

    it('a body larger than the signed length', async () => {
      const { u, key } = await segmentUrl(randomBytes(4096));
      const res = await send(u, randomBytes(1024 * 1024), {}, ['content-length']);
      await res.arrayBuffer();
      observed['oversized-body'] = res.status >= 400 && (await stored(key)) === undefined;
    });

    it('another body of the signed length', async () => {
      const signedFor = randomBytes(4096);
      const { u, key } = await segmentUrl(signedFor);
      const res = await send(u, randomBytes(4096));
      await res.arrayBuffer();
      observed['other-body-same-length'] = res.status >= 400 && (await stored(key)) === undefined;
    });

    it('matches the record for this bucket', () => {
      expect(observed).toEqual(kind.expected);
    });
  });
}
