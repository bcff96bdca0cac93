// Playwright globalSetup: one test bucket for the run (SCION_BUCKET=radosgw|embedded|auto), handed to
// the test workers as SCION_S3_* env vars (read them with bucketFromEnv()); the returned function is
// Playwright's teardown and stops it by PID.
//   playwright.config.ts: globalSetup: './tools/bucket/playwright-setup.ts'
// NB: Playwright starts `webServer` BEFORE globalSetup, so the Vite dev server does not see these
// variables. A server that needs the bucket (e.g. a presign endpoint) should run as its own
// `webServer` entry — `tsx tools/bucket/serve.ts --port N` with credentials fixed in the config's env.
import { bucketEnv, startTestBucket } from './index.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const bucket = await startTestBucket();
  Object.assign(process.env, bucketEnv(bucket));
  return () => bucket.stop();
}
