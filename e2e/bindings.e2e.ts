// Drizzle (sqlite-proxy), Kysely and React on Scion in Chromium: the published libraries run real
// queries through the DB worker. Page: e2e/pages/bindings.html.
import { expect, test, type Page } from '@playwright/test';

const PAGE = '/e2e/pages/bindings.html';

type Api = Window['scionBindings'];

async function call<M extends keyof Api>(page: Page, method: M, ...args: Parameters<Api[M]>): Promise<Awaited<ReturnType<Api[M]>>> {
  return page.evaluate(([m, a]) => (window.scionBindings[m] as (...x: unknown[]) => unknown)(...a), [method, args] as const) as Promise<Awaited<ReturnType<Api[M]>>>;
}

async function value<T>(p: Promise<{ ok: true; value: T } | { ok: false; error: { message: string } }>): Promise<T> {
  const o = await p;
  if (!o.ok) throw new Error(o.error.message);
  return o.value;
}

test.beforeEach(async ({ page }) => {
  page.on('pageerror', (e) => console.error(`[pageerror] ${e.message}`));
  await page.goto(PAGE);
  await page.waitForFunction(() => window.scionBindings !== undefined);
});

test('Drizzle: a join of two tables sharing column names loses nothing; get, returning, batch as one transaction', async ({ page }) => {
  const r = await value(call(page, 'drizzle'));
  expect(r.joined).toEqual([
    { book: { id: 10, authorId: 1, name: 'The Dispossessed' }, author: { id: 1, name: 'Ursula' } },
    { book: { id: 20, authorId: 2, name: 'Invisible Cities' }, author: { id: 2, name: 'Italo' } },
  ]);
  expect(r.picked).toEqual([{ bookId: 20, authorId: 2, book: 'Invisible Cities', author: 'Italo' }]);
  expect(r.first).toEqual({ id: 2, name: 'Italo' });
  expect(r.none).toBeNull();
  expect(r.count).toEqual({ n: 2 });
  expect(r.updated).toEqual([{ id: 1, name: 'Ursula K.' }]);
  expect(r.batchCount).toEqual([{ n: 3 }]);
  expect(r.failed).toMatch(/UNIQUE|PRIMARY KEY/i);
  expect(r.authorsAfter).toEqual([1, 2, 3]);
});

test('Kysely: inserts report rows and ids, joins with aliases, transactions commit and roll back, streaming, introspection', async ({ page }) => {
  const r = await value(call(page, 'kysely'));
  expect(r.inserted).toEqual({ numInsertedOrUpdatedRows: '2', insertId: '2' });
  expect(r.joined).toEqual([
    { bookId: 10, authorId: 1, book: 'The Dispossessed', author: 'Ursula' },
    { bookId: 20, authorId: 2, book: 'Invisible Cities', author: 'Italo' },
  ]);
  expect(r.updated).toBe('1');
  expect(r.inTx).toEqual({ n: 3 });
  expect(r.rolledBack).toBe('undo');
  expect(r.ids).toEqual([1, 2, 3]);
  expect(r.tables).toEqual([{ name: 'author', columns: ['id', 'name'] }, { name: 'book', columns: ['id', 'author_id', 'name'] }]);
});

test('React: useLiveQuery renders the rows and re-renders when another connection commits to the table it reads, not otherwise', async ({ page }) => {
  await value(call(page, 'renderNotes'));
  await expect(page.locator('#notes li')).toHaveCount(0);
  await value(call(page, 'addNote', 'first'));
  await expect(page.locator('#notes li')).toHaveText(['first']);
  await value(call(page, 'addNote', 'second'));
  await expect(page.locator('#notes li')).toHaveText(['first', 'second']);
  const renders = await call(page, 'renders');
  for (let i = 0; i < 3; i++) await value(call(page, 'touchOther'));
  await value(call(page, 'addNote', 'third'));
  await expect(page.locator('#notes li')).toHaveText(['first', 'second', 'third']);
  // The writes to another table rendered nothing: one render for the third note.
  expect(await call(page, 'renders')).toBe(renders + 1);
});
