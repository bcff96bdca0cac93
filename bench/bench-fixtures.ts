// The bench page's Playwright fixtures, shared by the specs that run jobs in bench workers: `bench` runs a job
// in a new worker on bench/pages/peers.html, `heap` polls the workers' JS heap over CDP.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, test as base, type BrowserContext, type Page } from '@playwright/test';
import type { Job, JobResult, MemorySample, OpenPhases } from './pages/peers-worker.ts';
import type { Sample } from './report.ts';
import { WorkerHeapMonitor } from './worker-heap.ts';

export { expect } from '@playwright/test';

const PAGE = '/bench/pages/peers.html';

interface Fixtures {
  /** Runs a job in a new worker on the bench page. */
  bench: <J extends Job>(job: J) => Promise<JobResult<J>>;
  heap: WorkerHeapMonitor;
}

/**
 * Where the bench browser keeps OPFS and IndexedDB. Playwright's default context is off the record: Chromium
 * keeps its OPFS in memory (no disk I/O; a file stops growing near 1.4 GB with a "no space" write), which is
 * not what an app's users get. So the benches run in a persistent profile on disk, deleted after each test;
 * SCION_BENCH_STORAGE=memory runs them in the default context, as the runs before 2026-12-06 did.
 */
const STORAGE = process.env.SCION_BENCH_STORAGE === 'memory' ? 'memory' : 'disk';
export const BENCH_STORAGE = STORAGE;

export const test = base.extend<Fixtures>({
  context: async ({ context, launchOptions, baseURL }, use) => {
    if (STORAGE === 'memory') return use(context);
    const profile = await mkdtemp(join(tmpdir(), 'scion-bench-profile-'));
    const persistent: BrowserContext = await chromium.launchPersistentContext(profile, { ...launchOptions, ...(baseURL ? { baseURL } : {}) });
    try {
      await use(persistent);
    } finally {
      await persistent.close();
      await rm(profile, { recursive: true, force: true });
    }
  },
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

export const MIB = 1024 * 1024;
/** JS heap + ArrayBuffers (peak, polled over CDP) + WebAssembly memory (SQLite's page cache, in-memory databases). */
export function memorySample(group: string, target: string, m: MemorySample, jsPeak: number | null): Sample {
  const value = jsPeak === null ? null : (jsPeak + m.wasm) / MIB;
  return { group, workload: 'peak worker memory (JS + buffers + wasm)', target, unit: 'MiB', value, detail: { jsPeak, wasm: m.wasm } };
}


/** Each phase of an open (bench/pages/peers-worker.ts `OpenPhases`): ms since the previous mark, in mark order. */
export function phaseDurations(p: OpenPhases): Record<string, number> {
  const out: Record<string, number> = {};
  let last = 0;
  for (const [name, at] of p.marks) {
    out[name] = Math.round((at - last) * 10) / 10;
    last = at;
  }
  return out;
}
