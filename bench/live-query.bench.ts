// Live queries (db.watch): the time from a commit to the watch callbacks that deliver its row, for 1, 10
// and 100 watchers of the table (each its own query, and 100 of one shared query), and what watchers of another table add to a commit (none re-runs).
// Real DB worker on OPFS in Chromium (bench/pages/live-query.html). Saves the `live-query` section of
// bench/results.json. Assertions check the deliveries, never speed.
import { loadavg } from 'node:os';
import { expect, test } from '@playwright/test';
import type { LiveQueryJob, LiveQueryResult } from './pages/live-query-page.ts';
import { BENCH } from './config.ts';
import { saveSection, summarize, type Sample } from './report.ts';

const RUNS = BENCH.runs;
const COMMITS = BENCH.quick ? 30 : 100;
const GROUP = 'live query';
const WATCHERS = [1, 10, 100];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const p95 = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))] as number;

test(`live queries: commit → watch callback with ${WATCHERS.join(', ')} watchers; unrelated commits re-run none`, async ({ page }) => {
  const loadStart = loadavg();
  page.on('pageerror', (e) => console.error(`[browser pageerror] ${e.message}`));
  await page.goto('/bench/pages/live-query.html');
  await page.waitForFunction(() => window.liveQueryBench !== undefined);
  const job = (j: LiveQueryJob): Promise<LiveQueryResult> => page.evaluate((x) => window.liveQueryBench.run(x), j);
  const samples: Sample[] = [];
  const sample = (workload: string, target: string, values: number[]) =>
    samples.push({ group: GROUP, workload, target, unit: 'ms', value: median(values), detail: { p95: p95(values), commits: values.length } });
  const raw: unknown[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const base = await job({ watchers: 0, commits: COMMITS, unrelated: false, sameQuery: false });
    sample('commit of one row (exec)', 'no watchers', base.execMs);
    for (const watchers of WATCHERS) {
      const r = await job({ watchers, commits: COMMITS, unrelated: false, sameQuery: false });
      expect(r.reruns, `${watchers} watchers: one delivery each per commit`).toBe(watchers * COMMITS);
      expect(r.lastMs).toHaveLength(COMMITS);
      sample('commit → first watch callback', `${watchers} watcher${watchers === 1 ? '' : 's'}`, r.firstMs);
      sample('commit → last watch callback', `${watchers} watcher${watchers === 1 ? '' : 's'}`, r.lastMs);
      sample('commit of one row (exec)', `${watchers} watcher${watchers === 1 ? '' : 's'} of it`, r.execMs);
      raw.push({ run, watchers, reruns: r.reruns, execMedianMs: median(r.execMs), firstMedianMs: median(r.firstMs), lastMedianMs: median(r.lastMs) });
    }
    const shared = await job({ watchers: 100, commits: COMMITS, unrelated: false, sameQuery: true });
    expect(shared.reruns, '100 watchers of one query: one delivery each per commit').toBe(100 * COMMITS);
    sample('commit → first watch callback', '100 watchers of one query', shared.firstMs);
    sample('commit → last watch callback', '100 watchers of one query', shared.lastMs);
    sample('commit of one row (exec)', '100 watchers of one query', shared.execMs);
    raw.push({ run, watchers: 100, sameQuery: true, reruns: shared.reruns, execMedianMs: median(shared.execMs), firstMedianMs: median(shared.firstMs), lastMedianMs: median(shared.lastMs) });
    const unrelated = await job({ watchers: 100, commits: COMMITS, unrelated: true, sameQuery: false });
    expect(unrelated.reruns, 'a commit to another table re-ran a watcher').toBe(0);
    sample('commit of one row (exec)', '100 watchers of another table', unrelated.execMs);
  }
  const userAgent = await page.evaluate(() => navigator.userAgent);
  saveSection(BENCH.resultsPath, 'live-query', {
    date: new Date().toISOString(),
    config: { runs: RUNS, commits: COMMITS, userAgent, loadAverage: { start: loadStart, end: loadavg() } },
    rows: summarize(samples),
    samples: raw,
  }, userAgent);
});
