// The DB worker's entry script: the one src/client starts and the package exports as `scion-db/worker`.
// It loads the worker (db-worker.ts) with a dynamic import so that a load failure — a module that does not
// link (SyntaxError) or does not arrive (404) — reaches the page with the URL and the error. With a static
// import the worker would die before any code ran, and the page's error event carries no message.
import type { WorkerLoadFailed } from '../src/protocol/index.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
// Calls sent before db-worker.ts has registered its listener would be lost: keep them and replay them.
const early: MessageEvent[] = [];
const hold = (ev: MessageEvent): void => {
  early.push(ev);
  ev.stopImmediatePropagation();
};
scope.addEventListener('message', hold);

import('./db-worker.ts').then(
  () => {
    scope.removeEventListener('message', hold);
    for (const ev of early) scope.dispatchEvent(new MessageEvent('message', { data: ev.data, ports: [...ev.ports] }));
  },
  (e: unknown) => {
    const failed: WorkerLoadFailed = {
      scionWorkerLoadFailed: { url: scope.location.href, name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e) },
    };
    scope.postMessage(failed);
  },
);
