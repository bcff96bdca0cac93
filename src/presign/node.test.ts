import { describe, expect, it } from 'vitest';
import type { PresignResponse } from '../core/index.ts';
import { fakeSegmentId } from '../core/testing.ts';
import { bearerTokens, createPresignHandler } from './index.ts';
import { servePresign } from './node.ts';

const handler = createPresignHandler({
  bucket: { endpoint: 'http://127.0.0.1:7480', bucket: 'scion-test', region: 'us-east-1', accessKeyId: 'AKID', secretAccessKey: 'SECRET' },
  authorize: bearerTokens({ t: { volumes: '*', write: false, admin: false } }),
  allowedOrigins: ['https://app.example'],
});

describe('servePresign (node:http)', () => {
  it('serves the handler on loopback, bodies and headers included', async () => {
    const server = await servePresign(handler, { port: 0 });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const ops = [{ op: 'getSegment', sid: fakeSegmentId(1) }];
      const res = await fetch(`${server.url}/presign`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer t', Origin: 'https://app.example' },
        body: JSON.stringify({ ops }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe('https://app.example');
      expect(((await res.json()) as PresignResponse).urls).toHaveLength(1);
      expect((await fetch(`${server.url}/presign`)).status).toBe(405);
      const tooBig = await fetch(`${server.url}/presign`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer t' }, body: 'x'.repeat(1 << 20) });
      expect(tooBig.status).toBe(400);
    } finally {
      await server.close();
    }
  });
});
