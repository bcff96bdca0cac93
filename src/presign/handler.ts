import { invalidInput, isScionError, parsePresignRequest, ScionError, type ErrorCode, type PresignOp, type PresignResponse } from '../core/index.ts';
import { readLog } from './log-reader.ts';
import { BucketSigner, EXPIRES_DEFAULT_SECONDS, type BucketConfig } from './bucket-signer.ts';
import { BucketNameDirectory } from './bucket-names.ts';
import { checkGrant, type Grant } from './grant.ts';

export interface PresignOptions {
  bucket: BucketConfig;
  /**
   * Where the service itself reads the bucket (the log for `readLog`, name and fork records), if not at
   * `bucket.endpoint`: e.g. a private endpoint beside it. The URLs it hands out still name `bucket.endpoint`.
   */
  readEndpoint?: string | undefined;
  /**
   * Who is calling and what they may do; undefined answers 401. Must not consume the body (use
   * `req.clone()`). May throw a ScionError 'Forbidden' (403); anything else thrown answers 500.
   */
  authorize(req: Request): Promise<Grant | undefined>;
  /** Lifetime of each URL, 1–3600 s. Default 300. */
  expiresInSeconds?: number | undefined;
  /** Largest segment one URL may upload (its exact length is signed). Default 256 MiB. */
  maxUploadBytes?: number | undefined;
  /** The one path served. Default `/presign`. */
  path?: string | undefined;
  /** Origins (`https://app.example`) whose pages may call the service; `'*'` for any. Default none. */
  allowedOrigins?: '*' | readonly string[] | undefined;
  /** Clock in ms since the epoch, for tests and simulations. Default `Date.now`. */
  now?: (() => number) | undefined;
  /** Sees every unexpected error (the client gets a generic 500). Default `console.error`. */
  onError?: ((error: unknown) => void) | undefined;
}

/** A JSON body bigger than this is refused: 256 ops fit in well under half of it. */
const MAX_BODY_BYTES = 128 * 1024;
const STATUS: Partial<Record<ErrorCode, number>> = { InvalidInput: 400, Forbidden: 403, RemoteUnavailable: 503 };

/**
 * A web-standard handler (Node via ./node.ts, Deno, Workers) that answers `POST {path}` with
 * `{ ops: PresignOp[] }` by `{ urls: PresignedRequest[] }` in op order, each URL scoped to one key
 * (or one listing) the caller's Grant covers. Errors are ErrorWire bodies: 400 InvalidInput, 401
 * (code Forbidden, details.authenticated false), 403 Forbidden, 404/405 routing, 503 RemoteUnavailable (an
 * identity provider that does not answer), 500 Internal.
 * Throws InvalidInput at creation for a bad bucket config, expiry, path or origin.
 * @example
 * const handler = createPresignHandler({ bucket, authorize: bearerTokens({ [token]: { volumes: '*', write: true, admin: false } }) });
 */
export function createPresignHandler(options: PresignOptions): (req: Request) => Promise<Response> {
  const signer = new BucketSigner(options.bucket, options.expiresInSeconds ?? EXPIRES_DEFAULT_SECONDS, options.maxUploadBytes);
  const path = options.path ?? '/presign';
  if (!path.startsWith('/')) throw invalidInput(`The presign path must start with "/"; got ${JSON.stringify(path)}.`);
  const origins = options.allowedOrigins;
  if (Array.isArray(origins)) {
    for (const o of origins) if (!isOrigin(o)) throw invalidInput(`Not an origin: ${JSON.stringify(o)}.`);
  }
  const now = options.now ?? Date.now;
  const reader = options.readEndpoint === undefined ? signer : new BucketSigner({ ...options.bucket, endpoint: options.readEndpoint }, EXPIRES_DEFAULT_SECONDS);
  const names = new BucketNameDirectory(reader, now);
  const onError = options.onError ?? ((e: unknown) => console.error('Scion presign: unexpected error', e));

  return async (req) => {
    const cors = corsHeaders(origins, req.headers.get('Origin'));
    try {
      if (new URL(req.url).pathname !== path) return refuse(404, 'InvalidInput', `Nothing is served here; POST to ${path}.`, cors);
      if (req.method === 'OPTIONS') return preflight(cors);
      if (req.method !== 'POST') return refuse(405, 'InvalidInput', `Method ${req.method} is not allowed; use POST.`, { ...cors, Allow: 'POST, OPTIONS' });
      if (!/^application\/json\s*(;|$)/i.test(req.headers.get('Content-Type') ?? '')) throw invalidInput('The body must be JSON (Content-Type: application/json).');
      const grant = await options.authorize(req);
      if (grant === undefined) {
        return refuse(401, 'Forbidden', 'Authentication is required to sign URLs.', { ...cors, 'WWW-Authenticate': 'Bearer' }, { authenticated: false });
      }
      const { ops } = parsePresignRequest(await readJson(req));
      await checkGrant(grant, ops, names);
      const signedAt = now();
      const urls = await Promise.all(ops.map((op) => signer.sign(op, signedAt)));
      const source = {
        read: (op: PresignOp) => names.read(op),
        readRange: (op: PresignOp, range: { start: number; end: number }) => names.readRange(op, range),
        sign: (op: PresignOp) => signer.sign(op, signedAt),
        allows: (op: PresignOp) => checkGrant(grant, [op], names).then(() => true, (e: unknown) => (isScionError(e, 'Forbidden') ? false : Promise.reject(e))),
      };
      const logReads = await Promise.all(ops.flatMap((op) => (op.op === 'readLog' ? [readLog(source, op.vid, op.from)] : [])));
      const ranges = logReads.flatMap((r) => r.ranges ?? []);
      const reads = { objects: logReads.flatMap((r) => r.objects), signed: logReads.flatMap((r) => r.signed), ...(ranges.length > 0 ? { ranges } : {}) };
      const body: PresignResponse = logReads.length === 0 ? { urls } : { urls, reads };
      return json(200, body, cors);
    } catch (e) {
      const err = ScionError.from(e);
      const status = STATUS[err.code];
      if (status !== undefined) return json(status, err.toWire(), cors);
      onError(e);
      // Never the original message: it may quote config, credentials or internals.
      return refuse(500, 'Internal', 'The presign service failed; its operator can find the cause in its logs.', cors);
    }
  };
}

function isOrigin(text: string): boolean {
  try {
    return new URL(text).origin === text;
  } catch {
    return false;
  }
}

function json(status: number, body: unknown, headers: Record<string, string>): Response {
  // URLs are bearer capabilities: keep them out of shared caches.
  return new Response(JSON.stringify(body), { status, headers: { ...headers, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' } });
}

function refuse(status: number, code: ErrorCode, message: string, headers: Record<string, string>, details?: Record<string, boolean>): Response {
  return json(status, new ScionError(code, message, details).toWire(), headers);
}

function corsHeaders(allowed: PresignOptions['allowedOrigins'], origin: string | null): Record<string, string> {
  if (allowed === undefined) return {};
  if (origin === null || (allowed !== '*' && !allowed.includes(origin))) return { Vary: 'Origin' };
  return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
}

function preflight(cors: Record<string, string>): Response {
  if (!cors['Access-Control-Allow-Origin']) return refuse(403, 'Forbidden', 'This origin may not call the presign service.', cors);
  return new Response(null, {
    status: 204,
    headers: { ...cors, 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'Authorization, Content-Type', 'Access-Control-Max-Age': '600' },
  });
}

/** Reads at most MAX_BODY_BYTES of UTF-8 JSON; throws InvalidInput otherwise. */
async function readJson(req: Request): Promise<unknown> {
  if (Number(req.headers.get('Content-Length') ?? 0) > MAX_BODY_BYTES || !req.body) throw invalidInput(`The body must be 1–${MAX_BODY_BYTES} bytes of JSON.`);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    total += r.value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel();
      throw invalidInput(`The body must be 1–${MAX_BODY_BYTES} bytes of JSON.`);
    }
    chunks.push(r.value);
  }
  const bytes = new Uint8Array(total);
  chunks.reduce((at, c) => (bytes.set(c, at), at + c.byteLength), 0);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw invalidInput('The body is not valid UTF-8 JSON.');
  }
}
