import { AwsClient } from 'aws4fetch';
import { invalidInput, RemoteFork, RemoteKey, RemoteName, UPLOAD_MAX_BYTES, URL_EXPIRES_MAX_SECONDS, UploadBody, type PresignedRequest, type PresignMethod, type PresignOp } from '../core/index.ts';

/** Where the objects live and the credentials that may touch them; these never leave the service. */
export interface BucketConfig {
  /** Origin of the S3-compatible API, e.g. `http://127.0.0.1:7480` or `https://s3.eu-west-1.amazonaws.com`. */
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** For temporary credentials (STS); signed into every URL. */
  sessionToken?: string | undefined;
  /** Folder inside the bucket that holds the layout, e.g. `tenants/acme`; no `.`/`..` segments. */
  prefix?: string | undefined;
  /** `{endpoint}/{bucket}/{key}` (default) rather than `{bucket}.{endpoint host}/{key}`. */
  pathStyle?: boolean | undefined;
}

export const EXPIRES_DEFAULT_SECONDS = 300;
export const EXPIRES_MAX_SECONDS = URL_EXPIRES_MAX_SECONDS;
/** Default bound on one segment upload. */
export const UPLOAD_DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/** Largest commit record or latest hint a URL is signed for; segments are bounded by `maxUploadBytes`. */
export const SMALL_OBJECT_MAX_BYTES = 4 * 1024 * 1024;
const CONTENT_TYPE = 'application/octet-stream';

/**
 * The headers a write URL is signed with: exact length, both body digests, the content type, and
 * (for create-only keys) If-None-Match. A client can send nothing else to that URL: any change is
 * SignatureDoesNotMatch, another body fails the digest (BadDigest / checksum mismatch).
 */
function uploadHeaders(upload: UploadBody, createOnly: boolean): Record<string, string> {
  return {
    'content-length': String(upload.length),
    'content-md5': upload.md5,
    'content-type': CONTENT_TYPE,
    'x-amz-checksum-sha256': upload.sha256,
    ...(createOnly ? { 'if-none-match': '*' } : {}),
  };
}
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

type Plan =
  | { method: PresignMethod; key: string; headers: Readonly<Record<string, string>> }
  | { method: 'GET'; list: string; after: string | undefined };

/** What one op may touch: a key built by RemoteKey from parsed ids, or a listing under a layout prefix. */
function plan(op: PresignOp, maxUploadBytes: number): Plan {
  const upload = (u: UploadBody, max: number, createOnly: boolean): Record<string, string> => {
    if (u.length > max) throw invalidInput(`${op.op} may upload at most ${max} bytes; asked for ${u.length}.`);
    return uploadHeaders(u, createOnly);
  };
  switch (op.op) {
    case 'getCommit':
      return { method: 'GET', key: RemoteKey.ofOp(op), headers: {} };
    case 'putCommit':
      return { method: 'PUT', key: RemoteKey.ofOp(op), headers: upload(op.upload, SMALL_OBJECT_MAX_BYTES, true) };
    case 'getLatest':
    case 'getCompacted':
    case 'readLog':
      // readLog's own URL is the hint's GET (what the service read first), a fallback for the client.
      return { method: 'GET', key: RemoteKey.ofOp(op), headers: {} };
    case 'putLatest':
    case 'putCompacted':
      return { method: 'PUT', key: RemoteKey.ofOp(op), headers: upload(op.upload, SMALL_OBJECT_MAX_BYTES, false) };
    case 'getSegment':
      return { method: 'GET', key: RemoteKey.ofOp(op), headers: {} };
    case 'putSegment':
      return { method: 'PUT', key: RemoteKey.ofOp(op), headers: upload(op.upload, maxUploadBytes, true) };
    case 'deleteSegment':
    case 'deleteCommit':
      return { method: 'DELETE', key: RemoteKey.ofOp(op), headers: {} };
    case 'getName':
      return { method: 'GET', key: RemoteKey.ofOp(op), headers: {} };
    case 'getFork':
      return { method: 'GET', key: RemoteKey.ofOp(op), headers: {} };
    case 'putFork':
      // The body follows from (fork, ancestors): the URL can only ever create this record.
      return { method: 'PUT', key: RemoteKey.ofOp(op), headers: uploadHeaders(UploadBody.of(RemoteFork.encode(op)), true) };
    case 'putName':
      // The body follows from (name, vid): the URL can only ever create this name pointing at this volume.
      return { method: 'PUT', key: RemoteKey.ofOp(op), headers: uploadHeaders(UploadBody.of(RemoteName.encode(op)), true) };
    case 'listLog':
      return { method: 'GET', list: RemoteKey.ofOp(op), after: op.after };
    case 'listSegments':
      return { method: 'GET', list: RemoteKey.ofOp(op), after: op.after };
    case 'listVolumes':
      // Every object under volumes/ (no delimiter): GC reads all commits; vids are in the keys.
      return { method: 'GET', list: RemoteKey.ofOp(op), after: op.after };
  }
}

/**
 * Signs query-string SigV4 URLs (aws4fetch) for one bucket and prefix. Keys in `after` and in
 * listings are layout keys, relative to the prefix. Throws InvalidInput for a bad config or op.
 */
export class BucketSigner {
  readonly #client: AwsClient;
  readonly #objectBase: string; // ends with '/', includes the prefix
  readonly #listUrl: string;
  readonly #prefix: string;
  readonly #expiresSeconds: number;
  readonly #maxUploadBytes: number;

  constructor(config: BucketConfig, expiresSeconds: number, maxUploadBytes = UPLOAD_DEFAULT_MAX_BYTES) {
    if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > EXPIRES_MAX_SECONDS) {
      throw invalidInput(`expiresInSeconds must be an integer in 1–${EXPIRES_MAX_SECONDS}; got ${expiresSeconds}.`);
    }
    if (!BUCKET_NAME.test(config.bucket) || config.bucket.includes('..')) throw invalidInput(`Not an S3 bucket name: ${JSON.stringify(config.bucket)}.`);
    if (!config.region || !config.accessKeyId || !config.secretAccessKey) throw invalidInput('The bucket config needs region, accessKeyId and secretAccessKey.');
    let endpoint: URL;
    try {
      endpoint = new URL(config.endpoint);
    } catch {
      throw invalidInput(`The bucket endpoint is not a URL: ${JSON.stringify(config.endpoint)}.`);
    }
    if (!/^https?:$/.test(endpoint.protocol) || endpoint.username || endpoint.password || endpoint.search || endpoint.hash) {
      throw invalidInput('The bucket endpoint must be a plain http(s) URL without credentials, query or fragment.');
    }
    this.#prefix = normalizePrefix(config.prefix ?? '');
    const path = endpoint.pathname.replace(/\/+$/, '');
    const root = config.pathStyle === false ? `${endpoint.protocol}//${config.bucket}.${endpoint.host}${path}` : `${endpoint.origin}${path}/${config.bucket}`;
    this.#objectBase = `${root}/${this.#prefix}`;
    this.#listUrl = config.pathStyle === false ? `${root}/` : root;
    this.#expiresSeconds = expiresSeconds;
    if (!Number.isSafeInteger(maxUploadBytes) || maxUploadBytes < 1 || maxUploadBytes > UPLOAD_MAX_BYTES) {
      throw invalidInput(`maxUploadBytes must be an integer in 1–${UPLOAD_MAX_BYTES}; got ${maxUploadBytes}.`);
    }
    this.#maxUploadBytes = maxUploadBytes;
    this.#client = new AwsClient({
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      ...(config.sessionToken ? { sessionToken: config.sessionToken } : {}),
      service: 's3',
      region: config.region,
    });
  }

  /** One URL valid from `nowMs` (truncated to the second, as SigV4 dates are) for the configured expiry. */
  async sign(op: PresignOp, nowMs: number): Promise<PresignedRequest> {
    const p = plan(op, this.#maxUploadBytes);
    let url: URL;
    let headers: Readonly<Record<string, string>> = {};
    if ('key' in p) {
      url = new URL(this.#objectBase + p.key);
      headers = p.headers;
    } else {
      url = new URL(this.#listUrl);
      url.searchParams.set('list-type', '2');
      url.searchParams.set('prefix', this.#prefix + p.list);
      if (p.after !== undefined) {
        if (!p.after.startsWith(p.list)) throw invalidInput(`"after" must be a key under ${p.list}; got ${JSON.stringify(p.after)}.`);
        url.searchParams.set('start-after', this.#prefix + p.after);
      }
    }
    // Without this aws4fetch signs S3 URLs for 86400 s.
    url.searchParams.set('X-Amz-Expires', String(this.#expiresSeconds));
    const signedAt = Math.floor(nowMs / 1000) * 1000;
    const datetime = new Date(signedAt).toISOString().replace(/[:-]|\.\d{3}/g, '');
    // allHeaders: aws4fetch would otherwise leave Content-Length out of the signature.
    const signed = await this.#client.sign(url.toString(), { method: p.method, headers, aws: { signQuery: true, datetime, allHeaders: true } });
    return { method: p.method, url: signed.url, headers: { ...headers }, expiresAt: signedAt + this.#expiresSeconds * 1000 };
  }
}

function normalizePrefix(prefix: string): string {
  const segments = prefix.split('/').filter((s) => s !== '');
  for (const s of segments) {
    if (!PREFIX_SEGMENT.test(s) || s === '.' || s === '..') throw invalidInput(`The bucket prefix has a bad segment: ${JSON.stringify(s)}.`);
  }
  return segments.length === 0 ? '' : `${segments.join('/')}/`;
}
