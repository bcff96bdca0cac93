// Two connections of one worker run bank transfers in BEGIN IMMEDIATE … COMMIT while a third pushes
// over and over: every transfer that resolved is stored exactly once, none that failed is, the money
// adds up, and a push never fails a transaction (only the other writer's lock does, at BEGIN).
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { expect, it } from 'vitest';
import { MemoryRemote } from '../src/remote/index.ts';
import { WorkerApi } from './api.ts';
import { BrowserNetwork } from './network.ts';
import { value } from './testing.ts';

/** A small seeded generator (the interleaving is the same on every run). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('bank transfers on two connections while pushes land: each acknowledged transfer once, failed ones never, the sum kept', async () => {
  const sqlite3 = await sqlite3InitModule();
  const remote = new MemoryRemote();
  const api = new WorkerApi({ loadSqlite: async () => sqlite3, makeRemote: () => remote, network: new BrowserNetwork({}) });
  value(await api.init({ storage: 'memory' }));
  const [a, b, pusher] = [value(await api.open('bank')).handle, value(await api.open('bank')).handle, value(await api.open('bank')).handle];
  value(await api.exec(a, 'CREATE TABLE account(id INTEGER PRIMARY KEY, balance INTEGER NOT NULL); CREATE TABLE transfer(id TEXT PRIMARY KEY)'));
  value(await api.exec(a, 'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10) INSERT INTO account SELECT x, 1000 FROM n'));

  const acknowledged: string[] = [];
  const failed: { at: string; code: string }[] = [];
  const writer = async (handle: number, name: string, random: () => number) => {
    for (let i = 0; i < 120; i++) {
      const id = `${name}${i}`;
      const from = 1 + Math.floor(random() * 10);
      const to = 1 + Math.floor(random() * 10);
      const begun = await api.exec(handle, 'BEGIN IMMEDIATE');
      if (!begun.ok) {
        failed.push({ at: 'begin', code: begun.error.code });
        await pause(random() * 2);
        continue;
      }
      value(await api.query(handle, 'SELECT balance FROM account WHERE id = ?', [from]));
      await pause(random() * 2);
      value(await api.exec(handle, 'UPDATE account SET balance = balance - 7 WHERE id = ?', [from]));
      value(await api.exec(handle, 'UPDATE account SET balance = balance + 7 WHERE id = ?', [to]));
      value(await api.exec(handle, 'INSERT INTO transfer VALUES (?)', [id]));
      await pause(random() * 2);
      const committed = await api.exec(handle, 'COMMIT');
      if (committed.ok) acknowledged.push(id);
      else {
        failed.push({ at: 'commit', code: committed.error.code });
        await api.exec(handle, 'ROLLBACK');
      }
    }
  };
  let writing = true;
  let pushes = 0;
  const pushing = (async () => {
    while (writing) {
      if (value(await api.push(pusher)).outcome === 'pushed') pushes++;
      await pause(1);
    }
  })();
  await Promise.all([writer(a, 'a', lcg(1)), writer(b, 'b', lcg(2))]);
  writing = false;
  await pushing;

  expect(pushes).toBeGreaterThan(10);
  expect(failed.filter((f) => f.at === 'commit')).toEqual([]);
  expect(failed.every((f) => f.code === 'ConcurrentWrite')).toBe(true);
  const stored = (value(await api.query(b, 'SELECT id FROM transfer ORDER BY id')) as { id: string }[]).map((r) => r.id);
  expect(stored).toEqual([...acknowledged].sort());
  expect(value(await api.query(a, 'SELECT sum(balance) AS total FROM account'))).toEqual([{ total: 10_000 }]);
  expect(value(await api.query(a, 'PRAGMA integrity_check'))).toEqual([{ integrity_check: 'ok' }]);
});
