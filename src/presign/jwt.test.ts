import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UploadBody, type PresignResponse } from '../core/index.ts';
import { fakeVolumeId } from '../core/testing.ts';
import { createPresignHandler, jwtGrants, type BucketConfig, type JwtGrantsOptions } from './index.ts';

const BUCKET: BucketConfig = { endpoint: 'http://127.0.0.1:7480', bucket: 'scion-test', region: 'us-east-1', accessKeyId: 'AKID', secretAccessKey: 'SECRET' };
const SECRET = 'a shared HS256 secret of at least thirty-two bytes';
const A = fakeVolumeId(1);
const B = fakeVolumeId(2);
const ISSUER = 'https://id.example';
const AUDIENCE = 'scion';

const hs256 = (claims: Record<string, unknown>, { secret = SECRET, exp = '5m', iss = ISSUER, aud = AUDIENCE } = {}) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(exp).setIssuer(iss).setAudience(aud).sign(new TextEncoder().encode(secret));

/** What the service answers a token asking for `ops`. */
async function ask(options: JwtGrantsOptions, token: string | undefined, ops: object[]): Promise<number> {
  const handler = createPresignHandler({ bucket: BUCKET, authorize: jwtGrants({ issuer: ISSUER, audience: AUDIENCE, ...options }) });
  const res = await handler(new Request('http://presign.test/presign', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ ops }),
  }));
  if (res.status === 200) expect(((await res.json()) as PresignResponse).urls).toHaveLength(ops.length);
  return res.status;
}

const read = (vid: string) => ({ op: 'getCommit', vid, lsn: 1 });
const write = (vid: string) => ({ op: 'putLatest', vid, upload: UploadBody.of(new Uint8Array()) });

describe('jwtGrants (HS256)', () => {
  const key = { secret: SECRET };

  it('grants exactly the volumes in "vol", writes only with scope scion:write', async () => {
    const reader = await hs256({ vol: [A] });
    expect(await ask({ key }, reader, [read(A)])).toBe(200);
    expect(await ask({ key }, reader, [read(B)])).toBe(403);
    expect(await ask({ key }, reader, [write(A)])).toBe(403);
    const writer = await hs256({ vol: [A], scope: 'openid scion:write' });
    expect(await ask({ key }, writer, [write(A), read(A)])).toBe(200);
    expect(await ask({ key }, writer, [write(B)])).toBe(403);
    expect(await ask({ key }, writer, [{ op: 'listSegments' }])).toBe(403);
    expect(await ask({ key }, await hs256({ vol: '*', scope: 'scion:admin' }), [{ op: 'listSegments' }, read(B)])).toBe(200);
  });

  it('answers 401 to no token, a forged, expired or foreign one', async () => {
    expect(await ask({ key }, undefined, [read(A)])).toBe(401);
    expect(await ask({ key }, await hs256({ vol: [A] }, { secret: 'another secret, just as long as the first one' }), [read(A)])).toBe(401);
    expect(await ask({ key }, await hs256({ vol: [A] }, { exp: '-1m' }), [read(A)])).toBe(401);
    expect(await ask({ key }, await hs256({ vol: [A] }, { iss: 'https://evil.example' }), [read(A)])).toBe(401);
    expect(await ask({ key }, await hs256({ vol: [A] }, { aud: 'another-app' }), [read(A)])).toBe(401);
    const unsigned = `${btoa(JSON.stringify({ alg: 'none' }))}.${btoa(JSON.stringify({ vol: '*', scope: 'scion:admin' }))}.`.replace(/=/g, '');
    expect(await ask({ key }, unsigned, [read(A)])).toBe(401);
  });

  it('a verified token whose claims are not a grant is 403, naming the claim', async () => {
    for (const vol of [undefined, 'A', [A, 7], ['../x']]) expect(await ask({ key }, await hs256({ vol }), [read(A)]), JSON.stringify(vol)).toBe(403);
  });

  it('"names" grants those shared names and no volume id', async () => {
    const team = await hs256({ names: ['team'], scope: 'scion:write' });
    expect(await ask({ key }, team, [{ op: 'getName', name: 'team' }])).toBe(200);
    expect(await ask({ key }, team, [{ op: 'getName', name: 'other' }])).toBe(403);
    for (const names of ['team', ['..'], [7]]) expect(await ask({ key }, await hs256({ names }), [{ op: 'getName', name: 'team' }]), JSON.stringify(names)).toBe(403);
  });

  it('refuses a short secret at creation', () => {
    expect(() => jwtGrants({ key: { secret: 'short' } })).toThrow(expect.objectContaining({ code: 'InvalidInput' }));
  });
});

describe('jwtGrants (JWKS)', () => {
  let server: Server;
  let jwksUrl: string;
  let sign: (claims: Record<string, unknown>) => Promise<string>;
  let publicJwk: JWK;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    publicJwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuedAt().setExpirationTime('5m').setIssuer(ISSUER).setAudience(AUDIENCE).sign(privateKey);
    server = createServer((_, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [publicJwk] })));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    jwksUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('verifies against a JWKS endpoint and a local key set', async () => {
    const token = await sign({ vol: [A], scope: 'scion:write' });
    for (const key of [{ jwksUrl }, { jwks: { keys: [publicJwk] } }]) {
      expect(await ask({ key }, token, [write(A)])).toBe(200);
      expect(await ask({ key }, token, [read(B)])).toBe(403);
    }
  });

  it('a key set needs issuer and audience (its keys sign tokens for other services too)', () => {
    for (const key of [{ jwksUrl }, { jwks: { keys: [publicJwk] } }]) {
      expect(() => jwtGrants({ key, issuer: ISSUER })).toThrow(expect.objectContaining({ code: 'InvalidInput' }));
      expect(() => jwtGrants({ key, audience: AUDIENCE })).toThrow(expect.objectContaining({ code: 'InvalidInput' }));
    }
  });

  it('an identity provider that does not answer is 503 (retry), not 401 (a bad token)', async () => {
    const token = await sign({ vol: [A] });
    const down = createServer((_, res) => res.writeHead(502).end());
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    const downUrl = `http://127.0.0.1:${(down.address() as { port: number }).port}/jwks.json`;
    await new Promise<void>((r) => down.close(() => r()));
    expect(await ask({ key: { jwksUrl: downUrl } }, token, [read(A)])).toBe(503); // nothing listens there now
    const failing = createServer((_, res) => res.writeHead(502).end());
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    try {
      expect(await ask({ key: { jwksUrl: `http://127.0.0.1:${(failing.address() as { port: number }).port}/jwks.json` } }, token, [read(A)])).toBe(503);
    } finally {
      await new Promise<void>((r) => failing.close(() => r()));
    }
  });

  it('refuses an HS256 token signed with the public key (algorithm confusion) and a key not in the set', async () => {
    const confused = await new SignJWT({ vol: '*' }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setExpirationTime('5m').setIssuer(ISSUER).setAudience(AUDIENCE).sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    expect(await ask({ key: { jwksUrl } }, confused, [read(A)])).toBe(401);
    const { privateKey: other } = await generateKeyPair('ES256');
    const stranger = await new SignJWT({ vol: [A] }).setProtectedHeader({ alg: 'ES256', kid: 'k2' }).setExpirationTime('5m').setIssuer(ISSUER).setAudience(AUDIENCE).sign(other);
    expect(await ask({ key: { jwks: { keys: [publicJwk] } } }, stranger, [read(A)])).toBe(401);
  });
});
