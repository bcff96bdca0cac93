// Main thread of e2e/pages/worker.html: starts the scenario worker and publishes `window.scionTest`.
import * as Comlink from 'comlink';
import type {
  Outcome,
  ScenarioArgs,
  ScenarioName,
  ScenarioResult,
  TestWorkerApi,
} from './test-worker.ts';

export interface ScionTest {
  /** Resolves once the worker answers; rejects if it failed to load. */
  ready: Promise<void>;
  /** Runs a scenario in the worker; a failure rejects with "<scenario>: <code or name>: <message>". */
  run<N extends ScenarioName>(name: N, ...args: ScenarioArgs<N>): Promise<ScenarioResult<N>>;
  /** Runs a scenario and returns its outcome, so a test can assert on an error's name or code. */
  attempt<N extends ScenarioName>(name: N, ...args: ScenarioArgs<N>): Promise<Outcome<ScenarioResult<N>>>;
}

declare global {
  interface Window {
    scionTest: ScionTest;
  }
}

const worker = new Worker(new URL('./test-worker.ts', import.meta.url), { type: 'module', name: 'scion-test' });
const remote = Comlink.wrap<TestWorkerApi>(worker);

// Fires on a module load failure and on an uncaught exception in the worker: later calls fail instead of hanging.
const workerFailed = new Promise<never>((_, reject) => {
  worker.addEventListener('error', (ev) => {
    const detail = ev.message || 'see the [WebServer] output and the browser console';
    reject(new Error(`Test worker failed (load error or uncaught exception): ${detail}`));
  });
});

async function attempt(name: string, args: unknown[]): Promise<Outcome<unknown>> {
  return Promise.race([remote.run(name, args), workerFailed]);
}

window.scionTest = {
  ready: Promise.race([remote.names(), workerFailed]).then(() => undefined),
  attempt: (name, ...args) => attempt(name, args) as Promise<Outcome<never>>,
  async run(name, ...args) {
    const outcome = await attempt(name, args);
    if (outcome.ok) return outcome.value as never;
    const { name: errorName, code, message, stack = '' } = outcome.error;
    const err = new Error(`${name}: ${code ?? errorName}: ${message}`);
    // page.evaluate reports this stack: show where the worker threw, not this host frame.
    const frames = stack.split('\n').filter((line) => line.trimStart().startsWith('at '));
    if (frames.length > 0) err.stack = [`Error: ${err.message}`, ...frames].join('\n');
    throw err;
  },
};
