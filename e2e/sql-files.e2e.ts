// Plain SQLite files in and out of Scion: made by another SQLite (sqlite-wasm's :memory: on the page).
import { expect, test } from '@playwright/test';
import { SqlPage } from './sql-fixtures.ts';

test('import a plain SQLite file made by another SQLite, query it, export it: the same bytes (4096) or the same rows (1024-byte pages, rewritten)', async ({ page }) => {
  const sql = new SqlPage(page);
  await sql.goto();
  await sql.run('open', 'a', 'imported');
  expect(await sql.run('importPlainFile', 'a', 4096, 5000)).toMatchObject({ sourcePageSize: 4096 });
  expect(await sql.count('a')).toBe(5000);
  expect(await sql.run('compareExport', 'a')).toEqual({ sameBytes: true, sameRows: true, rows: 5000, integrity: [{ integrity_check: 'ok' }], pageSize: [{ page_size: 4096 }] });

  expect(await sql.run('importPlainFile', 'a', 1024, 3000)).toMatchObject({ sourcePageSize: 1024 });
  expect(await sql.db('a', 'query', 'SELECT count(*) AS n FROM t WHERE body > :b', { b: '8' })).toEqual([{ n: expect.any(Number) }]);
  expect(await sql.run('compareExport', 'a')).toMatchObject({ sameBytes: false, sameRows: true, rows: 3000, integrity: [{ integrity_check: 'ok' }], pageSize: [{ page_size: 4096 }] });

  // A File and a stream are streamed into the store by the worker: the same rows (the bytes differ only in
  // the schema cookie, moved past the replaced content's).
  for (const as of ['file', 'stream'] as const) {
    expect(await sql.run('importPlainFile', 'a', 4096, 2000, as)).toMatchObject({ sourcePageSize: 4096 });
    expect(await sql.run('compareExport', 'a')).toMatchObject({ sameRows: true, rows: 2000, integrity: [{ integrity_check: 'ok' }], pageSize: [{ page_size: 4096 }] });
  }
  expect(await sql.run('importPlainFile', 'a', 1024, 3000, 'file')).toMatchObject({ sourcePageSize: 1024 });

  expect(await sql.attempt('importBytes', 'a', 'not a database')).toMatchObject({ ok: false, error: { code: 'InvalidInput' } });
  expect(await sql.count('a')).toBe(3000);
  // The earlier imports are still in the history.
  const { localLsn } = await sql.db<{ localLsn: number }>('a', 'status');
  expect(await sql.run('queryAt', 'a', localLsn - 1, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 2000 }]);
  expect(await sql.run('queryAt', 'a', localLsn - 4, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 5000 }]);
});

test('an import aborted while SQLite checks the file fails with Interrupted and commits nothing; the same file imports afterwards', async ({ page }) => {
  const sql = new SqlPage(page);
  await sql.goto();
  await sql.run('open', 'a', 'aborted-import');
  await sql.db('a', 'exec', 'CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO t VALUES (1, \'kept\')');
  const { localLsn } = await sql.db<{ localLsn: number }>('a', 'status');
  // ~9,000 pages: the check takes about a second here; the abort comes 200 ms into it, when no message can get in.
  expect(await sql.attempt('importAbortedInCheck', 'a', 200_000, 200)).toMatchObject({
    ok: false, error: { code: 'Interrupted', details: { reason: 'cancelled', operation: 'import' } },
  });
  expect(await sql.count('a')).toBe(1);
  expect((await sql.db<{ localLsn: number }>('a', 'status')).localLsn).toBe(localLsn);
  expect(await sql.run('importPlainFile', 'a', 4096, 200_000)).toMatchObject({ sourcePageSize: 4096 });
  expect(await sql.count('a')).toBe(200_000);
});
