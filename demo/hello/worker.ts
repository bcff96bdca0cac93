// Hello worlds in the browser, inside a dedicated worker: the runtime on OPFS + IndexedDB, and two
// devices sharing a volume through the local bucket (reads over synchronous XHR, as the VFS does).
import { expose } from 'comlink';
import { IdbCatalog, MemoryCatalog, MemoryStore, OpfsStore } from '../../src/local/index.ts';
import { S3Remote } from '../../src/remote/index.ts';
import { Runtime } from '../../src/runtime/index.ts';
import { helloWorld } from './hello-world.ts';
import { twoDevices } from './two-devices.ts';

const api = {
  async run(): Promise<string[]> {
    const lines: string[] = [];
    const rt = await Runtime.open({ store: await OpfsStore.open({ directory: 'scion-hello' }), catalog: await IdbCatalog.open('scion-hello') });
    try {
      await helloWorld(rt, (line) => lines.push(line));
    } finally {
      rt.close();
    }
    return lines;
  },

  async runTwoDevices(presignUrl: string, token: string): Promise<string[]> {
    const lines: string[] = [];
    const remote = () => new S3Remote({ presign: { endpoint: presignUrl, token } });
    const a = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote: remote() });
    const b = await Runtime.open({ store: await OpfsStore.open({ directory: 'scion-hello-b' }), catalog: await IdbCatalog.open('scion-hello-b'), remote: remote() });
    try {
      await twoDevices(a, b, (line) => lines.push(line), { syncReads: true });
    } finally {
      a.close();
      b.close();
    }
    return lines;
  },
};
export type HelloWorker = typeof api;
expose(api);
