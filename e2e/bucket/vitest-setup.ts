// Vitest globalSetup: one test bucket for the whole unit run (radosgw when installed, else the
// embedded emulator), handed to test files as inject('testBucket') and stopped by PID at the end.
import type { TestProject } from 'vitest/node';
import { bucketInfo, startTestBucket, type TestBucketInfo } from './index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testBucket: TestBucketInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bucket = await startTestBucket();
  project.provide('testBucket', bucketInfo(bucket));
  return () => bucket.stop();
}
