// Vitest globalSetup: one test bucket for the whole unit run (radosgw when installed, else the
// embedded emulator), handed to test files as inject('testBucket') and stopped by PID at the end.
import { AwsClient } from 'aws4fetch';
import type { TestProject } from 'vitest/node';
import { scionBucketPolicy } from '../../src/presign/index.ts';
import { bucketInfo, startTestBucket, type TestBucketInfo } from './index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testBucket: TestBucketInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bucket = await startTestBucket();
  if (bucket.kind === 'radosgw') {
    // radosgw honours unsigned x-amz-* headers on presigned URLs: run every test under the policy
    // the README prescribes for it (tools/bucket/hostile.test.ts shows what it closes).
    const aws = new AwsClient({ accessKeyId: bucket.accessKeyId, secretAccessKey: bucket.secretAccessKey, service: 's3', region: bucket.region });
    const res = await aws.fetch(`${bucket.endpoint}/${bucket.bucket}?policy`, { method: 'PUT', body: scionBucketPolicy(bucket.bucket) });
    if (res.status !== 204) throw new Error(`radosgw refused the bucket policy: ${res.status} ${await res.text()}`);
  }
  project.provide('testBucket', bucketInfo(bucket));
  return () => bucket.stop();
}
