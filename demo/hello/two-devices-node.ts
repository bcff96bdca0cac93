// Two runtimes share a volume through a real local bucket and the presign service, in Node:
// `npm run hello:sync`. (Node has no synchronous XHR, so reads use the async path.)
import 'fake-indexeddb/auto';
import { startTestBucket } from '../../tools/bucket/index.ts';
import { IdbCatalog, MemoryStore } from '../../src/local/index.ts';
import { bearerTokens, createPresignHandler } from '../../src/presign/index.ts';
import { servePresign } from '../../src/presign/node.ts';
import { S3Remote } from '../../src/remote/index.ts';
import { Runtime } from '../../src/runtime/index.ts';
import { twoDevices } from './two-devices.ts';

const bucket = await startTestBucket('embedded');
const presign = await servePresign(createPresignHandler({ bucket, authorize: bearerTokens({ demo: { volumes: '*', write: true, admin: false } }) }), { port: 0 });
const device = async (name: string) =>
  Runtime.open({
    store: MemoryStore.open(),
    catalog: await IdbCatalog.open(name),
    remote: new S3Remote({ presign: { endpoint: `${presign.url}/presign`, token: 'demo' } }),
  });
try {
  await twoDevices(await device('device-a'), await device('device-b'), (line) => console.log(line), { syncReads: false });
} finally {
  await presign.close();
  await bucket.stop();
}
