// The presign service on Deno, as the README shows: `deno serve --allow-env --allow-net --allow-read presign-deno.ts`.
import { bearerTokens, bucketConfigFromEnv, createPresignHandler, parseGrantsFile } from 'scion-db/presign';

declare const Deno: { env: { toObject(): Record<string, string> } };
const env = Deno.env.toObject();
export default { fetch: createPresignHandler({ bucket: bucketConfigFromEnv(env), authorize: bearerTokens(parseGrantsFile(env.SCION_PRESIGN_TOKENS ?? '')) }) };
