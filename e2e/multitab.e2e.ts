// Several pages of one browser context share one database: the first page leads (runs the DB worker
// on the OPFS directory), the others call it over BroadcastChannel; closing the leader page hands the
// worker to the next page, losing and duplicating nothing. Page: e2e/pages/tabs.html.
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import type { Outcome } from './pages/tabs-page.ts';

const PAGE = '/e2e/pages/tabs.html';
const DIRECTORY = 'tabs-e2e';

type Api = Window['scionTabs'];

/** One page of the context, driving `window.scionTabs`. */
class Tab {
  readonly page: Page;
  /** Rows this page's writers reported as acknowledged, as they happened (survives the page's close). */
  readonly acked: string[] = [];

  private constructor(page: Page) {
    this.page = page;
  }

  static async open(context: BrowserContext, label: string): Promise<Tab> {
    const tab = new Tab(await context.newPage());
    tab.page.on('pageerror', (e) => console.error(`[${label} pageerror] ${e.message}`));
    tab.page.on('console', (m) => {
      if (m.type() === 'error') console.error(`[${label} console.error] ${m.text()}`);
    });
    await tab.page.exposeFunction('scionAck', (uid: string) => void tab.acked.push(uid));
    await tab.page.goto(PAGE);
    await tab.page.waitForFunction(() => window.scionTabs !== undefined);
    const opened = await tab.call('open', DIRECTORY, 'shared');
    expect(opened.ok, JSON.stringify(opened)).toBe(true);
    return tab;
  }

  async call<M extends keyof Api>(method: M, ...args: Parameters<Api[M]>): Promise<Awaited<ReturnType<Api[M]>>> {
    return this.page.evaluate(([m, a]) => (window.scionTabs[m] as (...x: unknown[]) => unknown)(...a), [method, args] as const) as Promise<Awaited<ReturnType<Api[M]>>>;
  }

  async run<T>(p: Promise<Outcome<T>>): Promise<T> {
    const o = await p;
    if (!o.ok) throw new Error(`${o.error.code ?? 'Error'}: ${o.error.message}`);
    return o.value;
  }

  exec(sql: string, params?: unknown[]) {
    return this.run(this.call('exec', sql, params));
  }

  query<T>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.run(this.call('query', sql, params)) as Promise<T[]>;
  }

  role() {
    return this.call('role');
  }

  async writer(prefix: string) {
    return (await this.call('writer', prefix)) as NonNullable<Awaited<ReturnType<Api['writer']>>>;
  }
}

/** Every uid with how often it is stored. */
async function stored(tab: Tab): Promise<Map<string, number>> {
  const rows = await tab.query<{ uid: string; n: number }>('SELECT uid, count(*) AS n FROM t GROUP BY uid');
  return new Map(rows.map((r) => [r.uid, r.n]));
}

function expectExactlyOnce(rows: Map<string, number>, acked: string[]): void {
  const duplicates = [...rows].filter(([, n]) => n !== 1);
  expect(duplicates, 'rows stored more than once').toEqual([]);
  const missing = acked.filter((uid) => !rows.has(uid));
  expect(missing, 'acknowledged rows missing').toEqual([]);
}

test('two pages write alternately and see each other; the leader page closes mid-stream, the follower takes over; every acknowledged row is there once', async ({ browser }) => {
  const context = await browser.newContext();
  const a = await Tab.open(context, 'A');
  const b = await Tab.open(context, 'B');
  expect([await a.role(), await b.role()]).toEqual(['leader', 'follower']);

  await a.exec('CREATE TABLE t(seq INTEGER PRIMARY KEY, uid TEXT NOT NULL, tab TEXT NOT NULL)');
  const alternating: string[] = [];
  for (let i = 0; i < 50; i++) {
    await a.exec('INSERT INTO t(uid, tab) VALUES (?, ?)', [`a${i}`, 'a']);
    await b.exec('INSERT INTO t(uid, tab) VALUES (?, ?)', [`b${i}`, 'b']);
    alternating.push(`a${i}`, `b${i}`);
  }
  // Both see all 100 rows in the order written, and both heard of every commit (CREATE + 100 INSERTs).
  const order = 'SELECT uid FROM t ORDER BY seq';
  expect((await a.query<{ uid: string }>(order)).map((r) => r.uid)).toEqual(alternating);
  expect((await b.query<{ uid: string }>(order)).map((r) => r.uid)).toEqual(alternating);
  const lsns = Array.from({ length: 101 }, (_, i) => i + 1);
  await expect.poll(async () => (await a.call('changes')).commitLsns).toEqual(lsns);
  await expect.poll(async () => (await b.call('changes')).commitLsns).toEqual(lsns);

  // Both stream; the leader page closes while the follower keeps writing.
  await a.call('startWriter', 'a2-', 10_000, 2);
  await b.call('startWriter', 'b2-', 150, 2);
  await expect.poll(async () => (await b.writer('b2-')).acked.length).toBeGreaterThan(30);
  await expect.poll(() => a.acked.filter((u) => u.startsWith('a2-')).length).toBeGreaterThan(30);
  await a.page.close();
  await expect.poll(async () => (await b.writer('b2-')).done, { timeout: 20_000 }).toBe(true);
  const wb = await b.writer('b2-');
  expect(wb.errors).toEqual([]);
  expect(await b.role()).toBe('leader');
  console.log(`B waited at most ${wb.maxMs} ms for one write across the leader change (write ${wb.slowest}); A had ${a.acked.filter((u) => u.startsWith('a2-')).length} acknowledged rows when it closed`);

  const rows = await stored(b);
  expectExactlyOnce(rows, [...alternating, ...a.acked, ...wb.acked]);
  expect(wb.acked).toHaveLength(150);
  // Nothing but what was written: rows of A's last writes may or may not have landed, never twice.
  expect([...rows.keys()].every((uid) => /^(a|b|a2-|b2-)\d+$/.test(uid))).toBe(true);
  expect(await b.query('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);

  // A new page joins the new leader and sees the same rows.
  const c = await Tab.open(context, 'C');
  expect(await c.role()).toBe('follower');
  expect(await stored(c)).toEqual(rows);
  await context.close();
});

test('a follower\'s transaction survives the leader page closing in the middle of it: all its rows commit once', async ({ browser }) => {
  const context = await browser.newContext();
  const a = await Tab.open(context, 'A');
  const b = await Tab.open(context, 'B');
  await a.exec('CREATE TABLE t(seq INTEGER PRIMARY KEY, uid TEXT NOT NULL, tab TEXT NOT NULL)');
  await a.exec("INSERT INTO t(uid, tab) VALUES ('before', 'a')");
  // 40 INSERTs, 10 ms apart, in one BEGIN IMMEDIATE … COMMIT run by the leader for B.
  await b.call('startTransaction', 'tx-', 40, 10);
  await a.page.waitForTimeout(150);
  await a.page.close();
  await expect.poll(async () => (await b.writer('tx-')).done, { timeout: 20_000 }).toBe(true);
  const w = await b.writer('tx-');
  expect(w.errors).toEqual([]);
  expect(await b.role()).toBe('leader');
  const rows = await stored(b);
  expectExactlyOnce(rows, ['before', ...w.acked]);
  expect(rows.size).toBe(41);
  expect(await b.query('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  await context.close();
});

test('a follower gets array rows, prepared statements and batched iteration; a statement keeps working on the next leader, an iteration cut by it fails with Closed', async ({ browser }) => {
  const context = await browser.newContext();
  const a = await Tab.open(context, 'A');
  const b = await Tab.open(context, 'B');
  expect(await b.role()).toBe('follower');
  await a.exec('CREATE TABLE p(id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE q(id INTEGER PRIMARY KEY, p_id INTEGER, v TEXT)');
  await a.exec("INSERT INTO p VALUES (1, 'p1'); INSERT INTO q VALUES (10, 1, 'q10')");
  expect(await b.run(b.call('queryArrays', 'SELECT p.id, q.id, p.v, q.v FROM p JOIN q ON q.p_id = p.id'))).toMatchObject({
    columns: ['id', 'id', 'v', 'v'], declaredTypes: ['INTEGER', 'INTEGER', 'TEXT', 'TEXT'], rows: [[1, 10, 'p1', 'q10']],
  });
  expect(await b.run(b.call('prepare', 'ins', 'INSERT INTO p(v) VALUES (?)'))).toMatchObject({ columns: [], readOnly: false });
  expect(await b.run(b.call('prepare', 'one', 'SELECT v FROM p WHERE id = ?'))).toEqual({ columns: ['v'], declaredTypes: ['TEXT'], readOnly: true });
  expect(await b.run(b.call('statement', 'ins', 'run', ['p2']))).toEqual({ changes: 1, lastInsertRowid: 2 });
  expect(await b.run(b.call('statement', 'one', 'get', [2]))).toEqual({ v: 'p2' });
  await a.exec("WITH RECURSIVE c(n) AS (SELECT 3 UNION ALL SELECT n + 1 FROM c WHERE n < 400) INSERT INTO p SELECT n, 'row' FROM c");
  // A whole iteration from the follower, in batches of 50.
  await b.call('startIterate', 'all', 'SELECT id FROM p', 50, 0);
  await expect.poll(async () => (await b.call('background', 'all'))?.done).toBe(true);
  expect((await b.call('background', 'all'))?.outcome).toEqual({ ok: true, value: 400 });
  // One the leader change cuts: the rest of it was in the old leader's worker.
  await b.call('startIterate', 'cut', 'SELECT id FROM p', 10, 20);
  await expect.poll(async () => (await b.call('background', 'cut'))?.seen ?? 0).toBeGreaterThan(10);
  await a.page.close();
  await expect.poll(async () => (await b.call('background', 'cut'))?.done, { timeout: 20_000 }).toBe(true);
  expect((await b.call('background', 'cut'))?.outcome).toMatchObject({ ok: false, error: { code: 'Closed' } });
  expect(await b.role()).toBe('leader');
  // The statements prepared through the old leader run on the new one (prepared again there).
  expect(await b.run(b.call('statement', 'ins', 'run', ['p401']))).toEqual({ changes: 1, lastInsertRowid: 401 });
  expect(await b.run(b.call('statement', 'one', 'get', [401]))).toEqual({ v: 'p401' });
  await context.close();
});

test('a live query in a follower page re-runs on the leader page\'s commits to its table, not on others, and keeps going on the next leader', async ({ browser }) => {
  const context = await browser.newContext();
  const a = await Tab.open(context, 'A');
  const b = await Tab.open(context, 'B');
  await a.exec('CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT); CREATE TABLE other(x)');
  await b.call('watch', 'notes', 'SELECT body FROM note ORDER BY id');
  const deliveries = async () => (await b.call('watched', 'notes'))?.deliveries;
  await expect.poll(deliveries).toEqual([[]]);
  await a.exec("INSERT INTO note(body) VALUES ('from A')");
  await expect.poll(deliveries).toEqual([[], [{ body: 'from A' }]]);
  await a.exec('INSERT INTO other VALUES (1)');
  await b.exec("INSERT INTO note(body) VALUES ('from B')");
  await expect.poll(deliveries).toEqual([[], [{ body: 'from A' }], [{ body: 'from A' }, { body: 'from B' }]]);
  await a.page.close();
  await expect.poll(() => b.role(), { timeout: 20_000 }).toBe('leader');
  await b.exec("INSERT INTO note(body) VALUES ('after')");
  await expect.poll(async () => (await deliveries())?.at(-1)).toEqual([{ body: 'from A' }, { body: 'from B' }, { body: 'after' }]);
  expect((await b.call('watched', 'notes'))?.errors).toEqual([]);
  await context.close();
});
