// Shared shape of a local S3 test bucket, its CORS rule, and how to hand it to tests through env vars.

export type TestBucketKind = 'radosgw' | 'embedded';

/** Where a running test bucket answers and the credentials that may sign for it (path-style URLs). */
export interface TestBucketInfo {
  readonly kind: TestBucketKind;
  /** Origin without a trailing slash, e.g. `http://127.0.0.1:41234`; objects are `${endpoint}/${bucket}/${key}`. */
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface TestBucketServer extends TestBucketInfo {
  /** Stops every process/server this bucket started (by PID) and removes its temporary directory. */
  stop(): Promise<void>;
}

export const DEFAULT_BUCKET = 'scion-test';
export const DEFAULT_REGION = 'us-east-1';

/** The bucket's CORS rule: what a browser page on any origin needs for presigned GET/PUT/HEAD/DELETE. */
export const CORS_RULE = {
  allowedOrigins: ['*'],
  allowedMethods: ['GET', 'PUT', 'HEAD', 'DELETE'],
  allowedHeaders: ['*'],
  exposeHeaders: ['ETag', 'Content-Range'],
  maxAgeSeconds: 600,
} as const;

export function corsXml(): string {
  const r = CORS_RULE;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule>' +
    r.allowedOrigins.map((o) => `<AllowedOrigin>${o}</AllowedOrigin>`).join('') +
    r.allowedMethods.map((m) => `<AllowedMethod>${m}</AllowedMethod>`).join('') +
    r.allowedHeaders.map((h) => `<AllowedHeader>${h}</AllowedHeader>`).join('') +
    r.exposeHeaders.map((h) => `<ExposeHeader>${h}</ExposeHeader>`).join('') +
    `<MaxAgeSeconds>${r.maxAgeSeconds}</MaxAgeSeconds>` +
    '</CORSRule></CORSConfiguration>'
  );
}

/** The names src/presign/env.ts (`bucketConfigFromEnv`) reads, plus SCION_S3_KIND. */
export function bucketEnv(b: TestBucketInfo): Record<string, string> {
  return {
    SCION_S3_ENDPOINT: b.endpoint,
    SCION_S3_BUCKET: b.bucket,
    SCION_S3_REGION: b.region,
    SCION_S3_ACCESS_KEY_ID: b.accessKeyId,
    SCION_S3_SECRET_ACCESS_KEY: b.secretAccessKey,
    SCION_S3_KIND: b.kind,
  };
}

/** The inverse of bucketEnv; throws naming the first missing variable. */
export function bucketFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): TestBucketInfo {
  const must = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`The environment variable ${name} is not set: start the bucket with startTestBucket() in globalSetup.`);
    return v;
  };
  const kind = must('SCION_S3_KIND');
  if (kind !== 'radosgw' && kind !== 'embedded') throw new Error(`SCION_S3_KIND must be radosgw or embedded; got ${kind}.`);
  return {
    kind,
    endpoint: must('SCION_S3_ENDPOINT'),
    bucket: must('SCION_S3_BUCKET'),
    region: must('SCION_S3_REGION'),
    accessKeyId: must('SCION_S3_ACCESS_KEY_ID'),
    secretAccessKey: must('SCION_S3_SECRET_ACCESS_KEY'),
  };
}

/** Plain data (no stop()) for Vitest's provide()/inject() or JSON. */
export function bucketInfo(b: TestBucketInfo): TestBucketInfo {
  const { kind, endpoint, region, bucket, accessKeyId, secretAccessKey } = b;
  return { kind, endpoint, region, bucket, accessKeyId, secretAccessKey };
}
