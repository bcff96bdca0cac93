import sqlite3InitModule, { type Database, type Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { isScionError, LSN, type ErrorCode } from '../core/index.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../local/index.ts';
import { MemoryRemote } from '../remote/index.ts';
import { Runtime } from '../runtime/index.ts';
import { installScionVfs, openScionDb, planSqliteFrames, type ScionVfs } from './index.ts';

let sqlite3: Sqlite3Static;
beforeAll(async () => {
  sqlite3 = await sqlite3InitModule();
});

let vfsCount = 0;
/** A runtime + VFS ("a device"); `remote` shared between devices. */
async function device(remote?: MemoryRemote, file = new MemoryDirectory(), catalog = new MemoryCatalog()) {
  const runtime = await Runtime.open({ store: MemoryStore.open(file), catalog, remote, planFrames: planSqliteFrames });
  const vfs = installScionVfs(sqlite3, runtime, { name: `scion-test-${++vfsCount}` });
  const open = async (tag: string) => {
    await runtime.tagOpen(tag);
    return openScionDb(sqlite3, vfs, tag);
  };
  return { runtime, vfs, open, file };
}

const count = (db: Database, sql = 'select count(*) from t') => Number(db.selectValue(sql));

function expectCode(vfs: ScionVfs, fn: () => unknown, code: ErrorCode) {
  let thrown: unknown;
  try {
    vfs.run(fn);
  } catch (e) {
    thrown = e;
  }
  expect(isScionError(thrown, code), `expected ${code}, got ${String(thrown)}`).toBe(true);
}

describe('SQL on volumes', () => {
  it('creates, inserts 10,000 rows in one transaction, queries, and passes integrity_check', async () => {
    const { open, runtime } = await device();
    const db = await open('main');
    db.exec('create table t(id integer primary key, name text, v real)');
    db.transaction(() => {
      const stmt = db.prepare('insert into t(name, v) values (?, ?)');
      for (let i = 0; i < 10_000; i++) stmt.bind([`row ${i}`, i * 1.5]).stepReset();
      stmt.finalize();
    });
    expect(count(db)).toBe(10_000);
    expect(db.selectValue('select name from t where id = 5000')).toBe('row 4999');
    expect(db.selectValue('pragma integrity_check')).toBe('ok');
    expect(db.selectValue('pragma page_size')).toBe(4096);
    expect(db.selectValue('pragma journal_mode')).toBe('memory');
    // One volume commit per SQLite commit: create table, then the insert transaction.
    expect(runtime.graftStatus(runtime.mustGetTag('main')).localLsn).toBe(2);
  });

  it('data survives a restart of the runtime (the same store bytes and catalog)', async () => {
    const catalog = new MemoryCatalog();
    const a = await device(undefined, new MemoryDirectory(), catalog);
    const db = await a.open('main');
    db.exec("create table t(x); insert into t values ('durable')");
    db.close();
    a.runtime.close();
    const b = await device(undefined, a.file.copy(), catalog);
    const again = openScionDb(sqlite3, b.vfs, 'main');
    expect(again.selectValue('select x from t')).toBe('durable');
    expect(again.selectValue('pragma integrity_check')).toBe('ok');
  });

  it('a rollback produces no commit, also after SQLite spilled pages early', async () => {
    const { open, runtime } = await device();
    const db = await open('main');
    db.exec('create table t(x blob)');
    const graft = runtime.mustGetTag('main');
    const before = runtime.graftStatus(graft).localLsn;
    db.exec('pragma cache_size=10');
    db.exec('begin');
    for (let i = 0; i < 200; i++) db.exec({ sql: 'insert into t values (?)', bind: [new Uint8Array(3000)] });
    db.exec('rollback');
    expect(runtime.graftStatus(graft).localLsn).toBe(before);
    expect(count(db)).toBe(0);
    expect(db.selectValue('pragma integrity_check')).toBe('ok');
  });

  it('refuses other page sizes and WAL with errors that name the fix', async () => {
    const { open, vfs } = await device();
    const db = await open('main');
    expect(() => db.exec('pragma page_size=8192')).toThrow(/4096-byte pages/);
    expect(() => db.exec('pragma journal_mode=wal')).toThrow(/does not support WAL/);
    db.exec('create table t(x)');
    expect(db.selectValue('pragma page_size')).toBe(4096);
    expect(vfs.name).toMatch(/^scion-test/);
  });

  it('refuses graft_* pragmas sent to SQLite around the worker, naming the way there', async () => {
    const { open } = await device();
    const db = await open('main');
    for (const pragma of ['graft_status', 'graft_push']) expect(() => db.exec(`pragma ${pragma}`)).toThrow(/run it through Scion's exec\(\)/);
  });
});

describe('locks and snapshots', () => {
  it('one writer per tag: a second writer gets busy, and no lock is left after either ends', async () => {
    const { open, vfs } = await device();
    const a = await open('main');
    const b = openScionDb(sqlite3, vfs, 'main');
    a.exec('create table t(x)');
    a.exec('begin immediate; insert into t values (1)');
    expectCode(vfs, () => b.exec('begin immediate'), 'ConcurrentWrite');
    a.exec('commit');
    b.exec('begin immediate; insert into t values (2); commit');
    expect(count(a)).toBe(2);
  });

  it('a read transaction keeps its snapshot; upgrading a stale one is refused with ConcurrentWrite (BUSY_SNAPSHOT)', async () => {
    const { open, vfs } = await device();
    const a = await open('main');
    const b = openScionDb(sqlite3, vfs, 'main');
    a.exec('create table t(x); insert into t values (1)');
    b.exec('begin');
    expect(count(b)).toBe(1);
    a.exec('insert into t values (2)');
    expect(count(b)).toBe(1);
    expectCode(vfs, () => b.exec('insert into t values (3)'), 'ConcurrentWrite');
    b.exec('rollback');
    expect(count(b)).toBe(2);
    b.exec('insert into t values (3)');
    expect(count(a)).toBe(3);
  });

  it('SQLite notices a new snapshot after a pull (its page cache is dropped), and keeps its cache otherwise', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const b = await device(remote);
    const dbA = await a.open('main');
    dbA.exec('create table t(x); insert into t values (1)');
    const ga = a.runtime.mustGetTag('main');
    await a.runtime.graftPush(ga);
    const gb = await b.runtime.graftClone(a.runtime.mustGetGraft(ga).remote, { tag: 'main' });
    const dbB = openScionDb(sqlite3, b.vfs, 'main');
    expect(count(dbB)).toBe(1);
    const readsBefore = b.vfs.stats().pagesRead;
    expect(count(dbB)).toBe(1);
    expect(b.vfs.stats().pagesRead - readsBefore).toBeLessThanOrEqual(1); // only the header
    dbA.exec('insert into t values (2)');
    await a.runtime.graftPush(ga);
    expect(await b.runtime.graftPull(gb.local)).toMatchObject({ outcome: 'pulled' });
    expect(count(dbB)).toBe(2);
  });

  it('a commit whose graft moved on (a pull) fails with ConcurrentWrite and releases the write lock', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const b = await device(remote);
    const dbA = await a.open('main');
    dbA.exec('create table t(x)');
    await a.runtime.graftPush(a.runtime.mustGetTag('main'));
    const gb = await b.runtime.graftClone(a.runtime.mustGetGraft(a.runtime.mustGetTag('main')).remote, { tag: 'main' });
    const dbB = openScionDb(sqlite3, b.vfs, 'main');
    dbA.exec('insert into t values (1)');
    await a.runtime.graftPush(a.runtime.mustGetTag('main'));
    dbB.exec('begin immediate; insert into t values (2)');
    await b.runtime.graftPull(gb.local); // moves the sync point under the open write transaction
    expectCode(b.vfs, () => dbB.exec('commit'), 'ConcurrentWrite');
    // SQLite rolled the transaction back itself.
    expect(sqlite3.capi.sqlite3_get_autocommit(dbB.pointer!)).toBe(1);
    dbB.exec('insert into t values (3)');
    expect(dbB.selectValues('select x from t order by x')).toEqual([1, 3]);
  });

  it('checkout opens a read-only connection at a past LSN', async () => {
    const { open, runtime, vfs } = await device();
    const db = await open('main');
    db.exec('create table t(x); insert into t values (1)');
    db.exec('insert into t values (2)');
    const graft = runtime.mustGetTag('main');
    const past = openScionDb(sqlite3, vfs, 'main', { snapshot: runtime.volumeCheckout(graft, LSN.parse(2)) });
    expect(count(past)).toBe(1);
    expect(count(db)).toBe(2);
    expect(() => past.exec('insert into t values (3)')).toThrow();
  });
});

describe('lazy reads', () => {
  async function pushed(rows: number) {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const db = await a.open('main');
    db.exec('create table t(id integer primary key, body text); create index t_body on t(body)');
    db.transaction(() => {
      const stmt = db.prepare('insert into t(body) values (?)');
      for (let i = 0; i < rows; i++) stmt.bind([`${i}`.padStart(8, '0') + 'x'.repeat(400)]).stepReset();
      stmt.finalize();
    });
    const graft = a.runtime.mustGetTag('main');
    await a.runtime.graftPush(graft);
    return { remote, a, db, remoteVid: a.runtime.mustGetGraft(graft).remote };
  }

  it('a cold clone fetches the hot frame, then a point lookup costs only its leaf pages', async () => {
    const { remote, remoteVid, db } = await pushed(20_000);
    const pages = Number(db.selectValue('pragma page_count'));
    expect(pages).toBeGreaterThan(2000);
    const b = await device(remote);
    const g = await b.runtime.graftClone(remoteVid, { tag: 'main' });
    const hot = await b.runtime.graftHydrate(g.local, { hotOnly: true });
    expect(hot.framesDone).toBeGreaterThanOrEqual(1);
    const dbB = openScionDb(sqlite3, b.vfs, 'main');
    const before = b.runtime.readStats().framesFetched;
    expect(String(dbB.selectValue('select body from t where id = 12345'))).toMatch(/^00012344x/);
    const lookup = b.runtime.readStats().framesFetched - before;
    expect(lookup).toBeLessThanOrEqual(2);
    // A full scan fetches the rest; the results equal the writer's.
    expect(count(dbB)).toBe(20_000);
    expect(dbB.selectValue('select sum(length(body)) from t')).toBe(db.selectValue('select sum(length(body)) from t'));
    expect(dbB.selectValue('pragma integrity_check')).toBe('ok');
    expect(b.vfs.stats().readAheadPages).toBeGreaterThan(0);
  });

  it('offline, a query that needs a page never fetched fails with PageNotLocal', async () => {
    const { remote, remoteVid } = await pushed(5000);
    const b = await device(remote);
    await b.runtime.graftClone(remoteVid, { tag: 'main' });
    const dbB = openScionDb(sqlite3, b.vfs, 'main');
    remote.setOnline(false);
    expectCode(b.vfs, () => dbB.selectValue('select count(*) from t'), 'PageNotLocal');
    remote.setOnline(true);
    expect(Number(dbB.selectValue('select count(*) from t'))).toBe(5000);
  });
});
