import sqlite3InitModule, { type Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../src/local/index.ts';
import { MemoryRemote } from '../src/remote/index.ts';
import { WorkerApi } from './api.ts';
import { BrowserNetwork } from './network.ts';
import { failure, value } from './testing.ts';

let sqlite3: Sqlite3Static;
beforeAll(async () => void (sqlite3 = await sqlite3InitModule()));

/** A worker API on a memory store whose bytes the test can measure, with an in-memory bucket. */
async function device() {
  const dir = new MemoryDirectory();
  const store = MemoryStore.open(dir);
  const api = new WorkerApi({
    loadSqlite: async () => sqlite3,
    openStores: async () => ({ store, catalog: new MemoryCatalog() }),
    makeRemote: () => new MemoryRemote(),
    network: new BrowserNetwork({}),
  });
  value(await api.init({ storage: 'memory', remote: { presignUrl: 'http://127.0.0.1:1/unused', token: 't' } }));
  const open = async (name: string) => value(await api.open(name)).handle;
  const exec = async (h: number, sql: string) => value(await api.exec(h, sql));
  return { api, dir, open, exec };
}

describe('deleting databases', () => {
  it('delete(name) removes the database and its local data, and the store shrinks', async () => {
    const d = await device();
    const keep = await d.open('keep');
    await d.exec(keep, 'CREATE TABLE k(x)');
    const h = await d.open('big');
    await d.exec(h, 'CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT)');
    for (let i = 0; i < 20; i++) await d.exec(h, `INSERT INTO t(body) SELECT printf('%.500c', 'x') FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8)`);
    const full = d.dir.totalBytes;
    expect((await failure(d.api.deleteDatabase('big'), 'InvalidInput')).message).toMatch(/open connection/);
    value(await d.api.close(h));
    expect(value(await d.api.deleteDatabase('big'))).toEqual({ grafts: 1 });
    expect(value(await d.api.tags()).map((t) => t.name)).toEqual(['keep']);
    await new Promise((r) => setTimeout(r, 50)); // the background upkeep
    expect(d.dir.totalBytes).toBeLessThan(full / 4);
    // The name is free again: a new, empty database.
    const again = await d.open('big');
    expect(value(await d.api.query(again, "SELECT count(*) AS n FROM sqlite_master WHERE name = 't'"))).toEqual([{ n: 0 }]);
    await failure(d.api.deleteDatabase('nope'), 'TagNotFound');
  });

  it('deleteAbandoned removes the grafts a clone left behind, never one a connection uses', async () => {
    const d = await device();
    const h = await d.open('main');
    await d.exec(h, 'CREATE TABLE t(x)');
    value(await d.api.push(h));
    for (let i = 0; i < 3; i++) value(await d.api.clone(h)); // each reset leaves the previous graft
    expect(value(await d.api.deleteAbandoned())).toEqual({ grafts: 3 });
    expect(value(await d.api.deleteAbandoned())).toEqual({ grafts: 0 });
    expect(value(await d.api.query(h, "SELECT count(*) AS n FROM sqlite_master WHERE name = 't'"))).toEqual([{ n: 1 }]);
  });
});
