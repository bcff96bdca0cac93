import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** Base port of this run (SCION_E2E_PORT, as the main suite); the consumer app uses the next four. */
const base = Number(process.env.SCION_E2E_PORT ?? 5181);
export const PORTS = { dev: base + 1, build: base + 2, presign: base + 3, deno: base + 4 } as const;
/** Outside the repository, so nothing resolves through the repository's own node_modules. */
export const APP_DIR = join(tmpdir(), `scion-consumer-${base}`);
/** The bucket serve.ts started, for the runtime tests (plain data, from tools/bucket bucketInfo). */
export const BUCKET_FILE = join(APP_DIR, 'bucket.json');
