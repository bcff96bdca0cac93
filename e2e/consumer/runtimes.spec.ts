import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test } from '@playwright/test';
import { bucketEnv, type TestBucketInfo } from '../../tools/bucket/index.ts';
import { APP_DIR, BUCKET_FILE, PORTS } from './paths.ts';

// The presign entries for Deno and Cloudflare Workers (app/presign-deno.ts, app/presign-worker.ts), each on
// its runtime as installed from npm, sign a listing of a volume's log; the test bucket answers it with 200.
const TOKEN = 'runtime-token';
const env = (): Record<string, string> => {
  const { SCION_S3_KIND: _kind, ...s3 } = bucketEnv(JSON.parse(readFileSync(BUCKET_FILE, 'utf8')) as TestBucketInfo);
  return { ...s3, SCION_PRESIGN_TOKENS: JSON.stringify({ [TOKEN]: { volumes: '*' } }) };
};
const presignRequest = (vid: string): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
  body: JSON.stringify({ ops: [{ op: 'listLog', vid }] }),
});
// A fresh volume id in its printed form ("v" + base32); any well-formed one will do for a listing.
const vid = async (): Promise<string> => ((await import(pathToFileURL(join(APP_DIR, 'node_modules/scion-db/dist/src/core/index.js')).href)) as { VolumeId: { random(): string } }).VolumeId.random();

async function expectBucketAccepts(res: Response): Promise<void> {
  const body = (await res.json()) as { urls: { method: string; url: string }[] };
  expect(res.status, JSON.stringify(body)).toBe(200);
  const [signed] = body.urls;
  expect(signed?.method).toBe('GET');
  const listing = await fetch(signed?.url ?? '');
  expect(listing.status, await listing.clone().text()).toBe(200);
  expect(await listing.text()).toContain('<ListBucketResult');
}

test('the Deno entry, under deno serve, signs URLs the bucket accepts', async () => {
  const deno = spawn(join(APP_DIR, 'node_modules/.bin/deno'), ['serve', '--port', String(PORTS.deno), '--host', '127.0.0.1', '--allow-env', '--allow-net', '--allow-read', 'presign-deno.ts'], {
    cwd: APP_DIR,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? APP_DIR, DENO_NO_UPDATE_CHECK: '1', ...env() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const onData = (chunk: Buffer) => ((seen += chunk.toString()), /Listening on/.test(seen) && resolve());
      deno.stdout.on('data', onData);
      deno.stderr.on('data', onData);
      deno.once('exit', (code) => reject(new Error(`deno serve exited with ${code}:\n${seen}`)));
    });
    await expectBucketAccepts(await fetch(`http://127.0.0.1:${PORTS.deno}/presign`, presignRequest(await vid())));
  } finally {
    deno.kill('SIGTERM');
  }
});

test('the Workers entry, in miniflare (workerd), signs URLs the bucket accepts', async () => {
  interface Miniflare { dispatchFetch(url: string, init: RequestInit): Promise<Response>; dispose(): Promise<void> }
  const { Miniflare } = (await import(pathToFileURL(join(APP_DIR, 'node_modules/miniflare/dist/src/index.js')).href)) as { Miniflare: new (o: object) => Miniflare };
  // The module is given by contents: workerd refuses a path that climbs out of the current directory.
  const contents = readFileSync(join(APP_DIR, 'dist-worker/presign-worker.js'), 'utf8');
  const mf = new Miniflare({ modules: [{ type: 'ESModule', path: 'presign-worker.js', contents }], compatibilityDate: '2025-01-01', bindings: env() });
  try {
    const res = await mf.dispatchFetch('http://localhost/presign', presignRequest(await vid()));
    // miniflare's Response is undici's; read it into the platform's one.
    await expectBucketAccepts(new Response(await res.text(), { status: res.status, headers: { 'content-type': 'application/json' } }));
  } finally {
    await mf.dispose();
  }
});
