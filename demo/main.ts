import { wrap } from 'comlink';

const worker = wrap<{ run(): Promise<string[]> }>(new Worker(new URL('./hello/worker.ts', import.meta.url), { type: 'module' }));
const out = document.querySelector('#out') as HTMLPreElement;
try {
  out.textContent = (await worker.run()).join('\n') + '\n\nReload the page: the commits persist in OPFS and the LSNs keep growing.';
} catch (e) {
  out.textContent = `Failed: ${(e as Error).message}`;
}
