// Rebase by replay in Chromium: two devices (browser contexts: their own OPFS and IndexedDB) write
// transfers offline through a mutator, come back, and autosync converges them with no reset and no call.
import { expect, test } from '@playwright/test';
import { SqlPage } from './sql-fixtures.ts';

type Transfer = { id: string; from: number; to: number; amount: number };

/** `n` small transfers between accounts 1..4, ids prefixed by the device. */
function plan(device: string, n: number, seed: number): Transfer[] {
  const out: Transfer[] = [];
  for (let i = 0; i < n; i++) {
    const from = ((i * 7 + seed) % 4) + 1;
    out.push({ id: `${device}${i}`, from, to: (from % 4) + 1, amount: 1 + ((i * 3 + seed) % 5) });
  }
  return out;
}

const ACCOUNTS = 'SELECT id, balance FROM accounts ORDER BY id';

test('two devices transfer offline through a mutator; back online, autosync rebases: identical rows, total kept, every acknowledged transfer applied once', async ({ browser }) => {
  const { context: ca, sql: a } = await SqlPage.device(browser);
  const { context: cb, sql: b } = await SqlPage.device(browser);
  const autosync = { intervalMs: 300, afterCommitMs: 50, minBackoffMs: 100, maxBackoffMs: 500 };
  await a.run('open', 'a', 'bank', { remote: 'bucket' });
  await a.db('a', 'exec', 'CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL); CREATE TABLE transfers (id TEXT PRIMARY KEY, src INTEGER, dst INTEGER, amount INTEGER)');
  await a.db('a', 'exec', 'INSERT INTO accounts VALUES (1, 1000), (2, 1000), (3, 1000), (4, 1000)');
  expect(await a.db('a', 'push')).toMatchObject({ outcome: 'pushed' });
  const { remote } = await a.db<{ remote: string }>('a', 'status');
  await b.run('open', 'b', 'bank', { remote: 'bucket', clone: remote });
  await a.run('bankMutators', 'a');
  await b.run('bankMutators', 'b');
  await a.db('a', 'autosync', autosync);
  await b.db('b', 'autosync', autosync);

  await b.db('b', 'hydrate'); // so B's transfers can read every page offline
  await ca.setOffline(true);
  await cb.setOffline(true);
  const ackedA = await a.run('transfers', 'a', plan('a', 40, 1));
  const ackedB = await b.run('transfers', 'b', plan('b', 40, 2));
  expect(await a.db('a', 'status')).toMatchObject({ ahead: 40 });
  expect(await b.db('b', 'status')).toMatchObject({ ahead: 40 });

  await ca.setOffline(false);
  await cb.setOffline(false);
  for (const [d, l] of [[a, 'a'], [b, 'b']] as const) {
    await expect.poll(async () => (await d.db<{ state: string; ahead: number; behind: number }>(l, 'status')), { timeout: 30_000 }).toMatchObject({ state: 'in-sync' });
  }
  // Both in sync at the same remote LSN, with the same rows.
  await expect.poll(async () => JSON.stringify(await a.db('a', 'query', ACCOUNTS)) === JSON.stringify(await b.db('b', 'query', ACCOUNTS)), { timeout: 30_000 }).toBe(true);
  const rowsA = await a.db<{ id: number; balance: number }[]>('a', 'query', ACCOUNTS);
  expect(rowsA.reduce((s, r) => s + r.balance, 0)).toBe(4000);
  const applied = await b.db<{ id: string }[]>('b', 'query', 'SELECT id FROM transfers ORDER BY id');
  expect(applied.map((r) => r.id).sort()).toEqual([...ackedA, ...ackedB].sort());
  // The balances are what applying every transfer once gives.
  const expected = [1000, 1000, 1000, 1000];
  for (const t of [...plan('a', 40, 1), ...plan('b', 40, 2)]) {
    expected[t.from - 1] = (expected[t.from - 1] as number) - t.amount;
    expected[t.to - 1] = (expected[t.to - 1] as number) + t.amount;
  }
  expect(rowsA.map((r) => r.balance)).toEqual(expected);
  // Both are still on the one shared remote volume (no fork), and one of them rebased (no reset, no call) and said so.
  expect((await a.db<{ remote: string }>('a', 'status')).remote).toBe(remote);
  expect((await b.db<{ remote: string }>('b', 'status')).remote).toBe(remote);
  const events = [...(await a.run('syncEvents', 'a')), ...(await b.run('syncEvents', 'b'))];
  expect(events).toContainEqual(expect.objectContaining({ state: 'rebased', replayed: 40, dropped: 0 }));
  expect(await a.run('conflicts', 'a')).toEqual([]);
  expect(await b.run('conflicts', 'b')).toEqual([]);
  expect(await b.db('b', 'query', 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  await ca.close();
  await cb.close();
});

test('a transfer that overdraws on the other device\'s state reaches onConflict; the default keeps the device diverged with its rows, drop resolves it', async ({ browser }) => {
  const { context: ca, sql: a } = await SqlPage.device(browser);
  const { context: cb, sql: b } = await SqlPage.device(browser);
  await a.run('open', 'a', 'bank', { remote: 'bucket' });
  await a.db('a', 'exec', 'CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL); CREATE TABLE transfers (id TEXT PRIMARY KEY, src INTEGER, dst INTEGER, amount INTEGER)');
  await a.db('a', 'exec', 'INSERT INTO accounts VALUES (1, 100), (2, 0)');
  await a.db('a', 'push');
  const { remote } = await a.db<{ remote: string }>('a', 'status');
  await b.run('open', 'b', 'bank', { remote: 'bucket', clone: remote });
  await a.run('bankMutators', 'a');
  await b.run('bankMutators', 'b', 'stop');
  await a.run('transfers', 'a', [{ id: 'a0', from: 1, to: 2, amount: 80 }]);
  await b.run('transfers', 'b', [{ id: 'b0', from: 1, to: 2, amount: 50 }, { id: 'b1', from: 2, to: 1, amount: 10 }]);
  await a.db('a', 'push');
  await b.db('b', 'autosync', { intervalMs: 300, afterCommitMs: 50 });

  await expect.poll(async () => (await b.run('conflicts', 'b')).length, { timeout: 20_000 }).toBeGreaterThan(0);
  const [conflict] = await b.run('conflicts', 'b');
  expect(conflict).toMatchObject({ intent: { kind: 'mutator', mutator: 'transfer', args: { id: 'b0' } }, attempt: 1 });
  expect(conflict?.message).toMatch(/overdraft: account 1 has 20, not 50/);
  expect(await b.db('b', 'status')).toMatchObject({ state: 'diverged', ahead: 2 });
  expect(await b.db('b', 'query', ACCOUNTS)).toEqual([{ id: 1, balance: 60 }, { id: 2, balance: 40 }]);

  // The app decides to drop it: the next sync rebases the rest.
  await b.run('bankMutators', 'b', 'drop');
  await expect.poll(async () => (await b.db<{ state: string }>('b', 'status')).state, { timeout: 20_000 }).toBe('in-sync');
  expect(await b.db('b', 'query', ACCOUNTS)).toEqual([{ id: 1, balance: 30 }, { id: 2, balance: 70 }]);
  expect(await b.run('syncEvents', 'b')).toContainEqual(expect.objectContaining({ state: 'rebased', replayed: 1, dropped: 1 }));
  await a.db('a', 'pull');
  expect(await a.db('a', 'query', ACCOUNTS)).toEqual([{ id: 1, balance: 30 }, { id: 2, balance: 70 }]);
  await ca.close();
  await cb.close();
});
