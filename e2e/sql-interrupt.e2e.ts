// A runaway query (an endless WITH RECURSIVE count) is stopped by db.interrupt(), by its AbortSignal or
// by timeoutMs, without SharedArrayBuffer (the page is not cross-origin isolated); another database of
// the same worker answers right after, and scion.close() resolves even while a runaway runs.
import { expect, test } from '@playwright/test';
import { SqlPage } from './sql-fixtures.ts';

const RUNAWAY = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c';

test('a runaway query is interrupted (interrupt, signal, timeout) while another database of the worker keeps answering; close resolves mid-runaway', async ({ browser }) => {
  const { context, sql } = await SqlPage.device(browser);
  expect(await sql.page.evaluate(() => self.crossOriginIsolated)).toBe(false);
  await sql.run('open', 'a', 'runaway', { storage: 'opfs', directory: 'interrupt-e2e' });
  await sql.run('openAlso', 'a', 'b', 'other');
  await sql.db('b', 'exec', 'CREATE TABLE t(x); INSERT INTO t VALUES (42)');

  const wait = async (id: string) => {
    await expect.poll(async () => (await sql.page.evaluate((i) => window.scionSql.background(i), id))?.done, { timeout: 15_000 }).toBe(true);
    return (await sql.page.evaluate((i) => window.scionSql.background(i), id)) as { ms: number; outcome: { ok: boolean; error?: { code?: string; details?: { reason?: string } } } };
  };

  // db.interrupt(): the other database's query, sent meanwhile, answers once the runaway stops.
  await sql.page.evaluate((q) => window.scionSql.startQuery('a', 'interrupt', q), RUNAWAY);
  await sql.page.waitForTimeout(300);
  const other = sql.page.evaluate(async () => {
    const started = performance.now();
    const rows = await window.scionSql.call('b', 'query', 'SELECT x FROM t');
    return { rows, ms: performance.now() - started };
  });
  await sql.run('interrupt', 'a');
  const interrupted = await wait('interrupt');
  expect(interrupted.outcome.error).toMatchObject({ code: 'Interrupted', details: { reason: 'cancelled' } });
  const answered = await other;
  expect(answered.rows).toEqual({ ok: true, value: [{ x: 42 }] });
  console.log(`interrupted after ${interrupted.ms} ms; the other database answered ${Math.round(answered.ms)} ms after it was asked`);

  // An AbortSignal, and a time limit.
  await sql.page.evaluate((q) => window.scionSql.startQuery('a', 'signal', q, { abortAfterMs: 200 }), RUNAWAY);
  expect((await wait('signal')).outcome.error).toMatchObject({ code: 'Interrupted', details: { reason: 'cancelled' } });
  await sql.page.evaluate((q) => window.scionSql.startQuery('a', 'timeout', q, { timeoutMs: 250 }), RUNAWAY);
  const timedOut = await wait('timeout');
  expect(timedOut.outcome.error).toMatchObject({ code: 'Interrupted', details: { reason: 'timeout' } });
  expect(timedOut.ms).toBeGreaterThanOrEqual(250);
  expect(await sql.db('a', 'query', 'SELECT 7 AS seven')).toEqual([{ seven: 7 }]);

  // close() while a runaway runs: it resolves, and the directory opens again.
  await sql.page.evaluate((q) => window.scionSql.startQuery('a', 'at-close', q), RUNAWAY);
  await sql.page.waitForTimeout(200);
  const closeMs = await sql.run('timedClose', 'a');
  console.log(`close() during a runaway resolved in ${closeMs} ms`);
  await sql.run('open', 'c', 'other', { storage: 'opfs', directory: 'interrupt-e2e' });
  expect(await sql.db('c', 'query', 'SELECT x FROM t')).toEqual([{ x: 42 }]);
  await context.close();
});
