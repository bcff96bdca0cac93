// An S3 bucket in this Node process, needing no system install: @20minutes/s3rver 4.0.4 (storage, S3
// API, SigV4 + expiry, Range, CORS, ListObjectsV2) behind a small http front that adds what it lacks:
//   - every request but a CORS preflight must carry a valid SigV4 signature (s3rver lets anonymous
//     requests through); the front verifies it first, so a bad URL gets 403 before any 412;
//   - PUT If-None-Match: * → 412 if the key exists; PUT If-Match (quoted or not) → 412/404;
//   - requests on one key run one at a time, so two racing creates cannot both win and a GET never
//     sees a half-written object (s3rver writes in place);
//   - ListObjectsV2 is answered here (s3rver's continuation tokens use DES, which Node 20's OpenSSL 3
//     refuses: any truncated listing was a 500; its walk order is also not key order);
//   - suffix ranges (`bytes=-N`) are made absolute (s3rver reads them as `bytes=0-N`);
//   - Access-Control-Max-Age on preflights (s3rver puts it only on actual responses);
//   - a PUT is atomic: the body is read whole first, and an aborted or short upload stores nothing
//     (s3rver writes in place and keeps the partial body);
//   - what AWS enforces on signed requests: every x-amz-* header must be signed, copy requests are
//     refused on presigned URLs, Content-MD5 and x-amz-checksum-sha256 are checked against the body.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, type ServerResponse } from 'node:http';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from '@20minutes/s3rver';
import accounts from '@20minutes/s3rver/lib/models/account.js';
import { verifySigV4 } from './sigv4.ts';
import { CORS_RULE, corsXml, DEFAULT_BUCKET, DEFAULT_REGION, type TestBucketServer } from './types.ts';

export interface EmbeddedOptions {
  /** Object storage folder; kept (and reused) when given, a temp folder removed by stop() otherwise. */
  dir?: string | undefined;
  /** Port on 127.0.0.1; a free one when omitted. */
  port?: number | undefined;
  bucket?: string | undefined;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
}

/** Per-key FIFO mutex. */
class KeyLocks {
  readonly #tails = new Map<string, Promise<void>>();

  async acquire(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }
}

const xmlEscape = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** An XML response written by the front, with the CORS headers the bucket rule gives (AllowedOrigin *). */
function sendXml(req: IncomingMessage, res: ServerResponse, status: number, body: string): void {
  req.resume(); // drain an unread body so the connection stays usable
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/xml');
  res.setHeader('x-amz-request-id', randomBytes(8).toString('hex').toUpperCase());
  if (req.headers.origin) {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', CORS_RULE.exposeHeaders.join(', '));
    res.setHeader('Vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
  }
  if (req.method === 'HEAD') {
    res.end();
  } else {
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  }
}

/** An S3-style XML error. */
function sendError(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  const fields = Object.entries(extra)
    .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
    .join('');
  sendXml(req, res, status, `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${fields}</Error>`);
}

const tokenOf = (key: string): string => Buffer.from(key, 'utf8').toString('base64url');
const keyOfToken = (token: string): string | undefined => {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  return Buffer.from(token, 'base64url').toString('utf8');
};

/** ListObjectsV2 over s3rver's store: prefix, delimiter, start-after, continuation-token, max-keys, encoding-type=url. */
async function listObjectsV2(store: S3rver['store'], bucket: string, q: URLSearchParams): Promise<{ status: number; xml: string }> {
  const error = (status: number, code: string, message: string): { status: number; xml: string } => ({
    status,
    xml: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><BucketName>${xmlEscape(bucket)}</BucketName></Error>`,
  });
  if (!(await store.getBucket(bucket))) return error(404, 'NoSuchBucket', 'The specified bucket does not exist');
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const maxKeysRaw = q.get('max-keys') ?? '1000';
  if (!/^\d+$/.test(maxKeysRaw)) return error(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range');
  const maxKeys = Math.min(1000, Number(maxKeysRaw));
  const token = q.get('continuation-token');
  let after = q.get('start-after') ?? '';
  if (token !== null) {
    const decoded = keyOfToken(token);
    if (decoded === undefined) return error(400, 'InvalidArgument', 'The continuation token provided is incorrect');
    after = decoded;
  }
  const urlEncode = q.get('encoding-type') === 'url';
  const enc = (s: string): string => xmlEscape(urlEncode ? encodeURIComponent(s).replace(/%2F/g, '/') : s);

  const { objects } = await store.listObjects(bucket, { prefix });
  objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const entries: ({ key: string; size: number; lastModifiedDate: Date; metadata: { etag: string } } | { commonPrefix: string })[] = [];
  let truncated = false;
  let last = '';
  for (const o of objects) {
    if (o.key <= after || !o.key.startsWith(prefix)) continue;
    const cut = delimiter ? o.key.indexOf(delimiter, prefix.length) : -1;
    const name = cut >= 0 ? o.key.slice(0, cut + delimiter.length) : o.key;
    if (cut >= 0 && (name <= after || name === last)) continue;
    if (entries.length >= maxKeys) {
      truncated = true;
      break;
    }
    entries.push(cut >= 0 ? { commonPrefix: name } : o);
    last = name;
  }
  const contents = entries
    .map((e) =>
      'commonPrefix' in e
        ? `<CommonPrefixes><Prefix>${enc(e.commonPrefix)}</Prefix></CommonPrefixes>`
        : `<Contents><Key>${enc(e.key)}</Key><LastModified>${e.lastModifiedDate.toISOString()}</LastModified>` +
          `<ETag>${xmlEscape(e.metadata.etag)}</ETag><Size>${e.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    )
    .join('');
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Name>${xmlEscape(bucket)}</Name><Prefix>${enc(prefix)}</Prefix>` +
    (token !== null ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : '') +
    (q.has('start-after') ? `<StartAfter>${enc(q.get('start-after') ?? '')}</StartAfter>` : '') +
    `<KeyCount>${entries.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
    (delimiter ? `<Delimiter>${enc(delimiter)}</Delimiter>` : '') +
    (urlEncode ? '<EncodingType>url</EncodingType>' : '') +
    `<IsTruncated>${truncated}</IsTruncated>` +
    (truncated ? `<NextContinuationToken>${tokenOf(last)}</NextContinuationToken>` : '') +
    contents +
    '</ListBucketResult>';
  return { status: 200, xml };
}

/** Path-style `/bucket/key…` → decoded parts (key '' for bucket-level requests). */
function parsePath(pathname: string): { bucket: string; key: string } {
  const [, bucket = '', ...rest] = pathname.split('/');
  try {
    return { bucket: decodeURIComponent(bucket), key: decodeURIComponent(rest.join('/')) };
  } catch {
    return { bucket, key: rest.join('/') };
  }
}

const unquote = (etag: string): string => etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');

/** Query parameters that make a PUT something other than PutObject (multipart part, tagging, …). */
const PUT_SUBRESOURCES = ['uploadId', 'partNumber', 'tagging', 'acl', 'cors', 'website', 'versioning', 'policy'];

/** Reads the whole request body; undefined if the client aborted before sending all of it. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (body: Buffer | undefined) => {
      if (!done) resolve(body);
      done = true;
    };
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => finish(req.complete ? Buffer.concat(chunks) : undefined));
    req.on('aborted', () => finish(undefined));
    req.on('error', () => finish(undefined));
    req.on('close', () => finish(req.complete ? Buffer.concat(chunks) : undefined));
  });
}

/** The same request with its body already read, for s3rver to consume. */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(req.socket);
  copy.method = req.method;
  copy.url = req.url;
  copy.headers = req.headers;
  copy.rawHeaders = req.rawHeaders;
  copy.httpVersion = req.httpVersion;
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  // Complete, or destroying it after s3rver read it would destroy the shared socket too.
  copy.complete = true;
  copy.push(body);
  copy.push(null);
  return copy;
}

/** Why a body does not match the digests its request carries, or undefined. */
function digestMismatch(req: IncomingMessage, body: Buffer): string | undefined {
  const md5 = req.headers['content-md5'];
  if (typeof md5 === 'string' && createHash('md5').update(body).digest('base64') !== md5.trim()) return 'The Content-MD5 you specified did not match what we received.';
  const sha = req.headers['x-amz-checksum-sha256'];
  if (typeof sha === 'string' && createHash('sha256').update(body).digest('base64') !== sha.trim()) return 'The x-amz-checksum-sha256 you specified did not match what we received.';
  return undefined;
}

export async function startEmbeddedBucket(options: EmbeddedOptions = {}): Promise<TestBucketServer> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'scion-s3-')));
  await mkdir(dir, { recursive: true });
  const bucket = options.bucket ?? DEFAULT_BUCKET;
  const region = DEFAULT_REGION;
  const accessKeyId = options.accessKeyId ?? `SCION${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = options.secretAccessKey ?? randomBytes(24).toString('base64url');
  // s3rver checks signatures too (against a process-wide key registry): register ours there.
  accounts.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);

  const s3 = new S3rver({
    directory: dir,
    silent: true,
    vhostBuckets: false,
    resetOnClose: false,
    allowMismatchedSignatures: false,
    configureBuckets: [{ name: bucket, configs: [corsXml()] }],
  });
  await s3.configureBuckets();
  const handle = s3.callback();
  const locks = new KeyLocks();
  const secretFor = (id: string): string | undefined => (id === accessKeyId ? secretAccessKey : undefined);

  async function front(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    if (method === 'OPTIONS') {
      // s3rver evaluates the preflight against the bucket's CORS rule; it only lacks Max-Age.
      res.setHeader('Access-Control-Max-Age', String(CORS_RULE.maxAgeSeconds));
      return handle(req, res);
    }
    const { bucket: b, key } = parsePath(url.pathname);
    const verdict = await verifySigV4(method, url, req.headers, secretFor);
    if (!verdict.ok) return sendError(req, res, verdict.status, verdict.code, verdict.message, { Resource: url.pathname });
    // As AWS: a header that changes what a request does must be signed, or the request is refused.
    const unsigned = Object.keys(req.headers).filter((h) => h.startsWith('x-amz-') && !verdict.signedHeaders.includes(h) && h !== 'x-amz-content-sha256');
    if (unsigned.length > 0) {
      return sendError(req, res, 403, 'AccessDenied', 'There were headers present in the request which were not signed', { HeadersNotSigned: unsigned.join(', ') });
    }
    if (req.headers['x-amz-copy-source'] !== undefined && url.searchParams.has('X-Amz-Signature')) {
      return sendError(req, res, 403, 'AccessDenied', 'Copy requests are not allowed on presigned URLs.');
    }
    if (!key) {
      if (method === 'GET' && b && url.searchParams.get('list-type') === '2') {
        const { status, xml } = await listObjectsV2(s3.store, b, url.searchParams);
        return sendXml(req, res, status, xml);
      }
      return handle(req, res);
    }

    const isPutObject = method === 'PUT' && !PUT_SUBRESOURCES.some((p) => url.searchParams.has(p));
    let body: Buffer | undefined;
    if (isPutObject) {
      // Read before taking the key's lock (a slow upload blocks no one) and before storing anything.
      body = await readBody(req);
      if (body === undefined) return void res.destroy();
      const declared = req.headers['content-length'];
      if (declared !== undefined && Number(declared) !== body.byteLength) {
        return sendError(req, res, 400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
      }
      const mismatch = digestMismatch(req, body);
      if (mismatch) return sendError(req, res, 400, 'BadDigest', mismatch);
    }

    const release = await locks.acquire(`${b}/${key}`);
    res.once('close', release);
    if (res.destroyed) return release();
    if (isPutObject) {
      const ifNoneMatch = req.headers['if-none-match'];
      const ifMatch = req.headers['if-match'];
      if (ifNoneMatch !== undefined) {
        if (ifNoneMatch.trim() !== '*') {
          return sendError(req, res, 501, 'NotImplemented', 'PUT supports If-None-Match: * only.', { Header: 'If-None-Match' });
        }
        if (await s3.store.existsObject(b, key)) {
          return sendError(req, res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
        }
      }
      if (ifMatch !== undefined) {
        if (!(await s3.store.existsObject(b, key))) {
          return sendError(req, res, 404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
        }
        const { etag } = await s3.store.getMetadata(b, key);
        if (ifMatch.trim() !== '*' && unquote(ifMatch) !== unquote(etag)) {
          return sendError(req, res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
        }
      }
    }
    const suffix = /^bytes=-(\d+)$/.exec(req.headers.range?.trim() ?? '');
    if ((method === 'GET' || method === 'HEAD') && suffix && (await s3.store.existsObject(b, key))) {
      const size = Number((await s3.store.getMetadata(b, key))['content-length']);
      const n = Math.min(Number(suffix[1]), size);
      if (n === 0) return sendError(req, res, 416, 'InvalidRange', 'The requested range is not satisfiable', { RangeRequested: req.headers.range ?? '' });
      if (verdict.signedHeaders.includes('range')) {
        return sendError(req, res, 501, 'NotImplemented', 'The embedded bucket cannot serve a suffix Range that is signed into the URL.');
      }
      req.headers.range = `bytes=${size - n}-${size - 1}`;
    }
    return handle(body ? replay(req, body) : req, res);
  }

  const server = createServer((req, res) => {
    front(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(req, res, 500, 'InternalError', String((e as Error)?.message ?? e));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    s3.logger.exceptions.unhandle();
    s3.logger.close();
    accounts.DUMMY_ACCOUNT.revokeAccessKey(accessKeyId);
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };

  return { kind: 'embedded', endpoint: `http://127.0.0.1:${port}`, region, bucket, accessKeyId, secretAccessKey, stop };
}
