// The benchmark stack (bench/bench.config.ts starts it): a test bucket, Vite (bench pages, the dataset), and per
// network — loopback plus each of NETWORK_PROFILES — a presign service. Each profile gets one shared Link and
// three netem proxies on it: bucket, presign service, web server (the dataset for the download and range-VFS
// peers). That profile's presign service signs for its bucket proxy, so every byte of a run on it crosses the
// link. /scion-config.json lists the networks. Everything binds 127.0.0.1.
//   tsx bench/serve.ts --port 5182 [--bucket auto] [--data test-results/bench-data]
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createServer, type Plugin } from 'vite';
import { startTestBucket, type TestBucketInfo } from '../tools/bucket/index.ts';
import { bearerTokens, createPresignHandler } from '../src/presign/index.ts';
import { servePresign } from '../src/presign/node.ts';
import { Link, NETWORK_PROFILES, startNetemProxy, type NetemProxy } from './netem-proxy.ts';

/** What a bench page needs to run a workload over one network. */
export interface BenchNetwork {
  /** `loopback` or a profile's name. */
  name: string;
  rttMs: number;
  presignUrl: string;
  /** Origin serving the bench pages' files (the dataset) over this network. */
  webOrigin: string;
}

export interface BenchConfig {
  token: string;
  bucket: string;
  networks: BenchNetwork[];
}

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '5182' },
    bucket: { type: 'string', default: 'auto' },
    data: { type: 'string', default: 'test-results/bench-data' },
  },
});
const port = Number(values.port);
const TOKEN = 'scion-bench';

await mkdir(values.data, { recursive: true });
// memstore keeps the bucket in RAM and, once full, blocks every write without an error (a bench run
// publishes 250 MB of datasets and pushes up to 40 MB per run): leave room.
const bucket = await startTestBucket(values.bucket, { dir: values.bucket === 'radosgw' ? undefined : join(values.data, 'bucket'), memstoreBytes: 4 * 1024 ** 3 });
/** `readEndpoint`: where the service reads the bucket itself (beside it, not over the client's link). */
const presignFor = (info: TestBucketInfo, readEndpoint?: string) =>
  servePresign(
    createPresignHandler({ bucket: info, readEndpoint, authorize: bearerTokens({ [TOKEN]: { volumes: '*', write: true, admin: true } }), allowedOrigins: '*' }),
    { port: 0 },
  );

const stoppers: (() => Promise<void>)[] = [];
const direct = await presignFor(bucket);
stoppers.push(() => direct.close());
const networks: BenchNetwork[] = [{ name: 'loopback', rttMs: 0, presignUrl: `${direct.url}/presign`, webOrigin: `http://127.0.0.1:${port}` }];

const hostPort = (url: string): { host: string; port: number } => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
};
for (const profile of NETWORK_PROFILES) {
  const link = new Link(profile);
  const proxies: NetemProxy[] = [];
  const bucketProxy = await startNetemProxy(link, hostPort(bucket.endpoint));
  proxies.push(bucketProxy);
  // The URLs it signs go through the shaped link (the client's); its own log reads do not: a presign service
  // runs beside its bucket, so they cost the service's time, not the client's RTTs and bandwidth.
  const presign = await presignFor({ ...bucket, endpoint: bucketProxy.url }, bucket.endpoint);
  const presignProxy = await startNetemProxy(link, hostPort(presign.url));
  const webProxy = await startNetemProxy(link, { host: '127.0.0.1', port });
  proxies.push(presignProxy, webProxy);
  stoppers.push(() => presign.close(), ...proxies.map((p) => () => p.close()));
  networks.push({ name: profile.name, rttMs: profile.rttMs, presignUrl: `${presignProxy.url}/presign`, webOrigin: webProxy.url });
}

const config: BenchConfig = { token: TOKEN, bucket: bucket.kind, networks };
const configEndpoint: Plugin = {
  name: 'scion-bench-config',
  configureServer(server) {
    server.middlewares.use('/scion-config.json', (_req, res) => {
      res.setHeader('content-type', 'application/json');
      // The loopback network's fields at the top level too: what the demo's config has.
      res.end(JSON.stringify({ ...config, presignUrl: networks[0]?.presignUrl }));
    });
  },
};

const vite = await createServer({
  configFile: 'e2e/vite.config.ts',
  plugins: [configEndpoint],
  // The dataset is read cross-origin through the proxies: the range VFS needs Content-Range.
  server: { port, strictPort: true, host: '127.0.0.1', cors: { origin: '*', exposedHeaders: ['Content-Range', 'Content-Length'] } },
  // Like sqlite-wasm, wa-sqlite finds its .wasm next to its module: serve it as published, never pre-bundled.
  optimizeDeps: { exclude: ['wa-sqlite'] },
});
await vite.listen();
process.stdout.write(`bench stack on http://127.0.0.1:${port}/ (${bucket.kind} bucket); networks:\n${networks.map((n) => `  ${n.name}: presign ${n.presignUrl}, web ${n.webOrigin}`).join('\n')}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await vite.close();
  for (const s of stoppers) await s();
  await bucket.stop();
  process.exit(0);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop());
