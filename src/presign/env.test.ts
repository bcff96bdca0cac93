import { describe, expect, it } from 'vitest';
import { bucketConfigFromEnv } from './index.ts';

describe('bucketConfigFromEnv', () => {
  const env = {
    SCION_S3_ENDPOINT: 'http://127.0.0.1:7480',
    SCION_S3_BUCKET: 'b1',
    SCION_S3_REGION: 'us-east-1',
    SCION_S3_ACCESS_KEY_ID: 'AKID',
    SCION_S3_SECRET_ACCESS_KEY: 'SECRET',
  };

  it('reads the bucket config, path-style unless told otherwise', () => {
    expect(bucketConfigFromEnv(env)).toMatchObject({ endpoint: 'http://127.0.0.1:7480', bucket: 'b1', secretAccessKey: 'SECRET', pathStyle: true, prefix: undefined });
    expect(bucketConfigFromEnv({ ...env, SCION_S3_PATH_STYLE: 'false', SCION_S3_PREFIX: 'p' })).toMatchObject({ pathStyle: false, prefix: 'p' });
  });

  it('names a missing variable without printing any value', () => {
    const { SCION_S3_BUCKET: _, ...partial } = env;
    expect(() => bucketConfigFromEnv(partial)).toThrow(/SCION_S3_BUCKET/);
    expect(() => bucketConfigFromEnv({ ...env, SCION_S3_REGION: '' })).toThrow(expect.objectContaining({ code: 'InvalidInput', message: expect.not.stringContaining('SECRET') }));
  });
});
