// SQL on Scion volumes through the client API and the DB worker, stored in OPFS.
import { expect, test } from '@playwright/test';
import { SqlPage } from './sql-fixtures.ts';

test('create, 10,000 rows in a transaction, query, integrity_check ok; the data survives a reload (OPFS)', async ({ page }) => {
  const sql = new SqlPage(page);
  await sql.goto();
  const opened = await sql.run('open', 'a', 'main');
  expect(opened.info).toMatchObject({ storage: 'opfs', hasRemote: false });
  await sql.db('a', 'exec', 'CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const ms = await sql.run('insertRows', 'a', 1, 10_000);
  console.log(`10,000 INSERTs in one transaction through the client: ${ms} ms`);
  expect(await sql.db('a', 'query', 'SELECT count(*) AS n, sum(id) AS s, max(body) AS top FROM t')).toEqual([{ n: 10_000, s: 50_005_000, top: 'row 9999' }]);
  expect(await sql.db('a', 'query', 'SELECT body FROM t WHERE id = :id', { id: 4321 })).toEqual([{ body: 'row 4321' }]);
  expect(await sql.db('a', 'query', 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  expect(await sql.db('a', 'status')).toMatchObject({ name: 'main', localLsn: 2, pageCount: expect.any(Number) });
  // A failed statement is a typed error and leaves the data as it was.
  const dup = await sql.attempt('call', 'a', 'exec', 'INSERT INTO t(id, body) VALUES (1, ?)', ['again']);
  expect(dup).toMatchObject({ ok: false, error: { code: 'InvalidInput', details: { sqlite: 'SQLITE_CONSTRAINT_PRIMARYKEY' } } });

  await sql.page.reload();
  await sql.goto();
  await sql.run('open', 'a', 'main', { create: false });
  expect(await sql.count('a')).toBe(10_000);
  expect(await sql.db('a', 'query', 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  // Time travel: LSN 1 is the empty table.
  expect(await sql.run('queryAt', 'a', 1, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 0 }]);
});
