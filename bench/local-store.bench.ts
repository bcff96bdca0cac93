// Local store throughput, OPFS vs memory, measured in the e2e worker (e2e/scenarios/local-store-bench.ts).
// "opfs handle" rows time the same I/O on a bare FileSystemSyncAccessHandle, for comparison.
// Prints a markdown table and writes bench/results.json. No assertions on speed, only on correctness.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from '../e2e/fixtures.ts';
import type { LocalStoreBenchResult, OpfsRawBenchResult } from '../e2e/scenarios/local-store-bench.ts';

const RUNS = 5;
const PAGES = 10_000;
const COMMITS = 1_000;
const MEDIA = ['opfs', 'memory'] as const;
const RESULTS = fileURLToPath(new URL('./results.json', import.meta.url));

interface Metric<R> {
  name: string;
  unit: string;
  value: (r: R) => number;
}

const perSecond = (n: number, ms: number): number => (n * 1000) / ms;
const METRICS: Metric<LocalStoreBenchResult>[] = [
  { name: `write ${PAGES.toLocaleString('en')} pages, one commit`, unit: 'pages/s', value: (r) => perSecond(r.pages, r.writeMs) },
  { name: `read ${PAGES.toLocaleString('en')} pages after reopen`, unit: 'pages/s', value: (r) => perSecond(r.pages, r.readMs) },
  { name: `${COMMITS.toLocaleString('en')} commits of 1 page`, unit: 'commits/s', value: (r) => perSecond(r.commits, r.commitsMs) },
  { name: `reopen after the ${PAGES.toLocaleString('en')}-page commit`, unit: 'ms', value: (r) => r.reopenMs },
];
// The same I/O on a bare sync access handle: the floor under OpfsStore's numbers.
const RAW_METRICS: Metric<OpfsRawBenchResult>[] = [
  { name: `write ${PAGES.toLocaleString('en')} pages in one call, flush`, unit: 'pages/s', value: (r) => perSecond(r.pages, r.writeMs) },
  { name: `read ${PAGES.toLocaleString('en')} pages, one call each`, unit: 'pages/s', value: (r) => perSecond(r.pages, r.readPagesMs) },
  { name: `read ${PAGES.toLocaleString('en')} pages in 1 MiB calls`, unit: 'pages/s', value: (r) => perSecond(r.pages, r.readChunksMs) },
  { name: `${COMMITS.toLocaleString('en')} appends of 1 page + flush`, unit: 'appends/s', value: (r) => perSecond(r.flushes, r.appendFlushMs) },
];

function summarize(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] as number, min: sorted[0] as number, max: sorted.at(-1) as number };
}

const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(1));

test(`local store: ${PAGES} pages in one commit, read back, ${COMMITS} one-page commits (OPFS vs memory)`, async ({ scion, page }) => {
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

  const summary = [
    ...MEDIA.flatMap((medium) =>
      METRICS.map((m) => ({ medium, metric: m.name, unit: m.unit, ...summarize(runs.filter((r) => r.medium === medium).map(m.value)) })),
    ),
    ...RAW_METRICS.map((m) => ({ medium: 'opfs handle', metric: m.name, unit: m.unit, ...summarize(rawRuns.map(m.value)) })),
  ];
  const table = [
    `| Store | Measure | Unit | Median | Min | Max |`,
    `| --- | --- | --- | ---: | ---: | ---: |`,
    ...summary.map((s) => `| ${s.medium} | ${s.metric} | ${s.unit} | ${fmt(s.median)} | ${fmt(s.min)} | ${fmt(s.max)} |`),
  ].join('\n');
  const userAgent = await page.evaluate(() => navigator.userAgent);
  console.log(`\n${RUNS} interleaved runs per store; ${userAgent}\n\n${table}\n`);
  writeFileSync(
    RESULTS,
    `${JSON.stringify({ date: new Date().toISOString(), userAgent, config: { runs: RUNS, pages: PAGES, commits: COMMITS }, summary, runs, rawRuns }, null, 2)}\n`,
  );
});
