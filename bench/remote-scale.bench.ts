// The remote at scale: a volume of 100,000 single-page commits (SCION_BENCH_COMMITS; 5,000
// with SCION_BENCH_QUICK) written straight into radosgw, cloned by new devices before and after remote
// GC with retention (keep the last 1,000 LSNs, pruning the commit records below), then after the remote
// compactor merged the live pages. Runs in Node (no browser): its own radosgw, presign
// service and runtimes (e2e/scenarios/remote-scale.ts). Saves the `remote-scale` section of
// bench/results.json. Assertions check data and request counts, never speed.
import { test, expect } from '@playwright/test';
import { loadavg } from 'node:os';
import { startTestBucket } from '../tools/bucket/index.ts';
import { runRemoteScale } from '../e2e/scenarios/remote-scale.ts';
import { BENCH } from './config.ts';
import { saveRemoteScale } from './remote-scale.ts';

const COMMITS = Number(process.env.SCION_BENCH_COMMITS ?? (BENCH.quick ? 5_000 : 100_000));
const RETAIN = 1_000;
const k = (n: number): string => n.toLocaleString('en');

test(`remote at scale: clone of ${k(COMMITS)} commits before and after remote GC (retain ${k(RETAIN)})`, async () => {
  test.setTimeout(120 * 60_000);
  const loadStart = loadavg();
  // 2 objects per commit; memstore holds them in RAM.
  const bucket = await startTestBucket('radosgw', { memstoreBytes: 2 * 1024 ** 3 });
  try {
    const r = await runRemoteScale({ bucket, commits: COMMITS, pages: 50, retainCommits: Math.min(RETAIN, COMMITS), concurrency: 48, log: console.log });
    expect(r.wrongPages).toBe(0);
    // Hint; checkpoint, next LSN (absent) and compacted index (absent until compacted); one frame.
    expect(r.before.clone.requests).toBe(5);
    expect(r.after.clone.requests).toBe(5);
    expect(r.compacted.clone.requests).toBe(5);
    expect(r.compacted.clone.allPages.requests).toBe(0);
    saveRemoteScale(r, { commits: COMMITS, pages: 50, retain: RETAIN, concurrency: 48 }, loadStart);
  } finally {
    await bucket.stop();
  }
});
