// Hello world in the browser: the runtime on OPFS + IndexedDB inside a dedicated worker.
import { expose } from 'comlink';
import { IdbCatalog, OpfsStore } from '../../src/local/index.ts';
import { Runtime } from '../../src/runtime/index.ts';
import { helloWorld } from './hello-world.ts';

expose({
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
});
