// Local S3 test buckets for Vitest (Node) and Playwright globalSetup.
//   const bucket = await startTestBucket();   // 'radosgw' | 'embedded' | 'auto' (SCION_BUCKET)
//   ... bucketEnv(bucket) → SCION_S3_* for src/presign/env.ts ...
//   await bucket.stop();
import { AwsClient } from 'aws4fetch';
import { startEmbeddedBucket, type EmbeddedOptions } from './embedded.ts';
import { radosgwInstalled, RADOSGW_INSTALL, startRadosgw, type RadosgwOptions } from './radosgw.ts';
import type { TestBucketInfo, TestBucketKind, TestBucketServer } from './types.ts';

export { startEmbeddedBucket, type EmbeddedOptions } from './embedded.ts';
export { missingRadosgwBinary, radosgwInstalled, RADOSGW_INSTALL, RADOSGW_PACKAGES, startRadosgw, type RadosgwOptions } from './radosgw.ts';
export { bucketEnv, bucketFromEnv, bucketInfo, CORS_RULE, corsXml, DEFAULT_BUCKET, DEFAULT_REGION } from './types.ts';
export type { TestBucketInfo, TestBucketKind, TestBucketServer } from './types.ts';

/**
 * Starts a test bucket. 'auto' (the default, or SCION_BUCKET) picks radosgw when its binaries are
 * installed and the embedded emulator otherwise; 'radosgw' throws when they are missing.
 */
export async function startTestBucket(
  kind: string = process.env.SCION_BUCKET ?? 'auto',
  options: EmbeddedOptions & RadosgwOptions = {},
): Promise<TestBucketServer> {
  switch (kind) {
    case 'radosgw':
      return startRadosgw(options);
    case 'embedded':
      return startEmbeddedBucket(options);
    case 'auto':
    case '':
      return radosgwInstalled() ? startRadosgw(options) : startEmbeddedBucket(options);
    default:
      throw new Error(`SCION_BUCKET must be radosgw, embedded or auto; got ${JSON.stringify(kind)}. (radosgw: ${RADOSGW_INSTALL})`);
  }
}

export interface PresignOptions {
  /** Headers to sign into the URL; the request must then send exactly these. */
  headers?: Record<string, string> | undefined;
  /** Seconds the URL stays valid (X-Amz-Expires). Default 300. */
  expiresIn?: number | undefined;
  /** Extra query parameters (e.g. list-type, prefix, start-after, continuation-token). */
  query?: Record<string, string> | undefined;
  /** Signing time; a past one makes an already expired URL. Default now. */
  signedAt?: Date | number | undefined;
}

export interface SignedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
}

/** `${endpoint}/${bucket}/${key}` with each key segment percent-encoded; key '' is the bucket itself. */
export function objectUrl(b: TestBucketInfo, key: string): string {
  const path = key === '' ? '' : `/${key.split('/').map(encodeURIComponent).join('/')}`;
  return `${b.endpoint}/${b.bucket}${path}`;
}

/** A presigned (query-string SigV4) request, signed with aws4fetch as the app does. */
export async function presign(b: TestBucketInfo, method: string, key: string, options: PresignOptions = {}): Promise<SignedRequest> {
  const url = new URL(objectUrl(b, key));
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
  // aws4fetch signs for 86400 s unless X-Amz-Expires is already in the URL.
  url.searchParams.set('X-Amz-Expires', String(options.expiresIn ?? 300));
  const aws = new AwsClient({ accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey, service: 's3', region: b.region });
  const headers = options.headers ?? {};
  const datetime =
    options.signedAt === undefined ? undefined : new Date(options.signedAt).toISOString().replace(/[:-]|\.\d{3}/g, '');
  const signed = await aws.sign(url.toString(), {
    method,
    headers,
    aws: { signQuery: true, allHeaders: true, ...(datetime ? { datetime } : {}) },
  });
  return { method, url: signed.url, headers: { ...headers } };
}

/** Sends a presigned request with fetch; `extra` headers are sent unsigned (e.g. Range, Origin). */
export function send(r: SignedRequest, init: { body?: string | Uint8Array | ArrayBuffer; headers?: Record<string, string> } = {}): Promise<Response> {
  const body = init.body as BodyInit | undefined;
  return fetch(r.url, { method: r.method, headers: { ...r.headers, ...init.headers }, ...(body !== undefined ? { body } : {}) });
}
