#!/usr/bin/env node
// `scion-presign`: the presign service as one command (Node ≥ 20). The bucket and its credentials come
// from the environment (SCION_S3_*, see env.ts), who may do what from a tokens file (grants-file.ts).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isScionError } from '../core/index.ts';
import { bucketConfigFromEnv } from './env.ts';
import { parseGrantsFile } from './grants-file.ts';
import { createPresignHandler } from './handler.ts';
import { servePresign } from './node.ts';
import { bearerTokens } from './tokens.ts';

const USAGE = `Usage: scion-presign --tokens tokens.json [--port 8787] [--host 127.0.0.1] [--origin https://app.example]…
                     [--bucket NAME] [--endpoint URL] [--region R] [--prefix P] [--path /presign] [--expires 300]
The bucket comes from SCION_S3_ENDPOINT, SCION_S3_BUCKET, SCION_S3_REGION, SCION_S3_ACCESS_KEY_ID and
SCION_S3_SECRET_ACCESS_KEY (optional: SCION_S3_SESSION_TOKEN, SCION_S3_PREFIX, SCION_S3_PATH_STYLE=false);
--bucket, --endpoint, --region and --prefix override them. Credentials are read from the environment only.
The tokens file maps bearer tokens to grants: { "<token>": { "volumes": "*", "write": true, "admin": false } }.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tokens: { type: 'string', default: process.env.SCION_PRESIGN_TOKENS_FILE },
      port: { type: 'string', default: process.env.PORT ?? '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      origin: { type: 'string', multiple: true },
      bucket: { type: 'string' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      prefix: { type: 'string' },
      path: { type: 'string' },
      expires: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (!values.tokens) throw new UsageError('--tokens FILE is required (or SCION_PRESIGN_TOKENS_FILE).');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0–65535; got ${values.port}.`);
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...(values.bucket ? { SCION_S3_BUCKET: values.bucket } : {}),
    ...(values.endpoint ? { SCION_S3_ENDPOINT: values.endpoint } : {}),
    ...(values.region ? { SCION_S3_REGION: values.region } : {}),
    ...(values.prefix ? { SCION_S3_PREFIX: values.prefix } : {}),
  };
  const origins = values.origin ?? [];
  const handler = createPresignHandler({
    bucket: bucketConfigFromEnv(env),
    authorize: bearerTokens(parseGrantsFile(await readFile(values.tokens, 'utf8'))),
    allowedOrigins: origins.includes('*') ? '*' : origins,
    path: values.path,
    expiresInSeconds: values.expires === undefined ? undefined : Number(values.expires),
  });
  const server = await servePresign(handler, { port, host: values.host });
  process.stdout.write(`Scion presign service listening on ${server.url}${values.path ?? '/presign'}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

class UsageError extends Error {}

main().catch((e: unknown) => {
  // A bad flag, file or variable is the operator's to fix: one line, no stack.
  const known = e instanceof UsageError || isScionError(e) || (e as { code?: string }).code === 'ENOENT' || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(known ? `scion-presign: ${(e as Error).message}\n${e instanceof UsageError ? `${USAGE}\n` : ''}` : `scion-presign: ${String((e as Error)?.stack ?? e)}\n`);
  process.exit(known ? 2 : 1);
});
