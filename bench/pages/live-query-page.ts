// Main thread of bench/pages/live-query.html (bench/live-query.bench.ts): the public client API on OPFS in
// a real DB worker. Each commit inserts one row into `t`; `watchers` live queries read `t`. Times are from
// just before `db.exec` to the callback that delivers the new row (the first and the last watcher), and
// the exec itself; with `unrelated`, the commits go to another table, which must re-run no watcher; with
// `sameQuery`, every watcher runs the same query (one shared run per commit), otherwise each its own.
import { Scion } from '../../src/client/index.ts';

export interface LiveQueryJob {
  watchers: number;
  commits: number;
  /** Commit to a table no watcher reads. */
  unrelated: boolean;
  /** All watchers run the same query (shared: one run per commit); otherwise each has its own parameter. */
  sameQuery: boolean;
}

export interface LiveQueryResult {
  /** Per commit, ms: exec resolved; first and last watcher delivered the new row (empty when unrelated). */
  execMs: number[];
  firstMs: number[];
  lastMs: number[];
  /** Deliveries after the initial ones: watchers × commits when related, 0 when unrelated. */
  reruns: number;
}

declare global {
  interface Window {
    liveQueryBench: { run(job: LiveQueryJob): Promise<LiveQueryResult> };
  }
}

async function run(job: LiveQueryJob): Promise<LiveQueryResult> {
  const scion = await Scion.open({ directory: `bench-live-${Date.now()}-${Math.random().toString(36).slice(2)}`, multiTab: false });
  try {
    const db = await scion.open('live');
    await db.exec('CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER); CREATE TABLE other(id INTEGER PRIMARY KEY, v INTEGER)');
    let expected = 0;
    let delivered = 0;
    let reruns = 0;
    let first: number | undefined;
    let last: number | undefined;
    let wake: (() => void) | undefined;
    let initial = 0;
    const stops: (() => void)[] = [];
    for (let w = 0; w < job.watchers; w++) {
      let seen = false;
      const params = job.sameQuery ? [0] : [w];
      stops.push(db.watch<{ m: number | null }>('SELECT max(id) AS m FROM t WHERE ? >= 0', params, (rows) => {
        if (!seen) {
          seen = true;
          initial++;
          if (initial === job.watchers) wake?.();
          return;
        }
        reruns++;
        if ((rows[0]?.m ?? 0) !== expected) return;
        const now = performance.now();
        first ??= now;
        if (++delivered === job.watchers) {
          last = now;
          wake?.();
        }
      }));
    }
    const settle = (done: () => boolean) => new Promise<void>((resolve) => {
      if (done()) return resolve();
      wake = () => done() && resolve();
    });
    await settle(() => initial === job.watchers);
    const result: LiveQueryResult = { execMs: [], firstMs: [], lastMs: [], reruns: 0 };
    for (let i = 1; i <= job.commits; i++) {
      first = last = undefined;
      delivered = 0;
      expected = i;
      const started = performance.now();
      await db.exec(`INSERT INTO ${job.unrelated ? 'other' : 't'}(id, v) VALUES (?, ?)`, [i, i]);
      result.execMs.push(performance.now() - started);
      if (job.unrelated || job.watchers === 0) continue;
      await settle(() => delivered === job.watchers);
      result.firstMs.push(Number(first) - started);
      result.lastMs.push(Number(last) - started);
    }
    // Anything an unrelated commit re-ran would arrive within this.
    await new Promise((resolve) => setTimeout(resolve, 200));
    result.reruns = reruns;
    for (const stop of stops) stop();
    return result;
  } finally {
    await scion.close();
  }
}

window.liveQueryBench = { run };
