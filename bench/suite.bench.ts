// The standard suite: SQLite's 16 speed-comparison tests as wa-sqlite's benchmark page runs them
// (bench/speed-suite.ts), on every target that can open a local database — Scion, opfs-sahpool, :memory: — and
// wa-sqlite's VFSes from its npm package. One job per run and target, each in a new worker, interleaved.
// Assertions check that every target ends with the same rows, never time. Saves the `speed-suite` section.
import { loadavg } from 'node:os';
import { BENCH_STORAGE, expect, interleave, test } from './bench-fixtures.ts';
import { BENCH } from './config.ts';
import { saveSection, summarize, type Sample } from './report.ts';
import { speedSuite } from './speed-suite.ts';

const GROUP = 'speed suite (wa-sqlite)';
const LABELS = speedSuite().map((t) => t.label);

test("speed suite: SQLite's 16 speed-comparison tests (wa-sqlite's benchmark)", async ({ bench, page }) => {
  test.setTimeout(60 * 60_000);
  const loadStart = loadavg(); // other work on the machine skews absolute times
  const targets = (await bench({ kind: 'describe' })).filter((t) => t.suite && (BENCH.targets ? BENCH.targets.includes(t.id) : !t.optIn));
  const samples: Sample[] = [];
  let check: string | undefined;
  for (let run = 1; run <= BENCH.suiteRuns; run++) {
    for (const t of interleave(targets, run)) {
      const r = await bench({ kind: 'suite', target: t.id });
      check ??= r.check;
      expect(r.check, `${t.name} run ${run}: rows in t1, t2, t3 before DROP TABLE`).toBe(check);
      LABELS.forEach((label, i) => {
        samples.push({ group: GROUP, workload: `test ${i + 1}: ${label}`, target: t.name, unit: 'ms', value: r.ms[i] ?? null });
      });
      samples.push({ group: GROUP, workload: 'all 16 tests', target: t.name, unit: 'ms', value: r.ms.reduce((a, b) => a + b, 0) });
    }
  }
  for (const t of targets) await bench({ kind: 'cleanup', target: t.id });
  const userAgent = await page.evaluate(() => navigator.userAgent);
  saveSection(BENCH.resultsPath, 'speed-suite', {
    date: new Date().toISOString(),
    config: { runs: BENCH.suiteRuns, opfs: BENCH_STORAGE, targets: targets.map((t) => t.name), userAgent, loadAverage: { start: loadStart, end: loadavg() } },
    rows: summarize(samples),
    samples,
  }, userAgent);
});
