// The Remote contract (remote.contract.ts) on the memory remote and on S3Remote over both test buckets:
// the run's own (radosgw when installed) and the other kind, started here.
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { bucketInfo, radosgwInstalled, startTestBucket, type TestBucketInfo, type TestBucketServer } from '../../tools/bucket/index.ts';
import { bearerTokens, createPresignHandler } from '../presign/index.ts';
import { servePresign } from '../presign/node.ts';
import { MemoryRemote, S3Remote } from './index.ts';
import { remoteChecks } from './remote.contract.ts';

describe('Remote contract: MemoryRemote', () => {
  for (const [name, run] of Object.entries(remoteChecks)) it(name, () => run({ remote: new MemoryRemote(), sync: true }));
});

const runBucket = inject('testBucket');
const otherKind = runBucket.kind === 'radosgw' ? 'embedded' : 'radosgw';

for (const kind of [runBucket.kind, otherKind]) {
  const available = kind === runBucket.kind || kind === 'embedded' || radosgwInstalled();
  describe.skipIf(!available)(`Remote contract: S3Remote on the ${kind} bucket`, () => {
    let started: TestBucketServer | undefined;
    let presign: { url: string; close(): Promise<void> } | undefined;
    beforeAll(async () => {
      let bucket: TestBucketInfo = runBucket;
      if (kind !== runBucket.kind) bucket = bucketInfo((started = await startTestBucket(kind)));
      const handler = createPresignHandler({
        bucket: { ...bucket, prefix: `remote-contract/${Date.now().toString(36)}` },
        authorize: bearerTokens({ t: { volumes: '*', write: true, admin: true } }),
      });
      presign = await servePresign(handler, { port: 0 });
    });
    afterAll(async () => {
      await presign?.close();
      await started?.stop();
    });
    const harness = () => ({ remote: new S3Remote({ presign: { endpoint: `${presign?.url}/presign`, token: 't' } }), sync: false });
    for (const [name, run] of Object.entries(remoteChecks)) it(name, () => run(harness()));
  });
}
