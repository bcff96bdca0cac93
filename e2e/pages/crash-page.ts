// Main thread of e2e/pages/crash.html (e2e/crash.e2e.ts): Scion on a DB worker started here and passed
// in (`worker` option), so the test can `terminate()` it in the middle of a commit or a push, then open
// a new worker on the same OPFS directory and look at what survived.
import { isScionError, Scion, type Database, type ScionOptions, type SqlParams } from '../../src/client/index.ts';
import { IdbCatalog } from '../../src/local/index.ts';
import { outcome, sleep, type Outcome } from './outcome.ts';

export type { Outcome } from './outcome.ts';

declare global {
  interface Window {
    scionCrash: typeof api;
  }
}

const config = fetch('/scion-config.json').then((r) => r.json() as Promise<{ presignUrl: string; token: string }>);

let worker: Worker | undefined;
let scion: Scion | undefined;
let db: Database | undefined;
let push: Promise<Outcome<unknown>> | undefined;
let committed = false;

function must(): Database {
  if (!db) throw new Error('open first');
  return db;
}



/** Rows `${batch}-${i}` for i in 1..n of batch `batch`, 400-byte bodies: one INSERT … SELECT. */
function insertBatch(batch: string, n: number): [string, SqlParams] {
  return [
    `INSERT INTO t(batch, uid, body) WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
     SELECT ?, ? || '-' || i, hex(randomblob(200)) FROM c`,
    [n, batch, batch],
  ];
}

const api = {
  /**
   * Starts a DB worker and opens database `name` on it. While the last (terminated) worker's OPFS handle
   * is still being released, init fails with Forbidden: retried for up to 10 s. Returns the attempts.
   */
  open: (directory: string, name: string, options: { remote?: boolean; clone?: string } = {}) =>
    outcome(async () => {
      const remote = options.remote ? await config : undefined;
      const started = performance.now();
      for (let attempt = 1; ; attempt++) {
        worker = new Worker(new URL('../../worker/db-worker.ts', import.meta.url), { type: 'module', name: 'scion-db' });
        const opts: ScionOptions = { worker, directory, ...(remote ? { remote } : {}) };
        try {
          scion = await Scion.open(opts);
        } catch (e) {
          worker.terminate();
          if (!isScionError(e, 'Forbidden') || performance.now() - started > 10_000) throw e;
          await sleep(20);
          continue;
        }
        db = await scion.open(name, options.clone ? { clone: options.clone } : {});
        return { attempts: attempt, ms: Math.round(performance.now() - started) };
      }
    }),

  exec: (sql: string, params?: unknown[]) => outcome(() => must().exec(sql, params as never)),
  query: (sql: string, params?: unknown[]) => outcome(() => must().query(sql, params as never)),
  status: () => outcome(() => must().status()),
  fetch: () => outcome(() => must().fetch()),
  push: () => outcome(() => must().push()),

  /** Inserts `n` rows of batch `batch` in one commit; returns how long the COMMIT took (ms). */
  commitBatch: (batch: string, n: number) =>
    outcome(async () => {
      const d = must();
      await d.exec('BEGIN IMMEDIATE');
      await d.exec(...insertBatch(batch, n));
      const started = performance.now();
      await d.exec('COMMIT');
      return Math.round(performance.now() - started);
    }),

  /**
   * Inserts `n` rows of batch `batch` in one transaction and sends COMMIT without waiting for it (the
   * test kills the worker meanwhile); `terminate` tells whether its answer came first.
   */
  startCommit: (batch: string, n: number) =>
    outcome(async () => {
      const d = must();
      await d.exec('BEGIN IMMEDIATE');
      await d.exec(...insertBatch(batch, n));
      committed = false;
      void d.exec('COMMIT').then(() => (committed = true), () => undefined);
    }),

  /** Starts a push without waiting for it (the test holds its commit PUT, then terminates the worker). */
  startPush: () => {
    push = outcome(() => must().push());
  },
  pushOutcome: () => push,

  /** Ends the worker; returns whether the last startCommit was acknowledged before. */
  terminate: () => {
    worker?.terminate();
    scion = undefined;
    db = undefined;
    return { acknowledged: committed };
  },

  /** The pending pushes recorded in the directory's IndexedDB catalog (read while no worker runs). */
  pendingInCatalog: (directory: string) =>
    outcome(async () => {
      const catalog = await IdbCatalog.open(directory);
      try {
        const { grafts } = await catalog.load();
        return grafts.filter((g) => g.pending).map((g) => ({ local: g.pending?.local, remote: g.pending?.remote }));
      } finally {
        catalog.close();
      }
    }),

  close: () => outcome(async () => scion?.close()),
};

window.scionCrash = api;
