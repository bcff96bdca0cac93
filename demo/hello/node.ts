// Hello world in Node (no browser, no SQLite): `npm run hello`.
import { MemoryCatalog, MemoryStore } from '../../src/local/index.ts';
import { Runtime } from '../../src/runtime/index.ts';
import { helloWorld } from './hello-world.ts';

const rt = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog() });
await helloWorld(rt, (line) => console.log(line));
rt.close();
