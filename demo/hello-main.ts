import { wrap } from 'comlink';
import type { HelloWorker } from './hello/worker.ts';

const worker = wrap<HelloWorker>(new Worker(new URL('./hello/worker.ts', import.meta.url), { type: 'module' }));

async function show(id: string, run: () => Promise<string[]>, footer = ''): Promise<void> {
  const out = document.querySelector(`#${id}`) as HTMLPreElement;
  try {
    out.textContent = (await run()).join('\n') + footer;
  } catch (e) {
    out.textContent = `Failed: ${(e as Error).message}`;
  }
}

await show('local', () => worker.run(), '\n\nReload the page: the commits persist in OPFS and the LSNs keep growing.');
const config = (await (await fetch('/scion-config.json')).json()) as { presignUrl: string; token: string };
await show('sync', () => worker.runTwoDevices(config.presignUrl, config.token), '\n\nDone.');
