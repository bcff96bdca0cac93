import { describe, expect, inject, it } from 'vitest';
import { UploadBody, type PresignedRequest, type PresignResponse } from '../core/index.ts';
import { fakeSegmentId, fakeVolumeId } from '../core/testing.ts';
import { bearerTokens, createPresignHandler, type BucketConfig, type PresignOptions } from './index.ts';

// The real S3 server of the test run (see tools/bucket/vitest-setup.ts): it verifies signatures and
// expiry and enforces If-None-Match.
const VID = fakeVolumeId(1);
const OTHER_VID = fakeVolumeId(2);

describe('presigned URLs against a real bucket', () => {
  // A fresh prefix per run, so reruns against a shared bucket never see old objects.
  const bucket: BucketConfig = { ...inject('testBucket'), prefix: `presign-test/${Date.now().toString(36)}` };

  const handler = (overrides: Partial<PresignOptions> = {}): ((req: Request) => Promise<Response>) =>
    createPresignHandler({ bucket, authorize: bearerTokens({ w: { volumes: new Set([VID]), write: true, admin: false } }), ...overrides });

  async function sign(ops: unknown[], h = handler()): Promise<PresignedRequest[]> {
    const res = await h(new Request('http://presign.test/presign', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer w' }, body: JSON.stringify({ ops }) }));
    expect(res.status, await res.clone().text()).toBe(200);
    return ((await res.json()) as PresignResponse).urls as PresignedRequest[];
  }

  const send = (u: PresignedRequest, body?: Uint8Array<ArrayBuffer>, headers = u.headers): Promise<Response> =>
    fetch(u.url, { method: u.method, headers, ...(body ? { body } : {}) });

  it('a presigned commit PUT creates once (200, then 412) and reads back with a presigned GET', async () => {
    const bytes = new TextEncoder().encode('commit 1');
    const [put, get, list] = await sign([{ op: 'putCommit', vid: VID, lsn: 1, upload: UploadBody.of(bytes) }, { op: 'getCommit', vid: VID, lsn: 1 }, { op: 'listLog', vid: VID }]);
    expect((await send(put as PresignedRequest, bytes)).status).toBe(200);
    expect((await send(put as PresignedRequest, bytes)).status).toBe(412);
    const got = await send(get as PresignedRequest);
    expect(got.status).toBe(200);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);
    const listed = await send(list as PresignedRequest);
    expect(listed.status).toBe(200);
    expect(await listed.text()).toContain(`${bucket.prefix}/volumes/${VID}/log/0000000000000001`);
  });

  it('the bucket refuses a PUT that drops the signed If-None-Match, a moved URL and an expired one', async () => {
    const body = new Uint8Array([1]);
    const [put] = await sign([{ op: 'putSegment', vid: VID, sid: fakeSegmentId(1), upload: UploadBody.of(body) }]);
    const { 'if-none-match': _, ...overwriting } = (put as PresignedRequest).headers;
    expect((await send(put as PresignedRequest, body, overwriting)).status).toBe(403);
    const [get] = await sign([{ op: 'getCommit', vid: VID, lsn: 1 }]);
    const moved = { ...(get as PresignedRequest), url: (get as PresignedRequest).url.replace(VID, OTHER_VID) };
    expect((await send(moved)).status).toBe(403);
    const [old] = await sign([{ op: 'getCommit', vid: VID, lsn: 1 }], handler({ expiresInSeconds: 60, now: () => Date.now() - 120_000 }));
    expect((await send(old as PresignedRequest)).status).toBe(403);
  });

  it('never issues a URL for a volume outside the grant', async () => {
    const res = await handler()(new Request('http://presign.test/presign', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer w' },
      body: JSON.stringify({ ops: [{ op: 'putCommit', vid: OTHER_VID, lsn: 1, upload: UploadBody.of(new Uint8Array(1)) }] }),
    }));
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain('X-Amz-Signature');
  });
});
