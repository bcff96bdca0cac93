// Two devices (two browser contexts: separate OPFS and IndexedDB) share a database through the dev
// stack's bucket and presign service.
import { expect, test } from '@playwright/test';
import { SqlPage } from './sql-fixtures.ts';

test('A writes and pushes, B pulls and sees the rows; both write, the second push diverges; B resets to the remote and continues', async ({ browser }) => {
  const { context: ca, sql: a } = await SqlPage.device(browser);
  const { context: cb, sql: b } = await SqlPage.device(browser);

  await a.run('open', 'a', 'notes', { remote: 'bucket' });
  await a.db('a', 'exec', 'CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  await a.run('insertRows', 'a', 1, 500);
  expect(await a.db('a', 'push')).toMatchObject({ outcome: 'pushed', remoteLsn: 1 });
  const { remote } = await a.db<{ remote: string }>('a', 'status');

  // B starts from A's remote volume: a new database cloned from it.
  await b.run('open', 'b', 'notes', { remote: 'bucket', clone: remote });
  expect(await b.count('b')).toBe(500);
  await a.run('insertRows', 'a', 501, 600);
  expect(await a.db('a', 'push')).toMatchObject({ outcome: 'pushed', remoteLsn: 2 });
  expect(await b.db('b', 'pull')).toMatchObject({ outcome: 'pulled', to: 2 });
  expect(await b.count('b')).toBe(600);
  expect(await b.run('changes', 'b')).toContainEqual(expect.objectContaining({ reason: 'pull', lsn: 2 }));

  // Both write; A pushes first, so B's push finds the remote moved on.
  await a.db('a', 'exec', "INSERT INTO t(id, body) VALUES (1000, 'from A')");
  await b.db('b', 'exec', "INSERT INTO t(id, body) VALUES (2000, 'from B')");
  expect(await a.db('a', 'push')).toMatchObject({ outcome: 'pushed', remoteLsn: 3 });
  expect(await b.db('b', 'push')).toMatchObject({ outcome: 'diverged', ahead: 1, behind: 1, waysOut: ['reset', 'fork'] });
  expect(await b.db('b', 'status')).toMatchObject({ state: 'diverged' });
  // The pragma form reports the same, as rows.
  expect(await b.db('b', 'query', 'PRAGMA graft_push')).toEqual([expect.objectContaining({ outcome: 'diverged', ways_out: '["reset","fork"]' })]);

  // B takes the remote's side (clone of its remote: local change dropped) and continues.
  expect(await b.db('b', 'clone')).toMatchObject({ state: 'in-sync', remoteLsn: 3, ahead: 0 });
  expect(await b.db('b', 'query', 'SELECT body FROM t WHERE id IN (1000, 2000) ORDER BY id')).toEqual([{ body: 'from A' }]);
  await b.db('b', 'exec', "INSERT INTO t(id, body) VALUES (2001, 'from B, after the reset')");
  expect(await b.db('b', 'push')).toMatchObject({ outcome: 'pushed', remoteLsn: 4 });
  expect(await a.db('a', 'pull')).toMatchObject({ outcome: 'pulled', to: 4 });
  expect(await a.count('a')).toBe(602);
  expect(await a.db('a', 'query', 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  await ca.close();
  await cb.close();
});

test('autosync: commits reach the other device without calls; offline pauses it and online resumes it', async ({ browser }) => {
  const { context: ca, sql: a } = await SqlPage.device(browser);
  const { context: cb, sql: b } = await SqlPage.device(browser);
  const autosync = { intervalMs: 300, afterCommitMs: 50 };
  await a.run('open', 'a', 'live', { remote: 'bucket', autosync });
  await a.db('a', 'exec', 'CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  await expect.poll(async () => (await a.db<{ state: string }>('a', 'status')).state).toBe('in-sync');
  const { remote } = await a.db<{ remote: string }>('a', 'status');
  await b.run('open', 'b', 'live', { remote: 'bucket', clone: remote, autosync });

  await a.run('insertRows', 'a', 1, 50);
  await expect.poll(() => b.count('b')).toBe(50);
  expect(await b.run('changes', 'b')).toContainEqual(expect.objectContaining({ reason: 'pull' }));

  await cb.setOffline(true);
  await expect.poll(async () => (await b.run('syncEvents', 'b')).at(-1)?.state).toBe('offline');
  await a.run('insertRows', 'a', 51, 60);
  await expect.poll(async () => (await a.db<{ state: string }>('a', 'status')).state).toBe('in-sync');
  expect(await b.count('b')).toBe(50);
  await cb.setOffline(false);
  await expect.poll(() => b.count('b')).toBe(60);
  const states = new Set((await b.run('syncEvents', 'b')).map((e) => e.state));
  expect([...states]).toEqual(expect.arrayContaining(['syncing', 'idle', 'offline']));
  await ca.close();
  await cb.close();
});
