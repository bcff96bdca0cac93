// Storage over time: a 1,000-row table, then single-row UPDATE transactions, each its own commit,
// in Scion (engine + VFS, automatic local GC as the DB worker runs it) and opfs-sahpool side by side. After each
// step: the bytes the target keeps in OPFS, open-to-first-query in a new worker, and that worker's peak memory.
// Assertions check data (row count and sum), never speed or size. Saves the `storage` section of bench/results.json.
import { loadavg } from 'node:os';
import { expect } from '@playwright/test';
import { BENCH_STORAGE, memorySample, MIB, phaseDurations, test } from './bench-fixtures.ts';
import { BENCH } from './config.ts';
import { ensureDataset } from './dataset.ts';
import { saveSection, summarize, type Sample } from './report.ts';

const GROUP = 'storage over time';
const ROWS = 1_000;
/** Commits after which the store is measured; each step adds commits to the same database. */
const STEPS = BENCH.storageSteps;
/** SCION_BENCH_TARGETS=scion runs Scion alone (sahpool takes ~15 ms a commit: 200,000 commits are ~50 minutes). */
const TARGETS = ([
  { id: 'sahpool', name: 'opfs-sahpool' },
  { id: 'scion', name: 'Scion' },
] as const).filter((t) => !BENCH.targets || BENCH.targets.includes(t.id));
const k = (n: number): string => n.toLocaleString('en');

test(`storage over time: OPFS bytes, reopen and memory after ${STEPS.map(k).join(' / ')} single-row commits`, async ({ bench, heap, page }) => {
  test.setTimeout(60 * 60_000);
  const loadStart = loadavg();
  const samples: Sample[] = [];
  for (const t of TARGETS) {
    let done = 0;
    for (const step of STEPS) {
      const grown = await bench({ kind: 'storageGrow', target: t.id, fresh: done === 0, rows: ROWS, commits: step - done });
      done = step;
      const after = `after ${k(step)} commits`;
      samples.push(
        { group: GROUP, workload: `OPFS bytes ${after}`, target: t.name, unit: 'MiB', value: grown.bytes / MIB, detail: { bytes: grown.bytes } },
        { group: GROUP, workload: `time per commit (${k(step)})`, target: t.name, unit: 'ms', value: grown.ms / (step - (STEPS[STEPS.indexOf(step) - 1] ?? 0)) },
      );
      // Each reopen is a new worker; the first follows the writes at once, the others are app restarts.
      for (let run = 0; run < BENCH.runs; run++) {
        heap.reset();
        const reopened = await bench({ kind: 'storageReopen', target: t.id });
        // Every UPDATE added 1 to one row: the sum is the commit count.
        expect(reopened.fingerprint, `${t.name} after ${step} commits`).toBe(`${ROWS},${step}`);
        samples.push(
          { group: GROUP, workload: `open-to-first-query ${after}`, target: t.name, unit: 'ms', value: reopened.ms, detail: { run, ...phaseDurations(reopened.phases) } },
          { ...memorySample(GROUP, t.name, reopened.memory, heap.peak()), workload: `reopened worker memory ${after}` },
        );
      }
    }
    await bench({ kind: 'cleanup', target: t.id });
  }
  const userAgent = await page.evaluate(() => navigator.userAgent);
  saveSection(BENCH.resultsPath, 'storage', {
    date: new Date().toISOString(),
    config: { runs: 1, reopens: BENCH.runs, opfs: BENCH_STORAGE, rows: ROWS, steps: [...STEPS], userAgent, loadAverage: { start: loadStart, end: loadavg() } },
    rows: summarize(samples),
    samples,
  }, userAgent);
});

const IMPORT_DB = 'imported.db';
/** Targets that push (the first push of the imported database). */
const PUSHES: ReadonlySet<string> = new Set(['scion']);

// Import of a plain SQLite file (downloaded into the worker, as an app would), then open-to-first-query of it in
// a new worker, then (Scion) its first push to the bench bucket in another: time, peak worker memory, OPFS bytes.
test(`storage: import, reopen and push a ${BENCH.importMb} MB database (time, peak worker memory, OPFS bytes)`, async ({ bench, heap, page }) => {
  test.setTimeout(60 * 60_000);
  const loadStart = loadavg();
  const dataset = await ensureDataset(BENCH.importMb);
  const first = dataset.queries.first;
  if (!first) throw new Error('BUG: the dataset has no first query');
  const size = `${(dataset.bytes / 1e6).toFixed(0)} MB database`;
  const samples: Sample[] = [];
  const load = (): Record<string, number> => ({ load1: Math.round((loadavg()[0] ?? 0) * 10) / 10 });
  for (const t of TARGETS) {
    heap.reset();
    const imported = await bench({ kind: 'prepareExisting', target: t.id, dbName: IMPORT_DB, datasetUrl: dataset.urlPath });
    samples.push(
      { group: GROUP, workload: `import a ${size}`, target: t.name, unit: 'ms', value: imported.ms, detail: { ...load(), ...phaseDurations(imported.phases) } },
      { ...memorySample(GROUP, t.name, imported.memory, heap.peak()), workload: `peak worker memory, import of a ${size}` },
    );
    if (imported.bytes !== null) samples.push({ group: GROUP, workload: `OPFS bytes, imported ${size}`, target: t.name, unit: 'MiB', value: imported.bytes / MIB, detail: { bytes: imported.bytes } });
    heap.reset();
    const reopened = await bench({ kind: 'openExisting', target: t.id, dbName: IMPORT_DB, query: first });
    expect(reopened.fingerprint, `${t.name} first query`).toBe(first.expected);
    const steady = memorySample(GROUP, t.name, reopened.memory, heap.peak());
    samples.push(
      { group: GROUP, workload: `open-to-first-query, imported ${size}`, target: t.name, unit: 'ms', value: reopened.ms, detail: load() },
      { ...steady, workload: `peak worker memory, reopen of the imported ${size}` },
    );
    if (PUSHES.has(t.id)) await measurePush(t, size, steady, dataset.bytes / dataset.pageSize);
    // This profile's quota is a share of memory: a 1 GB database of one target must go before the next imports its own.
    await bench({ kind: 'cleanup', target: t.id });
  }
  async function measurePush(t: (typeof TARGETS)[number], size: string, steady: Sample, pages: number): Promise<void> {
    heap.reset();
    const pushed = await bench({ kind: 'pushExisting', target: t.id, dbName: IMPORT_DB });
    expect(pushed.pages, `${t.name} pushed every page`).toBe(pages);
    const pushPeak = memorySample(GROUP, t.name, pushed.memory, heap.peak());
    samples.push(
      { group: GROUP, workload: `first push of the imported ${size}`, target: t.name, unit: 'ms', value: pushed.ms, bytes: pushed.uploadedBytes, detail: load() },
      { ...pushPeak, workload: `peak worker memory, first push of the ${size}` },
      // Above the reopened worker's peak (open and first query): what the push itself holds.
      { group: GROUP, workload: `peak worker memory above the reopened worker, first push of the ${size}`, target: t.name, unit: 'MiB',
        value: pushPeak.value === null || steady.value === null ? null : pushPeak.value - steady.value },
      { group: GROUP, workload: `OPFS bytes before the first push of the ${size}`, target: t.name, unit: 'MiB', value: pushed.opfsBefore / MIB, detail: { bytes: pushed.opfsBefore } },
      { group: GROUP, workload: `OPFS bytes after the first push of the ${size}`, target: t.name, unit: 'MiB', value: pushed.opfsAfter / MIB,
        detail: { bytes: pushed.opfsAfter, ratio: pushed.opfsAfter / pushed.opfsBefore } },
    );
  }
  const userAgent = await page.evaluate(() => navigator.userAgent);
  // One section per size: a 1 GB run does not replace the 200 MB one.
  saveSection(BENCH.resultsPath, BENCH.importMb === 200 ? 'storage-import' : `storage-import-${BENCH.importMb}mb`, {
    date: new Date().toISOString(),
    config: { runs: 1, opfs: BENCH_STORAGE, datasetBytes: dataset.bytes, userAgent, loadAverage: { start: loadStart, end: loadavg() } },
    rows: summarize(samples),
    samples,
  }, userAgent);
});
