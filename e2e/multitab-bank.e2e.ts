// Three pages of one origin share a database (one leader, two followers proxying to it). Two of them
// run bank transfers in db.transaction() while the third pushes every 50 ms: every transfer that
// resolved is stored exactly once, none is stored that did not resolve, and the money adds up — also
// after every page closed and a new one opened the directory again. Page: e2e/pages/tabs.html.
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import type { Outcome } from './pages/tabs-page.ts';

const PAGE = '/e2e/pages/tabs.html';
const DIRECTORY = 'bank-e2e';
const ACCOUNTS = 8;
const TRANSFERS = 150;

type Api = Window['scionTabs'];

async function openTab(context: BrowserContext, label: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${label} pageerror] ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') console.error(`[${label} console.error] ${m.text()}`);
  });
  await page.goto(PAGE);
  await page.waitForFunction(() => window.scionTabs !== undefined);
  const opened = await call(page, 'open', DIRECTORY, 'bank', { remote: true });
  expect(opened.ok, JSON.stringify(opened)).toBe(true);
  return page;
}

function call<M extends keyof Api>(page: Page, method: M, ...args: Parameters<Api[M]>): Promise<Awaited<ReturnType<Api[M]>>> {
  return page.evaluate(([m, a]) => (window.scionTabs[m] as (...x: unknown[]) => unknown)(...a), [method, args] as const) as Promise<Awaited<ReturnType<Api[M]>>>;
}

async function run<T>(p: Promise<Outcome<T>>): Promise<T> {
  const o = await p;
  if (!o.ok) throw new Error(`${o.error.code ?? 'Error'}: ${o.error.message}`);
  return o.value;
}

async function ledger(page: Page): Promise<{ ids: string[]; total: number }> {
  const rows = (await run(call(page, 'query', 'SELECT id FROM transfer ORDER BY id'))) as { id: string }[];
  const [sum] = (await run(call(page, 'query', 'SELECT sum(balance) AS total FROM account'))) as { total: number }[];
  return { ids: rows.map((r) => r.id), total: sum?.total as number };
}

test('two pages run bank transfers while a third pushes: every transfer exactly once, the sum kept, also after all pages closed', async ({ browser }) => {
  test.setTimeout(120_000);
  const context = await browser.newContext();
  const a = await openTab(context, 'A');
  const b = await openTab(context, 'B');
  const c = await openTab(context, 'C');
  expect([await call(a, 'role'), await call(b, 'role'), await call(c, 'role')]).toEqual(['leader', 'follower', 'follower']);
  await run(call(a, 'exec', 'CREATE TABLE account(id INTEGER PRIMARY KEY, balance INTEGER NOT NULL); CREATE TABLE transfer(id TEXT PRIMARY KEY, amount INTEGER NOT NULL)'));
  await run(call(a, 'exec', `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ${ACCOUNTS}) INSERT INTO account SELECT x, 1000 FROM n`));

  await call(c, 'startPusher', 50);
  await call(a, 'startTransfers', 'a', TRANSFERS, ACCOUNTS);
  await call(b, 'startTransfers', 'b', TRANSFERS, ACCOUNTS);
  for (const [page, prefix] of [[a, 'a'], [b, 'b']] as const) {
    await expect.poll(async () => (await call(page, 'transfers', prefix))?.done, { timeout: 90_000 }).toBe(true);
  }
  const pushed = await call(c, 'stopPusher');
  expect(pushed?.errors).toEqual([]);
  expect(pushed?.pushes).toBeGreaterThan(3);

  const acked: string[] = [];
  for (const [page, prefix] of [[a, 'a'], [b, 'b']] as const) {
    const t = await call(page, 'transfers', prefix);
    expect(t?.errors, `${prefix}: failures other than a retried ConcurrentWrite`).toEqual([]);
    expect(t?.acked).toHaveLength(TRANSFERS);
    acked.push(...(t?.acked ?? []));
    console.log(`${prefix}: ${t?.acked.length} transfers, ${t?.retries} retried after ConcurrentWrite`);
  }
  console.log(`C pushed ${pushed?.pushes} times`);
  const expected = { ids: [...acked].sort(), total: ACCOUNTS * 1000 };
  for (const page of [a, b, c]) expect(await ledger(page)).toEqual(expected);
  await run(call(c, 'push'));
  expect(await run(call(a, 'query', 'PRAGMA integrity_check'))).toEqual([{ integrity_check: 'ok' }]);

  // Every page closes; a new one opens the directory again (a new leader on the stores as stored).
  for (const page of [b, c, a]) await page.close();
  const d = await openTab(context, 'D');
  expect(await call(d, 'role')).toBe('leader');
  expect(await ledger(d)).toEqual(expected);
  expect(await run(call(d, 'status'))).toMatchObject({ state: 'in-sync' });
  await context.close();
});

test('a follower\'s long query runs to its end on the leader, and the follower\'s db.interrupt() stops its runaway one', async ({ browser }) => {
  const context = await browser.newContext();
  const a = await openTab(context, 'A');
  const b = await openTab(context, 'B');
  expect(await call(b, 'role')).toBe('follower');
  const done = async (page: Page, id: string) => {
    await expect.poll(async () => (await call(page, 'background', id))?.done, { timeout: 15_000 }).toBe(true);
    return (await call(page, 'background', id)) as { ms: number; outcome: Outcome<unknown> };
  };
  // Long enough for the leader's worker to check the follower's cancel token several times.
  await call(b, 'startQuery', 'long', 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) AS n FROM c');
  const long = await done(b, 'long');
  expect(long.outcome).toEqual({ ok: true, value: [{ n: 3_000_000 }] });
  expect(long.ms).toBeGreaterThan(100);
  await call(b, 'startQuery', 'runaway', 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c');
  await b.waitForTimeout(300);
  await call(b, 'interrupt');
  const runaway = await done(b, 'runaway');
  expect(runaway.outcome).toMatchObject({ ok: false, error: { code: 'Interrupted' } });
  expect(await run(call(a, 'query', 'SELECT 1 AS one'))).toEqual([{ one: 1 }]);
  await context.close();
});
