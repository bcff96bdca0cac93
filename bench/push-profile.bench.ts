// Where a push's or a cold read's time goes in the browser, with the bench worker's V8 CPU profiler on (over
// CDP). Two pushes: the peers bench's push workload (SCION_BENCH_PUSH_PAGES, default 10,000 pages, on loopback),
// and the first push of an imported SCION_BENCH_IMPORT_MB database (as bench/storage.bench.ts pushes it); and a
// cold point lookup (clone + query). Writes each profile to test-results/bench/<name>.cpuprofile (open it in
// Chrome DevTools → Performance) and prints the functions with the most self and inclusive time. Runs only when
// asked: `SCION_BENCH_PUSH_PROFILE=1 npx playwright test -c bench/bench.config.ts bench/push-profile.bench.ts`
// (`-g first` for the imported database alone), `SCION_BENCH_COLD_PROFILE=1` for the cold lookup,
// `SCION_BENCH_OPEN_PROFILE=1` for the open-to-first-query of an imported database (bench/open.bench.ts's job).
// Nothing is asserted about time.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, test } from './bench-fixtures.ts';
import { BENCH } from './config.ts';
import { ensureDataset, ensureFirstQuery } from './dataset.ts';
import type { Job, JobResult } from './pages/peers-worker.ts';
import type { BenchConfig, BenchNetwork } from './serve.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const PUSH = process.env.SCION_BENCH_PUSH_PROFILE === '1';
const COLD = process.env.SCION_BENCH_COLD_PROFILE === '1';
const OPEN = process.env.SCION_BENCH_OPEN_PROFILE === '1';

test('push: CPU profile of the bench worker', async ({ bench, page }) => {
  test.skip(!PUSH, 'set SCION_BENCH_PUSH_PROFILE=1 to profile a push');
  test.setTimeout(20 * 60_000);
  const { dataset, network, ref } = await prepareRemoteDataset(bench, page);
  const profiled = await profileNextWorker(page, () => bench({ kind: 'extra', target: 'scion', run: 1, network: ref, options: { pushPages: BENCH.pushPages.slice(-1) } }));
  expect(profiled.result.length).toBeGreaterThan(0);
  for (const s of profiled.result.filter((x) => x.workload.startsWith('push'))) console.log(`${s.target}: ${s.workload}: ${s.value?.toFixed(0)} ms, ${s.requests ?? '-'} req`);
  report('push', profiled.profile);
});

test('first push of an imported database: CPU profile of the bench worker', async ({ bench, page }) => {
  test.skip(!PUSH, 'set SCION_BENCH_PUSH_PROFILE=1 to profile a push');
  test.setTimeout(30 * 60_000);
  const dataset = await ensureDataset(BENCH.importMb);
  const dbName = 'imported.db';
  await bench({ kind: 'prepareExisting', target: 'scion', dbName, datasetUrl: dataset.urlPath });
  const profiled = await profileNextWorker(page, () => bench({ kind: 'pushExisting', target: 'scion', dbName }));
  expect(profiled.result.pages).toBe(dataset.bytes / dataset.pageSize);
  console.log(`first push of ${(dataset.bytes / 1e6).toFixed(0)} MB: ${profiled.result.ms.toFixed(0)} ms, ${profiled.result.uploadedBytes} bytes uploaded`);
  await bench({ kind: 'cleanup', target: 'scion' });
  report(`push-first-${BENCH.importMb}mb`, profiled.profile);
});

test('cold point lookup: CPU profile of the bench worker', async ({ bench, page }) => {
  test.skip(!COLD, 'set SCION_BENCH_COLD_PROFILE=1 to profile a cold point lookup');
  test.setTimeout(20 * 60_000);
  const { dataset, network, ref } = await prepareRemoteDataset(bench, page);
  const point = dataset.queries.point as NonNullable<typeof dataset.queries.point>;
  const remoteDataset = { url: `${network.webOrigin}${dataset.urlPath}`, bytes: dataset.bytes, network: ref };
  const profiled = await profileNextWorker(page, () => bench({ kind: 'cold', target: 'scion', dataset: remoteDataset, queries: { point } }));
  const q = profiled.result.queries.point;
  expect(q?.fingerprint).toBe(point.expected);
  console.log(`scion: cold point lookup: ${q?.ms.toFixed(0)} ms, ${JSON.stringify(q?.timeline.marks.map(([n, at]) => `${n}@${at.toFixed(0)}`))}`);
  report('cold', profiled.profile);
});

test('open-to-first-query of an existing database: CPU profile of the bench worker', async ({ bench, page }) => {
  test.skip(!OPEN, 'set SCION_BENCH_OPEN_PROFILE=1 to profile an open');
  test.setTimeout(30 * 60_000);
  const { dataset, first } = await ensureFirstQuery(BENCH.importMb);
  const dbName = 'opened.db';
  await bench({ kind: 'prepareExisting', target: 'scion', dbName, datasetUrl: dataset.urlPath });
  // One open first, unprofiled: the profile is of a warm browser cache, as the open bench's later runs are.
  await bench({ kind: 'openExisting', target: 'scion', dbName, query: first });
  const profiled = await profileNextWorker(page, () => bench({ kind: 'openExisting', target: 'scion', dbName, query: first }));
  expect(profiled.result.fingerprint).toBe(first.expected);
  console.log(`scion: open-to-first-query: ${profiled.result.ms.toFixed(1)} ms, phases ${JSON.stringify(profiled.result.phases)}`);
  await bench({ kind: 'cleanup', target: 'scion' });
  report('open', profiled.profile);
});

/** The bench dataset pushed to the bucket on the first (loopback) network, as the peers bench prepares it. */
async function prepareRemoteDataset(bench: <J extends Job>(job: J) => Promise<JobResult<J>>, page: Page) {
  const dataset = await ensureDataset(BENCH.datasetMb);
  const served = (await page.evaluate(() => fetch('/scion-config.json').then((r) => r.json()))) as BenchConfig;
  const network = served.networks[0] as BenchNetwork;
  const ref = { name: network.name, presignUrl: network.presignUrl };
  await bench({ kind: 'prepareRemote', target: 'scion', dataset: { url: dataset.urlPath, bytes: dataset.bytes, network: ref } });
  return { dataset, network, ref };
}

/** Runs `job`, whose bench worker (the next one the page starts) runs with the CPU profiler on from its first line. */
async function profileNextWorker<T>(page: Page, job: () => Promise<T>): Promise<{ result: T; profile: Profile }> {
  // The host ends each job's worker as soon as it answers: keep it until its profile is read.
  await page.evaluate(() => {
    const w = window as unknown as { keptWorkers: Worker[] };
    w.keptWorkers = [];
    Worker.prototype.terminate = function (this: Worker) {
      w.keptWorkers.push(this);
    };
  });
  const cdp = await page.context().newCDPSession(page);
  let session: string | undefined;
  let nextId = 1;
  const replies = new Map<number, (r: unknown) => void>();
  const send = (sessionId: string, method: string, params: object = {}) => {
    const id = nextId++;
    const reply = new Promise<unknown>((resolve) => replies.set(id, resolve));
    void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
    return reply;
  };
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message) as { id?: number; result?: unknown };
    if (m.id !== undefined) replies.get(m.id)?.(m.result);
  });
  const started = new Promise<void>((resolve) => {
    cdp.on('Target.attachedToTarget', (e) => {
      if (e.targetInfo.type !== 'worker' || session) return;
      session = e.sessionId;
      void (async () => {
        await send(e.sessionId, 'Profiler.enable');
        await send(e.sessionId, 'Profiler.setSamplingInterval', { interval: 200 });
        await send(e.sessionId, 'Profiler.start');
        await send(e.sessionId, 'Runtime.runIfWaitingForDebugger');
        resolve();
      })();
    });
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
  const running = job();
  await started;
  const result = await running;
  const { profile } = (await send(session as string, 'Profiler.stop')) as { profile: Profile };
  await cdp.detach();
  return { result, profile };
}

/** Saves the profile and prints the functions with the most self time. */
function report(name: string, profile: Profile): void {
  mkdirSync('test-results/bench', { recursive: true });
  writeFileSync(`test-results/bench/${name}.cpuprofile`, JSON.stringify(profile));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const f = (byId.get(id) as ProfileNode).callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, 40);
  console.log(rows.map(([k, us]) => `${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`).join('\n'));
  // Inclusive time: each sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const total = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = (byId.get(at) as ProfileNode).callFrame;
      seen.add(`${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`);
    }
    for (const key of seen) total.set(key, (total.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const totals = [...total].sort((a, b) => b[1] - a[1]).slice(0, 60);
  console.log('inclusive:\n' + totals.map(([k, us]) => `${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`).join('\n'));
}
