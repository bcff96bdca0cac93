// The remote at scale (issue 13): a volume of 100,000 single-page commits (SCION_BENCH_COMMITS; 5,000
// with SCION_BENCH_QUICK) written straight into radosgw, cloned by new devices before and after remote
// GC with retention (keep the last 1,000 LSNs). Runs in Node (no browser): its own radosgw, presign
// service and runtimes (e2e/scenarios/remote-scale.ts). Saves the `remote-scale` section of
// bench/results.json. Assertions check data and request counts, never speed.
import { test, expect } from '@playwright/test';
import { loadavg } from 'node:os';
import { startTestBucket } from '../e2e/bucket/index.ts';
import { runRemoteScale } from '../e2e/scenarios/remote-scale.ts';
import { BENCH } from './config.ts';
import { saveSection, summarize, type Sample } from './report.ts';

const COMMITS = Number(process.env.SCION_BENCH_COMMITS ?? (BENCH.quick ? 5_000 : 100_000));
const RETAIN = 1_000;
const GROUP = 'remote at scale';
const k = (n: number): string => n.toLocaleString('en');

test(`remote at scale: clone of ${k(COMMITS)} commits before and after remote GC (retain ${k(RETAIN)})`, async () => {
  test.setTimeout(120 * 60_000);
  const loadStart = loadavg();
  // 2 objects per commit; memstore holds them in RAM.
  const bucket = await startTestBucket('radosgw', { memstoreBytes: 2 * 1024 ** 3 });
  try {
    const r = await runRemoteScale({ bucket, commits: COMMITS, pages: 50, retainCommits: Math.min(RETAIN, COMMITS), concurrency: 48, log: console.log });
    expect(r.wrongPages).toBe(0);
    expect(r.before.clone.requests).toBe(4);
    expect(r.after.clone.requests).toBe(4);
    const target = 'Scion on radosgw';
    const row = (workload: string, unit: string, value: number, extra: Partial<Sample> = {}): Sample => ({ group: GROUP, workload, target, unit, value, ...extra });
    const samples: Sample[] = [
      row(`build ${k(COMMITS)} commits (2 PUTs each, 48 at a time)`, 's', r.buildMs / 1000),
      row('clone to first page, before GC', 'ms', r.before.clone.ms, { requests: r.before.clone.requests }),
      row('clone to first page, after GC', 'ms', r.after.clone.ms, { requests: r.after.clone.requests }),
      row('remote objects before GC', 'objects', r.before.objects),
      row('remote objects after GC', 'objects', r.after.objects),
      row('remote bytes before GC', 'KiB', r.before.bytes / 1024, { bytes: r.before.bytes }),
      row('remote bytes after GC', 'KiB', r.after.bytes / 1024, { bytes: r.after.bytes }),
      row(`remote GC (retain ${k(RETAIN)} LSNs)`, 's', r.gc.ms / 1000, { detail: { segmentsDeleted: r.gc.segmentsDeleted, bytesDeleted: r.gc.bytesDeleted } }),
      row(`retained LSNs read right on a new device`, 'LSNs', r.lsnsChecked),
    ];
    saveSection(BENCH.resultsPath, 'remote-scale', {
      date: new Date().toISOString(),
      config: { commits: COMMITS, pages: 50, retain: RETAIN, loadAverage: { start: loadStart, end: loadavg() } },
      rows: summarize(samples),
      samples: [r],
    });
  } finally {
    await bucket.stop();
  }
});
