// Open-to-first-query of an existing database, Scion against opfs-sahpool, several interleaved runs, each in a
// new worker, with where the time went: every `performance.mark` set inside the timed span (the targets mark
// their phases: store, catalog, runtime, VFS, connection; then the first query). The database is the dataset
// (SCION_BENCH_IMPORT_MB, default 200) imported once per target, untimed. Assertions check the query's rows only.
// Saves the `open` section of bench/results.json.
import { loadavg } from 'node:os';
import { expect } from '@playwright/test';
import { BENCH_STORAGE, interleave, phaseDurations, test } from './bench-fixtures.ts';
import { BENCH } from './config.ts';
import { ensureFirstQuery } from './dataset.ts';
import { saveSection, summarize, type Sample } from './report.ts';

const GROUP = 'storage over time';
const DB = 'opened.db';
const TARGETS = [
  { id: 'sahpool', name: 'opfs-sahpool' },
  { id: 'scion', name: 'Scion' },
] as const;

test(`open: open-to-first-query of a ${BENCH.importMb} MB database, ${BENCH.runs} runs, with its phases`, async ({ bench, page }) => {
  test.setTimeout(60 * 60_000);
  const loadStart = loadavg();
  const { dataset, first, size } = await ensureFirstQuery(BENCH.importMb);
  const samples: Sample[] = [];
  const open = async (t: (typeof TARGETS)[number], run: number): Promise<void> => {
    const opened = await bench({ kind: 'openExisting', target: t.id, dbName: DB, query: first });
    expect(opened.fingerprint, `${t.name} first query`).toBe(first.expected);
    const phases = phaseDurations(opened.phases);
    console.log(`run ${run} ${t.name}: ${opened.ms.toFixed(1)} ms (boot ${opened.phases.boot.toFixed(0)} ms) ${JSON.stringify(phases)}`);
    samples.push({ group: GROUP, workload: `open-to-first-query, existing ${size}`, target: t.name, unit: 'ms', value: opened.ms, detail: { ...phases, boot: opened.phases.boot } });
  };
  // This browser profile's quota is a share of memory: two copies of a 1 GB database (and Scion's staging
  // during its import) do not fit, so then each target's runs go in a block, its database deleted after.
  const { quota } = await page.evaluate(() => navigator.storage.estimate());
  const interleaved = (quota ?? 0) >= 3 * TARGETS.length * dataset.bytes;
  console.log(`quota ${((quota ?? 0) / 1e9).toFixed(1)} GB: ${interleaved ? 'runs interleaved' : "each target's runs in a block"}`);
  if (interleaved) {
    for (const t of TARGETS) await bench({ kind: 'prepareExisting', target: t.id, dbName: DB, datasetUrl: dataset.urlPath });
    for (let run = 1; run <= BENCH.runs; run++) for (const t of interleave([...TARGETS], run)) await open(t, run);
    for (const t of TARGETS) await bench({ kind: 'cleanup', target: t.id });
  } else {
    for (const t of TARGETS) {
      await bench({ kind: 'prepareExisting', target: t.id, dbName: DB, datasetUrl: dataset.urlPath });
      for (let run = 1; run <= BENCH.runs; run++) await open(t, run);
      await bench({ kind: 'cleanup', target: t.id });
    }
  }
  const userAgent = await page.evaluate(() => navigator.userAgent);
  saveSection(BENCH.resultsPath, BENCH.importMb === 200 ? 'open' : `open-${BENCH.importMb}mb`, {
    date: new Date().toISOString(),
    config: { runs: BENCH.runs, interleaved, opfs: BENCH_STORAGE, datasetBytes: dataset.bytes, userAgent, loadAverage: { start: loadStart, end: loadavg() } },
    rows: summarize(samples),
    samples,
  }, userAgent);
});
