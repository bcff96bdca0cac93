// `npm start`: everything on loopback with no configuration — a local S3 bucket (with CORS), the
// presign service and the demo page (Vite) — until Ctrl-C. The e2e suite runs the same stack.
//   tsx demo/serve.ts [--port 5173] [--bucket auto|embedded|radosgw] [--data .data] [--no-watch]
// The embedded bucket keeps its objects under --data (git-ignored), so data survives a restart.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createServer, type Plugin } from 'vite';
import { startTestBucket } from '../tools/bucket/index.ts';
import { SharedName } from '../src/core/index.ts';
import { bearerTokens, createPresignHandler, type Grant } from '../src/presign/index.ts';
import { servePresign } from '../src/presign/node.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.SCION_PORT ?? '5173' },
    bucket: { type: 'string', default: process.env.SCION_BUCKET ?? 'embedded' },
    data: { type: 'string', default: '.data' },
    'no-watch': { type: 'boolean', default: false },
  },
});

/** The demo's only token: it may do everything. A real deployment maps users to their volumes. */
const DEV_TOKEN = 'scion-dev';
const devToken = bearerTokens({ [DEV_TOKEN]: { volumes: '*', write: true, admin: true } });
/** Dev-only tokens `scion-dev-name:<shared name>`: a grant for that one shared name and nothing else (the sharing e2e uses them). */
const NAME_TOKEN = /^Bearer scion-dev-name:(\S+)$/;
async function authorize(req: Request): Promise<Grant | undefined> {
  const name = NAME_TOKEN.exec(req.headers.get('Authorization') ?? '')?.[1];
  if (name === undefined) return devToken(req);
  try {
    return { volumes: new Set(), names: new Set([SharedName.parse(name)]), write: true, admin: false };
  } catch {
    return undefined;
  }
}

await mkdir(values.data, { recursive: true });
const bucket = await startTestBucket(values.bucket, {
  dir: values.bucket === 'radosgw' ? undefined : join(values.data, 'bucket'),
  // Fixed credentials, so a restart finds the objects the last run wrote.
  accessKeyId: 'scion-dev-key',
  secretAccessKey: 'scion-dev-secret-key-not-for-production',
});
const presign = await servePresign(
  createPresignHandler({
    bucket,
    authorize,
    allowedOrigins: '*',
  }),
  { port: 0 },
);

/** The page learns where the presign service is from /scion-config.json. */
const configEndpoint: Plugin = {
  name: 'scion-dev-config',
  configureServer(server) {
    server.middlewares.use('/scion-config.json', (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ presignUrl: `${presign.url}/presign`, token: DEV_TOKEN, bucket: bucket.kind }));
    });
  },
};

const vite = await createServer({
  configFile: values['no-watch'] ? 'e2e/vite.config.ts' : 'vite.config.ts',
  plugins: [configEndpoint],
  server: { port: Number(values.port), strictPort: true, host: '127.0.0.1' },
});
await vite.listen();
process.stdout.write(`\n  Scion demo:      http://127.0.0.1:${values.port}/\n  presign service: ${presign.url}/presign\n  ${bucket.kind} bucket:  ${bucket.endpoint}/${bucket.bucket}\n\n  Ctrl-C stops all of it.\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await vite.close();
  await presign.close();
  await bucket.stop();
  process.exit(0);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop());
