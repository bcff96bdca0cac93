// The Playwright fixtures every bench spec shares: `bench` runs one job in a new worker on the bench page
// (bench/pages/peers.html), `heap` polls that worker's JS heap over CDP.
import { test as base, type Page } from '@playwright/test';
import type { Job, JobResult } from './pages/peers-worker.ts';
import { WorkerHeapMonitor } from './worker-heap.ts';

export { expect } from '@playwright/test';

const PAGE = '/bench/pages/peers.html';

interface Fixtures {
  /** Runs a job in a new worker on the bench page. */
  bench: <J extends Job>(job: J) => Promise<JobResult<J>>;
  heap: WorkerHeapMonitor;
}

export const test = base.extend<Fixtures>({
  heap: async ({ page }, use) => {
    const monitor = await WorkerHeapMonitor.attach(page);
    await use(monitor);
    await monitor.detach();
  },
  bench: async ({ page }, use) => {
    page.on('pageerror', (e) => console.error(`[browser pageerror] ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') console.error(`[browser console.error] ${m.text()}`);
    });
    await page.goto(PAGE);
    await page.waitForFunction(() => window.scionBench !== undefined);
    await use(<J extends Job>(job: J) => runJob<J>(page, job));
  },
});

function runJob<J extends Job>(page: Page, job: J): Promise<JobResult<J>> {
  return page.evaluate((j) => window.scionBench.run(j), job as Job) as Promise<JobResult<J>>;
}

/** Run r's order: forward on odd runs, reversed on even ones, so drift (GC, disk cache) hits all targets alike. */
export const interleave = <T>(items: T[], run: number): T[] => (run % 2 === 1 ? items : [...items].reverse());
