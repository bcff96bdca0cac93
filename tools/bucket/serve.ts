// Runs a test bucket until Ctrl-C / SIGTERM, for `npm start` on a laptop or as a Playwright `webServer`:
//   tsx tools/bucket/serve.ts [--kind auto|embedded|radosgw] [--port 4568] [--dir .data/bucket]
// Credentials come from SCION_S3_ACCESS_KEY_ID / SCION_S3_SECRET_ACCESS_KEY when set (so another
// process can be given the same ones), random otherwise. Prints the SCION_S3_* lines to use.
// --dir keeps the embedded bucket's objects across restarts (radosgw keeps objects in RAM only).
import { parseArgs } from 'node:util';
import { bucketEnv, startTestBucket } from './index.ts';

const { values } = parseArgs({
  options: {
    kind: { type: 'string', default: process.env.SCION_BUCKET ?? 'auto' },
    port: { type: 'string' },
    dir: { type: 'string' },
  },
});

const bucket = await startTestBucket(values.kind, {
  port: values.port === undefined ? undefined : Number(values.port),
  dir: values.dir,
  accessKeyId: process.env.SCION_S3_ACCESS_KEY_ID || undefined,
  secretAccessKey: process.env.SCION_S3_SECRET_ACCESS_KEY || undefined,
});
for (const [k, v] of Object.entries(bucketEnv(bucket))) process.stdout.write(`${k}=${v}\n`);
process.stdout.write(`# ${bucket.kind} bucket ready; Ctrl-C stops it\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  bucket.stop().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${String(e)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.on('SIGHUP', stop);
