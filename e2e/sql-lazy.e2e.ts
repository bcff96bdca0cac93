// Lazy, partial reads: a fresh device clones a ≥ 20 MB database and reads only the frames its queries
// need; offline, a page never fetched fails with PageNotLocal instead of reading as zeros.
import { expect, test } from '@playwright/test';
import { SqlPage } from './sql-fixtures.ts';

const ROWS = 42_000;
const QUERIES = [
  'SELECT id, body FROM t WHERE id = 31337',
  "SELECT count(*) AS n, sum(length(body)) AS bytes, total(id) AS ids, max(substr(body, 1, 8)) AS top FROM t",
  "SELECT id FROM t WHERE body LIKE '0001234%' ORDER BY id",
];

test('a point query on a fresh clone of a 20 MB database fetches a few frames; a scan fetches the rest; results equal plain SQLite', async ({ browser }) => {
  test.setTimeout(120_000);
  const { context: ca, sql: a } = await SqlPage.device(browser);
  await a.run('open', 'a', 'big', { remote: 'bucket' });
  await a.db('a', 'exec', 'CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  await a.db('a', 'exec', `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${ROWS}) INSERT INTO t SELECT i, printf('%08d', i) || hex(randomblob(246)) FROM c`);
  const { pageCount, remote } = await a.db<{ pageCount: number; remote: string }>('a', 'status');
  expect(pageCount * 4096).toBeGreaterThanOrEqual(20 * 1024 * 1024);
  const pushed = await a.db<{ outcome: string; bytes: number }>('a', 'push');
  expect(pushed.outcome).toBe('pushed');
  const expected = await a.run('plainQueries', 'a', QUERIES);

  const { context: cb, sql: b } = await SqlPage.device(browser);
  await b.run('open', 'b', 'big', { remote: 'bucket', clone: remote });
  const afterClone = (await b.run('stats', 'b')).remote;
  const point = await b.db('b', 'query', QUERIES[0]);
  const afterPoint = (await b.run('stats', 'b')).remote;
  const pointFrames = afterPoint.framesFetched - afterClone.framesFetched;
  console.log(
    `${pageCount} pages (${(pageCount * 4096 / 2 ** 20).toFixed(1)} MiB, ${(pushed.bytes / 2 ** 20).toFixed(1)} MiB pushed): ` +
      `clone fetched ${afterClone.framesFetched} hot frame(s) (${(afterClone.bytesFetched / 1024).toFixed(0)} KiB); ` +
      `the point query ${pointFrames} frame(s) (${((afterPoint.bytesFetched - afterClone.bytesFetched) / 1024).toFixed(0)} KiB)`,
  );
  expect(afterClone.framesFetched).toBeGreaterThanOrEqual(1);
  expect(pointFrames).toBeLessThanOrEqual(2);
  expect(point).toEqual(expected[0]);

  const rest = [await b.db('b', 'query', QUERIES[1]), await b.db('b', 'query', QUERIES[2])];
  const afterScan = (await b.run('stats', 'b')).remote;
  console.log(`the scans fetched ${afterScan.framesFetched - afterPoint.framesFetched} more frame(s), ${(afterScan.bytesFetched / 2 ** 20).toFixed(1)} MiB in all`);
  expect(rest).toEqual(expected.slice(1));
  const [info] = await b.db<{ pages_missing: number }[]>('b', 'query', 'PRAGMA graft_info');
  expect(info?.pages_missing).toBe(0);
  expect(afterScan.framesFetched).toBeGreaterThan(pageCount / 64 / 2);

  // Offline: a fresh clone whose presign service cannot be reached reads only what it fetched at clone.
  const { context: cc, sql: c } = await SqlPage.device(browser);
  await c.run('open', 'c', 'big', { remote: 'bucket', clone: remote, directory: 'offline' });
  await c.run('close', 'c');
  await c.run('open', 'c', 'big', { remote: 'unreachable', directory: 'offline', create: false });
  const offline = await c.attempt('call', 'c', 'query', 'SELECT count(*) FROM t');
  expect(offline).toMatchObject({ ok: false, error: { code: 'PageNotLocal' } });
  expect(offline.ok === false && offline.error.message).toMatch(/not available offline/);
  // The page already held (the hot frames) still answers: the schema.
  expect(await c.db('c', 'query', "SELECT name FROM sqlite_schema")).toEqual([{ name: 't' }]);

  // The browser's own offline switch does the same for a device whose presign service is up.
  const { context: cd, sql: d } = await SqlPage.device(browser);
  await d.run('open', 'd', 'big', { remote: 'bucket', clone: remote });
  await cd.setOffline(true);
  expect(await d.attempt('call', 'd', 'query', 'SELECT count(*) FROM t')).toMatchObject({ ok: false, error: { code: 'PageNotLocal' } });
  await cd.setOffline(false);
  expect(await d.count('d')).toBe(ROWS);
  for (const ctx of [ca, cb, cc, cd]) await ctx.close();
});
