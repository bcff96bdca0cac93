// Main thread of bench/pages/peers.html: runs each job in a new dedicated worker, then ends the worker, so
// every job starts cold and its memory numbers are its own.
import type { Job, JobResult } from './peers-worker.ts';

export interface ScionBench {
  run<J extends Job>(job: J): Promise<JobResult<J>>;
}

declare global {
  interface Window {
    scionBench: ScionBench;
  }
}

type Reply = { ok: true; value: unknown } | { ok: false; error: { name: string; message: string; stack?: string } };

window.scionBench = {
  run<J extends Job>(job: J): Promise<JobResult<J>> {
    const label = 'target' in job ? `${job.kind} ${job.target}` : job.kind;
    const worker = new Worker(new URL('./peers-worker.ts', import.meta.url), { type: 'module', name: `bench ${label}` });
    return new Promise<JobResult<J>>((resolve, reject) => {
      worker.addEventListener('message', (ev: MessageEvent<Reply>) => {
        if (ev.data.ok) resolve(ev.data.value as JobResult<J>);
        else reject(Object.assign(new Error(`${label}: ${ev.data.error.name}: ${ev.data.error.message}`), { stack: ev.data.error.stack }));
      });
      // A module load failure or an uncaught exception: fail the job instead of hanging.
      worker.addEventListener('error', (ev) => reject(new Error(`${label}: worker failed: ${ev.message || 'see the browser console'}`)));
      worker.postMessage(job);
    }).finally(() => worker.terminate());
  },
};
