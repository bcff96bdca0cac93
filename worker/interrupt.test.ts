import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { expect, it } from 'vitest';
import { WorkerApi } from './api.ts';
import { BrowserNetwork } from './network.ts';
import { value } from './testing.ts';

const RUNAWAY = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c';

async function device(cancelled: Set<string> = new Set()) {
  const sqlite3 = await sqlite3InitModule();
  const api = new WorkerApi({ loadSqlite: async () => sqlite3, network: new BrowserNetwork({}), isCancelled: (token) => cancelled.has(token) });
  value(await api.init({ storage: 'memory' }));
  return api;
}

it('a runaway query with timeoutMs fails with Interrupted (reason timeout) soon after it, and the connection and the others go on', async () => {
  const api = await device();
  const h = value(await api.open('main')).handle;
  const other = value(await api.open('other')).handle;
  const started = performance.now();
  const r = await api.query(h, RUNAWAY, undefined, { timeoutMs: 150 });
  const took = performance.now() - started;
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error).toMatchObject({ code: 'Interrupted', details: { reason: 'timeout' } });
  expect(r.error.message).toMatch(/timeoutMs \(150 ms\)/);
  expect(took).toBeGreaterThanOrEqual(150);
  expect(value(await api.query(h, 'SELECT 1 AS one'))).toEqual([{ one: 1 }]);
  expect(value(await api.query(other, 'SELECT 2 AS two'))).toEqual([{ two: 2 }]);
  // A limit is per call: the next call without one is not stopped by the old deadline.
  expect(value(await api.query(h, 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT count(*) AS n FROM c'))).toEqual([{ n: 300_000 }]);
});

it('an interrupted write inside a transaction rolls it back; an autocommit one commits nothing', async () => {
  const cancelled = new Set(['blob:cancelled']);
  const api = await device(cancelled);
  const h = value(await api.open('main')).handle;
  value(await api.exec(h, 'CREATE TABLE t(x)'));
  const lsn = value(await api.status(h)).localLsn;
  const write = 'INSERT INTO t WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c';
  const auto = await api.exec(h, write, undefined, { cancel: 'blob:cancelled' });
  expect(auto.ok ? undefined : auto.error).toMatchObject({ code: 'Interrupted', details: { reason: 'cancelled' } });
  value(await api.exec(h, 'BEGIN IMMEDIATE'));
  value(await api.exec(h, 'INSERT INTO t VALUES (1)'));
  const inside = await api.exec(h, write, undefined, { timeoutMs: 50 });
  expect(inside.ok).toBe(false);
  await api.exec(h, 'ROLLBACK');
  expect(value(await api.query(h, 'SELECT count(*) AS n FROM t'))).toEqual([{ n: 0 }]);
  expect(value(await api.status(h)).localLsn).toBe(lsn);
});

it('db.import aborted while SQLite checks the file: its cancel URL stops the check (no message can arrive then), nothing is committed', async () => {
  const cancelled = new Set<string>();
  const api = await device(cancelled);
  const h = value(await api.open('main')).handle;
  value(await api.exec(h, 'CREATE TABLE old(x); INSERT INTO old VALUES (1)'));
  const lsn = value(await api.status(h)).localLsn;
  const sqlite3 = await sqlite3InitModule();
  const source = new sqlite3.oo1.DB(':memory:');
  // A NOT NULL column: quick_check reads every row, so the check outlasts the first 40 ms the cancel URL is left alone.
  source.exec('PRAGMA page_size=4096; VACUUM; CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  source.exec("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100000) INSERT INTO t SELECT i, printf('%0200d', i) FROM c");
  const file = new Uint8Array(sqlite3.capi.sqlite3_js_db_export(source));
  source.close();
  // The URL is revoked when the last page is staged; abortJob is never sent, so only the check can see the abort.
  const r = await api.importFile(h, file, { job: 'import-1', cancel: 'blob:import-1' }, (p) => {
    if (p.done === p.total) cancelled.add('blob:import-1');
  });
  expect(r.ok ? r.value : r.error).toMatchObject({ code: 'Interrupted', details: { reason: 'cancelled', operation: 'import' } });
  expect(r.ok ? '' : r.error.message).toMatch(/nothing was committed/);
  expect(value(await api.status(h)).localLsn).toBe(lsn);
  expect(value(await api.query(h, 'SELECT x FROM old'))).toEqual([{ x: 1 }]);
  // The same file, not aborted, imports.
  expect(value(await api.importFile(h, file))).toMatchObject({ pages: file.byteLength / 4096 });
});
