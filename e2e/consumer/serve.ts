// `npm run test:package`, step 2's web server: the consumer app (prepare.ts) under `vite` (dev) and
// `vite preview` (build), a local bucket, and the presign service started by the package's own bin,
// `scion-presign`, as the README shows. The app reaches the service at its relative URL /presign
// through Vite's proxy. Stops everything on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bucketEnv, bucketInfo, startTestBucket } from '../../tools/bucket/index.ts';
import { APP_DIR, BUCKET_FILE, PORTS } from './paths.ts';

const bucket = await startTestBucket(process.env.SCION_BUCKET ?? 'embedded');
const children: ChildProcess[] = [];

/** Starts `bin` in the app and resolves once a line of its output matches `ready`. */
function start(bin: string, args: string[], env: Record<string, string>, ready: RegExp): Promise<void> {
  const child = spawn(join(APP_DIR, 'node_modules/.bin', bin), args, { cwd: APP_DIR, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      process.stderr.write(chunk);
      if (ready.test(seen.replace(/\x1b\[[0-9;]*m/g, ''))) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${bin} ${args.join(' ')} exited with ${code} before it was ready:\n${seen}`)));
  });
}

async function stop(): Promise<void> {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await bucket.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());

try {
  await writeFile(BUCKET_FILE, JSON.stringify(bucketInfo(bucket)));
  const tokens = join(APP_DIR, 'tokens.json');
  await writeFile(tokens, JSON.stringify({ 'consumer-token': { volumes: '*', write: true, admin: false } }));
  const { SCION_S3_KIND: _kind, ...s3 } = bucketEnv(bucket);
  await start('scion-presign', ['--tokens', tokens, '--port', String(PORTS.presign)], s3, /listening on http:\/\/127\.0\.0\.1:\d+\/presign/);
  const proxy = { PRESIGN_ORIGIN: `http://127.0.0.1:${PORTS.presign}` };
  await start('vite', ['--port', String(PORTS.dev), '--strictPort'], proxy, /Local:\s+http/);
  await start('vite', ['preview', '--port', String(PORTS.build), '--strictPort'], proxy, /Local:\s+http/);
} catch (e) {
  process.stderr.write(`${String(e)}\n`);
  await stop();
}
