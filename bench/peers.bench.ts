// Scion's peers side by side: local OLTP (opfs-sahpool, :memory:) and cold reads of a remote issue-
// tracker database (whole-file download, HTTP range-read VFS with and without read-ahead). Every target listed
// in bench/targets/index.ts takes part in the groups whose methods it implements; Scion's target plugs in there.
// Each job runs in a new worker; runs are interleaved, alternating the target order. Assertions check results
// (row counts, query fingerprints), never time. Saves the `peers` section of bench/results.json.
import { loadavg } from 'node:os';
import { BENCH_STORAGE, expect, interleave, memorySample, test } from './bench-fixtures.ts';
import { BENCH } from './config.ts';
import { ensureDataset, type DatasetInfo } from './dataset.ts';
import type { ColdTimeline, TargetInfo } from './pages/peers-worker.ts';
import type { QuerySpec } from './queries.ts';
import { saveSection, summarize, type Sample } from './report.ts';
import type { BenchConfig, BenchNetwork } from './serve.ts';
import { expectedOltpChecks } from './workloads.ts';

const EXISTING_DB = 'existing.db';

/** `mark@ms` and `kind[start–end]` in time order: where a cold query's time went. */
function formatTimeline(t: ColdTimeline): string {
  const events: [number, string][] = [
    ...t.marks.map(([name, at]): [number, string] => [at, `${name}@${at.toFixed(0)}`]),
    ...t.spans.map((x): [number, string] => [x.start, `${x.kind}[${x.start.toFixed(0)}–${x.end.toFixed(0)}]`]),
  ];
  return events.sort((a, b) => a[0] - b[0]).map(([, s]) => s).join(' ');
}

function queriesOf(dataset: DatasetInfo, names: string[]): Record<string, QuerySpec> {
  return Object.fromEntries(names.flatMap((n) => {
    const q = dataset.queries[n as keyof DatasetInfo['queries']];
    return q ? [[n, { label: q.label, sql: q.sql, bind: q.bind }]] : [];
  }));
}

test('peers: local OLTP, open-to-first-query, cold remote reads', async ({ bench, heap, page }) => {
  test.setTimeout(60 * 60_000);
  // Other work on the machine skews absolute times: the results record the load average around the run.
  const loadStart = loadavg();
  const { runs, oltp } = BENCH;
  const dataset = await ensureDataset(BENCH.datasetMb);
  const targets = (await bench({ kind: 'describe' })).filter((t) => (BENCH.targets ? BENCH.targets.includes(t.id) : !t.optIn));
  const served = (await page.evaluate(() => fetch('/scion-config.json').then((r) => r.json()))) as BenchConfig;
  const networks = served.networks.filter((n) => !BENCH.networks || BENCH.networks.some((want) => n.name.startsWith(want)));
  /** Runs per network: shaped links are slow (a 150 ms RTT per request), so they get fewer. */
  const runsOn = (n: BenchNetwork): number => (n.rttMs === 0 ? runs : BENCH.networkRuns);
  const ref = (n: BenchNetwork) => ({ name: n.name, presignUrl: n.presignUrl });
  const samples: Sample[] = [];
  const oltpChecks = expectedOltpChecks(oltp);
  const k = (n: number): string => n.toLocaleString('en');
  const runsStep = (step: string): boolean => !BENCH.peersSteps || BENCH.peersSteps.includes(step);
  /** Publishes the dataset for the remote targets (the cold reads read it; the push/pull workloads take their pages from it). */
  const prepareRemotes = async () => {
    const published = { url: dataset.urlPath, bytes: dataset.bytes, network: ref(served.networks[0] as BenchNetwork) };
    for (const t of targets.filter((x) => x.remote && x.prepareRemote)) await bench({ kind: 'prepareRemote', target: t.id, dataset: published });
  };

  if (runsStep('oltp')) await test.step('local OLTP', async () => {
    const local = targets.filter((t) => t.local);
    for (let run = 1; run <= runs; run++) {
      for (const t of interleave(local, run)) {
        heap.reset();
        const r = await bench({ kind: 'oltp', target: t.id, options: oltp });
        const group = 'local OLTP';
        for (const [key, workload] of [
          ['insert', `create + insert ${k(oltp.rows)} rows, ${k(oltp.batch)}/txn`],
          ['pointSelect', `${k(oltp.ops)} point selects by key`],
          ['rangeScan', `${k(oltp.scans)} range scans of ${oltp.scanRows} rows`],
          ['update', `${k(oltp.updates)} single-row updates, 1 txn each`],
        ] as const) {
          expect(r[key].check, `${t.name} run ${run}: ${key} check`).toBe(oltpChecks[key]);
          samples.push({ group, workload, target: t.name, unit: 'ms', value: r[key].ms });
        }
        samples.push(memorySample(group, t.name, r.memory, heap.peak()));
      }
    }
  });

  if (runsStep('open')) await test.step('open-to-first-query of the existing dataset', async () => {
    const existing = targets.filter((t) => t.existing);
    const first = dataset.queries.first;
    if (!first) throw new Error('BUG: the dataset has no first query');
    for (const t of existing) await bench({ kind: 'prepareExisting', target: t.id, dbName: EXISTING_DB, datasetUrl: dataset.urlPath });
    const workload = `open-to-first-query, ${(dataset.bytes / 1e6).toFixed(0)} MB database`;
    for (let run = 1; run <= runs; run++) {
      for (const t of interleave(existing, run)) {
        const r = await bench({ kind: 'openExisting', target: t.id, dbName: EXISTING_DB, query: first });
        expect(r.fingerprint, `${t.name} run ${run}: first query result`).toBe(first.expected);
        samples.push({ group: 'local OLTP', workload, target: t.name, unit: 'ms', value: r.ms });
      }
    }
    // Targets without persistence still get a row, so the table says why there is no number.
    for (const t of targets.filter((x) => x.local && !x.existing)) {
      samples.push({ group: 'local OLTP', workload, target: t.name, unit: 'ms', value: null });
    }
  });

  if (runsStep('cold')) await test.step('cold reads of the remote dataset', async () => {
    const remote = targets.filter((t) => t.remote);
    const names = ['point', 'range', 'listing', 'fts'].filter((n) => !BENCH.queries || BENCH.queries.includes(n));
    const queries = queriesOf(dataset, names);
    const loopback = served.networks[0] as BenchNetwork;
    await prepareRemotes();
    for (const network of networks) {
      const remoteDataset = { url: `${network.webOrigin}${dataset.urlPath}`, bytes: dataset.bytes, network: ref(network) };
      for (let run = 1; run <= runsOn(network); run++) {
        for (const t of interleave(remote, run)) {
          heap.reset();
          const r = await bench({ kind: 'cold', target: t.id, dataset: remoteDataset, queries });
          for (const [name, spec] of Object.entries(queries)) {
            const q = r.queries[name];
            expect(q?.fingerprint, `${t.name} on ${network.name} run ${run}: ${name} result`).toBe(dataset.queries[name as 'point']?.expected);
            if (!q) continue;
            const presignKib = q.presignBytes ? `, presign answers ${(q.presignBytes / 1024).toFixed(0)} KiB` : '';
            console.log(`${t.name} on ${network.name} run ${run}, ${name}: ${q.ms.toFixed(0)} ms${presignKib}: ${formatTimeline(q.timeline)}`);
            samples.push({
              group: 'cold read', network: network.name, workload: `${spec.label}: time to result`, target: t.name, unit: 'ms', value: q.ms,
              requests: q.requests, ...(q.roundTrips === undefined ? {} : { roundTrips: q.roundTrips }), bytes: q.bytes,
              detail: {
                networkWaitMs: q.waitMs ?? null, presignRequests: q.presignRequests ?? null, presignBytes: q.presignBytes ?? null, run,
                ...(q.byKind ? { commitRequests: q.byKind.commit, latestRequests: q.byKind.latest, segmentRequests: q.byKind.segment } : {}),
              },
            });
          }
          // Memory does not depend on the link: once, on loopback.
          if (network === loopback) samples.push(memorySample('cold read', t.name, r.memory, heap.peak()));
        }
      }
    }
  });

  if (runsStep('push')) await test.step('target-only workloads (push/pull)', async () => {
    if (!runsStep('cold')) await prepareRemotes();
    for (const network of networks) {
      for (const t of targets.filter((x) => x.extra)) {
        for (let run = 1; run <= runsOn(network); run++) {
          const extra = await bench({ kind: 'extra', target: t.id, run, network: ref(network), options: { pushPages: BENCH.pushPages } });
          samples.push(...extra.map((x) => ({ ...x, network: network.name })));
        }
      }
    }
  });

  for (const t of targets) await bench({ kind: 'cleanup', target: t.id });

  const userAgent = await page.evaluate(() => navigator.userAgent);
  const { queries: _q, ...datasetInfo } = dataset;
  saveSection(BENCH.resultsPath, 'peers', {
    date: new Date().toISOString(),
    config: {
      runs, opfs: BENCH_STORAGE, networkRuns: BENCH.networkRuns, networks: networks.map((n) => n.name), quick: BENCH.quick, oltp, dataset: datasetInfo, targets: targets.map((t: TargetInfo) => t.name), userAgent,
      loadAverage: { start: loadStart, end: loadavg() },
    },
    rows: summarize(samples),
    samples,
  }, userAgent);
});

