// Local store (Scion's engine without SQLite), OPFS vs memory, measured in the e2e worker
// (e2e/scenarios/local-store-bench.ts). "opfs handle" rows time the same I/O on a bare FileSystemSyncAccessHandle,
// for comparison. Saves the `local-store` section of bench/results.json. Assertions check data, never speed.
import { loadavg } from 'node:os';
import { expect, test } from '../e2e/fixtures.ts';
import type { LocalStoreBenchResult, OpfsRawBenchResult } from '../e2e/scenarios/local-store-bench.ts';
import { BENCH } from './config.ts';
import { saveSection, summarize, type Sample } from './report.ts';

const RUNS = BENCH.runs;
const PAGES = 10_000;
const COMMITS = 1_000;
const MEDIA = ['opfs', 'memory'] as const;
const GROUP = 'local store (engine, no SQLite)';

interface Metric<R> {
  name: string;
  value: (r: R) => number;
}

const n = (x: number): string => x.toLocaleString('en');
// Times in ms for the stated amount of work, as in the other groups (lower is better, × ref reads the same way).
const METRICS: Metric<LocalStoreBenchResult>[] = [
  { name: `write ${n(PAGES)} pages, one commit`, value: (r) => r.writeMs },
  { name: `read ${n(PAGES)} pages after reopen`, value: (r) => r.readMs },
  { name: `${n(COMMITS)} commits of 1 page`, value: (r) => r.commitsMs },
  { name: `reopen after the ${n(PAGES)}-page commit`, value: (r) => r.reopenMs },
];
// The same I/O on a bare sync access handle: the floor under OpfsStore's numbers.
const RAW_METRICS: Metric<OpfsRawBenchResult>[] = [
  { name: `write ${n(PAGES)} pages in one call, flush`, value: (r) => r.writeMs },
  { name: `read ${n(PAGES)} pages, one call each`, value: (r) => r.readPagesMs },
  { name: `read ${n(PAGES)} pages in 1 MiB calls`, value: (r) => r.readChunksMs },
  { name: `${n(COMMITS)} appends of 1 page + flush`, value: (r) => r.appendFlushMs },
];

test(`local store: ${PAGES} pages in one commit, read back, ${COMMITS} one-page commits (OPFS vs memory)`, async ({ scion, page }) => {
  const loadStart = loadavg(); // other work on the machine skews absolute times
  await scion.run('wipeOpfs');
  const runs: (LocalStoreBenchResult & { run: number })[] = [];
  const rawRuns: (OpfsRawBenchResult & { run: number })[] = [];
  for (let run = 1; run <= RUNS; run++) {
    rawRuns.push({ run, ...(await scion.run('benchOpfsRaw', { pages: PAGES, flushes: COMMITS })) });
    // Interleaved, alternating which store goes first, so drift (GC, disk cache) hits both alike.
    const order = run % 2 === 1 ? MEDIA : [...MEDIA].reverse();
    for (const medium of order) {
      const result = await scion.run('benchLocalStore', { medium, pages: PAGES, commits: COMMITS });
      expect(result.readMismatches, `${medium} run ${run} read back wrong pages`).toBe(0);
      runs.push({ run, ...result });
    }
  }

  const samples: Sample[] = [
    ...MEDIA.flatMap((medium) => METRICS.flatMap((m) =>
      runs.filter((r) => r.medium === medium).map((r) => ({ group: GROUP, workload: m.name, target: medium, unit: 'ms', value: m.value(r) })))),
    ...RAW_METRICS.flatMap((m) => rawRuns.map((r) => ({ group: GROUP, workload: m.name, target: 'opfs handle', unit: 'ms', value: m.value(r) }))),
  ];
  const userAgent = await page.evaluate(() => navigator.userAgent);
  saveSection(BENCH.resultsPath, 'local-store', {
    date: new Date().toISOString(),
    config: { runs: RUNS, pages: PAGES, commits: COMMITS, userAgent, loadAverage: { start: loadStart, end: loadavg() } },
    rows: summarize(samples),
    samples: [...runs, ...rawRuns],
  }, userAgent);
});
