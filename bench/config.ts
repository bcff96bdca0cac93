// Benchmark sizes, from the environment. Full run: `npm run bench`. Quick run while developing:
// `SCION_BENCH_QUICK=1 npm run bench` (5 MB dataset, 3 runs, a fifth of the OLTP work), whose results go to
// bench/.data/ so they never replace the committed bench/results.json.
import { fileURLToPath } from 'node:url';
import type { OltpOptions } from './workloads.ts';

const QUICK = process.env.SCION_BENCH_QUICK === '1';

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  return positiveIntOf(name, raw);
}

function positiveIntOf(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

const ops = positiveInt('SCION_BENCH_OPS', QUICK ? 2_000 : 10_000);
// The target is 10,000 single-row update transactions. opfs-sahpool (synchronous=FULL) spends ~10 ms on each on
// this machine: 10,000 × 5 runs would be ~9 minutes for that one row, so the full run does 2,000 (the per-update
// cost, hence the ratio, does not depend on the count). SCION_BENCH_UPDATES=10000 runs the target's number.
const updates = positiveInt('SCION_BENCH_UPDATES', QUICK ? 400 : 2_000);

export const BENCH = {
  quick: QUICK,
  /** Interleaved runs per target; each row reports their median and min–max. */
  runs: positiveInt('SCION_BENCH_RUNS', QUICK ? 3 : 5),
  /** Size of the generated issue-tracker database (bench/dataset.ts), in MB (10⁶ bytes); the file is at least this. */
  datasetMb: positiveInt('SCION_BENCH_DATASET_MB', QUICK ? 5 : 50),
  /** Storage over time: commits after which the store is measured (the goal rows name 1k / 20k / 200k; 200k takes long). */
  storageSteps: (process.env.SCION_BENCH_STORAGE_COMMITS ?? (QUICK ? '1000,5000' : '1000,20000')).split(',').map((n) => positiveIntOf('SCION_BENCH_STORAGE_COMMITS', n)),
  /** Size of the database imported and reopened in the storage group, in MB (SCION_BENCH_IMPORT_MB=1000 for 1 GB). */
  importMb: positiveInt('SCION_BENCH_IMPORT_MB', QUICK ? 20 : 200),
  oltp: {
    rows: positiveInt('SCION_BENCH_ROWS', QUICK ? 20_000 : 100_000),
    batch: 1_000,
    ops,
    updates,
    scans: Math.max(1, Math.floor(ops / 10)),
    scanRows: 100,
    seed: 7,
  } satisfies OltpOptions,
  /** Changed pages per timed push (push/pull group); quick: 1,000 at most, a 10,000-page push takes ~30 s on the 10 Mbit/s link. */
  pushPages: process.env.SCION_BENCH_PUSH_PAGES ? process.env.SCION_BENCH_PUSH_PAGES.split(',').map((n) => positiveIntOf('SCION_BENCH_PUSH_PAGES', n)) : QUICK ? [1, 100, 1_000] : [1, 100, 10_000],
  /** Steps of the peers bench to run (`oltp`, `open`, `cold`, `push`); all when unset. */
  peersSteps: process.env.SCION_BENCH_PEERS_STEPS?.split(',').map((t) => t.trim()).filter(Boolean),
  /** Interleaved runs of the speed suite (bench/speed-suite.ts) per target. */
  suiteRuns: positiveInt('SCION_BENCH_SUITE_RUNS', QUICK ? 1 : 3),
  /** Runs of the remote groups on each shaped network (bench/netem-proxy.ts); loopback gets `runs`. */
  networkRuns: positiveInt('SCION_BENCH_NETWORK_RUNS', QUICK ? 1 : 3),
  /** Networks to run the remote groups on, by name prefix (`loopback,50 ms`); all when unset. */
  networks: process.env.SCION_BENCH_NETWORKS?.split(',').map((t) => t.trim()).filter(Boolean),
  /** Cold queries to run (`point,range`; bench/queries.ts names); all four when unset. */
  queries: process.env.SCION_BENCH_QUERIES?.split(',').map((t) => t.trim()).filter(Boolean),
  /** Target ids (bench/targets/index.ts) to run, e.g. `SCION_BENCH_TARGETS=sahpool,scion`; all when unset. */
  targets: process.env.SCION_BENCH_TARGETS?.split(',').map((t) => t.trim()).filter(Boolean),
  resultsPath: fileURLToPath(new URL(QUICK ? './.data/results.quick.json' : './results.json', import.meta.url)),
} as const;
