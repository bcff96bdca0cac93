// The presign service as a Cloudflare Worker, as the README shows (bundled by esbuild, run by miniflare here).
import { bearerTokens, bucketConfigFromEnv, parseGrantsFile } from 'scion-db/presign';
import { createWorkerEntry } from 'scion-db/presign/workers';

export default createWorkerEntry((env: Record<string, string>) => ({
  bucket: bucketConfigFromEnv(env),
  authorize: bearerTokens(parseGrantsFile(env.SCION_PRESIGN_TOKENS ?? '')),
}));
