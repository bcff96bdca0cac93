// Sharing a database by name in Chromium: devices (browser contexts) open "the database named X" in
// the bucket with a token granted for that name only, and get one volume without passing ids around.
import { expect, test } from '@playwright/test';
import { SqlPage } from './sql-fixtures.ts';

/** Names are create-only in the bucket and the e2e bucket outlives a run: a fresh name per test. */
const fresh = (what: string) => `${what}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
const tokenFor = (name: string) => `scion-dev-name:${name}`;

test('a second device opens the database by its name and gets its volume; a token for another name gets nothing of it', async ({ browser }) => {
  const name = fresh('team');
  const { sql: a } = await SqlPage.device(browser);
  const { sql: b } = await SqlPage.device(browser);
  const shared = { remote: 'bucket', token: tokenFor(name), shared: true } as const;

  await a.run('open', 'a', name, shared);
  await a.db('a', 'exec', 'CREATE TABLE note (id TEXT PRIMARY KEY, body TEXT)');
  await a.db('a', 'exec', "INSERT INTO note VALUES ('a1', 'from a')");
  expect(await a.db('a', 'push')).toMatchObject({ outcome: 'pushed' });
  const { remote } = await a.db<{ remote: string }>('a', 'status');

  await b.run('open', 'b', name, shared);
  expect(await b.db('b', 'status')).toMatchObject({ remote, state: 'in-sync' });
  expect(await b.db('b', 'query', 'SELECT * FROM note')).toEqual([{ id: 'a1', body: 'from a' }]);
  await b.db('b', 'exec', "INSERT INTO note VALUES ('b1', 'from b')");
  expect(await b.db('b', 'push')).toMatchObject({ outcome: 'pushed' });
  expect(await a.db('a', 'pull')).toMatchObject({ outcome: 'pulled' });
  expect(await a.db('a', 'query', 'SELECT id FROM note ORDER BY id')).toEqual([{ id: 'a1' }, { id: 'b1' }]);

  // Reopening (a reload) finds the same volume behind the name.
  await a.page.reload();
  await a.page.waitForFunction(() => window.scionSql !== undefined);
  await a.run('open', 'a', name, shared);
  expect(await a.db('a', 'status')).toMatchObject({ remote });

  // A grant for another name: neither the name, nor the volume behind it by id, nor claiming that volume.
  const other = fresh('other');
  const { sql: c } = await SqlPage.device(browser);
  const byName = await c.attempt('open', 'c1', name, { remote: 'bucket', token: tokenFor(other), shared: true });
  expect(byName).toMatchObject({ ok: false, error: { code: 'Forbidden' } });
  const byId = await c.attempt('open', 'c2', 'stolen', { remote: 'bucket', token: tokenFor(other), clone: remote });
  expect(byId).toMatchObject({ ok: false, error: { code: 'Forbidden' } });
});

test('two devices opening a new name at once end on one volume', async ({ browser }) => {
  const name = fresh('race');
  const { sql: a } = await SqlPage.device(browser);
  const { sql: b } = await SqlPage.device(browser);
  const shared = { remote: 'bucket', token: tokenFor(name), shared: true } as const;
  await Promise.all([a.run('open', 'a', name, shared), b.run('open', 'b', name, shared)]);
  const [sa, sb] = await Promise.all([a.db<{ remote: string }>('a', 'status'), b.db<{ remote: string }>('b', 'status')]);
  expect(sa.remote).toBe(sb.remote);
  // Opening with create: false a name nobody created is TagNotFound, and creates nothing.
  const missing = fresh('missing');
  const none = await a.attempt('open', 'm', missing, { remote: 'bucket', token: tokenFor(missing), directory: 'missing', shared: true, create: false });
  expect(none).toMatchObject({ ok: false, error: { code: 'TagNotFound' } });
});
