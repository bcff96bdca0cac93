import { invalidInput } from '../core/index.ts';
import type { BucketConfig } from './bucket-signer.ts';

/**
 * Reads a BucketConfig from environment variables (`process.env`, `Deno.env.toObject()`, a Worker's
 * `env`): SCION_S3_ENDPOINT, SCION_S3_BUCKET, SCION_S3_REGION, SCION_S3_ACCESS_KEY_ID,
 * SCION_S3_SECRET_ACCESS_KEY, and optionally SCION_S3_SESSION_TOKEN, SCION_S3_PREFIX,
 * SCION_S3_PATH_STYLE ("false" for virtual-hosted URLs). Throws InvalidInput naming a missing variable.
 */
export function bucketConfigFromEnv(env: Readonly<Record<string, unknown>>): BucketConfig {
  const get = (name: string): string | undefined => (typeof env[name] === 'string' && env[name] !== '' ? (env[name] as string) : undefined);
  const must = (name: string): string => {
    const value = get(name);
    if (value === undefined) throw invalidInput(`The environment variable ${name} is not set.`);
    return value;
  };
  return {
    endpoint: must('SCION_S3_ENDPOINT'),
    bucket: must('SCION_S3_BUCKET'),
    region: must('SCION_S3_REGION'),
    accessKeyId: must('SCION_S3_ACCESS_KEY_ID'),
    secretAccessKey: must('SCION_S3_SECRET_ACCESS_KEY'),
    sessionToken: get('SCION_S3_SESSION_TOKEN'),
    prefix: get('SCION_S3_PREFIX'),
    pathStyle: get('SCION_S3_PATH_STYLE') !== 'false',
  };
}
