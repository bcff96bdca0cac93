import { ScionError } from '../core/index.ts';
import type { WorkerLoadFailed } from '../protocol/index.ts';

/** The script URL of each worker started by startModuleWorker, for the failure message. */
const scriptUrls = new WeakMap<object, string>();

/** A module worker at `url` whose failures watchWorker can name the URL of. */
export function startModuleWorker(url: string | URL, name: string): Worker {
  const worker = new Worker(url, { type: 'module', name });
  scriptUrls.set(worker, new URL(url, globalThis.location?.href).href);
  return worker;
}

/**
 * Watches a DB worker for failures outside a call: its modules failing to load (reported by
 * worker/entry.ts with the URL and the error), an error event (an uncaught exception, or a script the
 * browser could not fetch or parse), each as ScionError 'Internal'. `stop()` removes the listeners.
 */
export function watchWorker(worker: Worker | MessagePort): { failed: Promise<never>; stop(): void } {
  let fail!: (e: Error) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined); // observed only by calls racing it
  const onError = (ev: Event) => void describeErrorEvent(ev, scriptUrls.get(worker)).then(fail);
  const onMessage = (ev: MessageEvent) => {
    const failure = (ev.data as Partial<WorkerLoadFailed> | null)?.scionWorkerLoadFailed;
    if (failure === undefined) return;
    fail(new ScionError('Internal', `The Scion DB worker could not load its modules (entry ${failure.url}): ${failure.name}: ${failure.message}`, { url: failure.url, error: failure.name }));
  };
  worker.addEventListener('error', onError);
  worker.addEventListener('message', onMessage as EventListener);
  return {
    failed,
    stop: () => {
      worker.removeEventListener('error', onError);
      worker.removeEventListener('message', onMessage as EventListener);
    },
  };
}

async function describeErrorEvent(ev: Event, url: string | undefined): Promise<ScionError> {
  const e = ev as ErrorEvent;
  if (e.message) {
    const where = e.filename ? ` (${e.filename}:${e.lineno})` : '';
    return new ScionError('Internal', `The Scion DB worker threw outside a call: ${e.message}${where}.`);
  }
  // The browser reports a worker script it could not fetch (404, wrong MIME type) or parse with no detail;
  // where the URL is known, asking for it again tells which.
  if (url !== undefined) {
    const answer = await fetch(url).then(
      (r) => {
        const type = r.headers.get('content-type') ?? 'no content type';
        const html = /text\/html/i.test(type) ? ', an HTML page (often a server\'s fallback for a missing file), not the worker' : '';
        return `the server answered ${r.status} with ${type}${html}`;
      },
      (err: unknown) => `fetching it fails: ${String(err)}`,
    );
    return new ScionError('Internal', `The Scion DB worker script ${url} did not load: ${answer}.`, { url });
  }
  return new ScionError(
    'Internal',
    'The Scion DB worker script did not load (the browser gives no detail: most often a 404 or a non-JavaScript response for the worker URL your bundler made; see the network panel). ' +
      'Bundlers that do not handle `new Worker(new URL(…, import.meta.url))` need the `workerUrl` option: the URL of the file built from scion-db/worker.',
  );
}
