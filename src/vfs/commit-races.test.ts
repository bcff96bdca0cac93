// Write transactions racing pushes, pulls and failing stores, through SQLite on the VFS: a push never
// fails an open write transaction; a refused commit commits nothing and leaves no trace in its
// connection's page cache; a commit the store fails at the last step fails the call and leaves no trace either.
import sqlite3InitModule, { type Database, type Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { isScionError, ScionError, type ErrorCode, type LSN, type VolumeId } from '../core/index.ts';
import { MemoryCatalog, MemoryStore, type LocalStore } from '../local/index.ts';
import { MemoryRemote } from '../remote/index.ts';
import { Runtime } from '../runtime/index.ts';
import { installScionVfs, openScionDb, planSqliteFrames, type ScionVfs } from './index.ts';

let sqlite3: Sqlite3Static;
beforeAll(async () => {
  sqlite3 = await sqlite3InitModule();
});

/** A bucket whose commit PUTs wait while `hold` is set: a push stays in flight as long as a test needs. */
class HeldRemote extends MemoryRemote {
  #release: (() => void) | undefined;
  #held: Promise<void> | undefined;
  waiting = 0;

  hold(): void {
    this.#held = new Promise((resolve) => (this.#release = resolve));
  }

  release(): void {
    this.#held = undefined;
    this.#release?.();
  }

  override async putCommit(vid: VolumeId, lsn: LSN, bytes: Uint8Array) {
    if (this.#held) {
      this.waiting++;
      await this.#held;
      this.waiting--;
    }
    return super.putCommit(vid, lsn, bytes);
  }
}

let vfsCount = 0;
async function device(remote?: MemoryRemote, store: LocalStore = MemoryStore.open()) {
  const runtime = await Runtime.open({ store, catalog: new MemoryCatalog(), remote, planFrames: planSqliteFrames });
  const vfs = installScionVfs(sqlite3, runtime, { name: `scion-races-${++vfsCount}` });
  await runtime.tagOpen('bank');
  const connect = (): Database => openScionDb(sqlite3, vfs, 'bank');
  return { runtime, vfs, connect, graft: () => runtime.mustGetTag('bank') };
}

function run<T>(vfs: ScionVfs, fn: () => T): T {
  return vfs.run(fn);
}

function failure(vfs: ScionVfs, fn: () => unknown, code: ErrorCode): ScionError {
  try {
    vfs.run(fn);
  } catch (e) {
    expect(isScionError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
    return e as ScionError;
  }
  throw new Error(`expected ${code}, but it succeeded`);
}

const ids = (db: Database): string[] => db.selectValues('SELECT id FROM log ORDER BY id') as string[];

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(condition()).toBe(true);
}

describe('a push landing under open transactions', () => {
  it('fails none of them: a transaction begun before the push commits after it, and every connection reads exactly what was committed', async () => {
    const remote = new HeldRemote();
    const d = await device(remote);
    const a = d.connect();
    const b = d.connect();
    run(d.vfs, () => a.exec("CREATE TABLE log(id TEXT PRIMARY KEY); INSERT INTO log VALUES ('a1')"));
    remote.hold();
    const push = d.runtime.graftPush(d.graft());
    await until(() => remote.waiting === 1);
    // A commit made while the push is in flight stays above what it carries.
    run(d.vfs, () => b.exec("INSERT INTO log VALUES ('b1')"));
    run(d.vfs, () => a.exec("BEGIN IMMEDIATE; INSERT INTO log VALUES ('a2')"));
    remote.release();
    expect(await push).toMatchObject({ outcome: 'pushed', localLsn: 2 });
    run(d.vfs, () => a.exec('COMMIT'));
    run(d.vfs, () => b.exec("INSERT INTO log VALUES ('b2')"));
    run(d.vfs, () => a.exec("INSERT INTO log VALUES ('a3')"));
    for (const db of [a, b]) expect(ids(db)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
    expect(await d.runtime.graftPush(d.graft())).toMatchObject({ outcome: 'pushed' });

    // Another device sees the same rows.
    const other = await device(remote);
    await other.runtime.graftClone(d.runtime.mustGetGraft(d.graft()).remote, { tag: 'bank' });
    expect(ids(other.connect())).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
  });
});

describe('a commit refused because the data changed (a pull)', () => {
  it('commits nothing, and its connection then reads what the others committed, not its own refused rows', async () => {
    const remote = new MemoryRemote();
    const d = await device(remote);
    const a = d.connect();
    const b = d.connect();
    run(d.vfs, () => a.exec("CREATE TABLE log(id TEXT PRIMARY KEY); INSERT INTO log VALUES ('start')"));
    await d.runtime.graftPush(d.graft());
    const other = await device(remote);
    await other.runtime.graftClone(d.runtime.mustGetGraft(d.graft()).remote, { tag: 'bank' });
    run(other.vfs, () => other.connect().exec("INSERT INTO log VALUES ('remote')"));
    await other.runtime.graftPush(other.graft());

    run(d.vfs, () => a.exec("BEGIN IMMEDIATE; INSERT INTO log VALUES ('refused'); UPDATE log SET id = 'start-refused' WHERE id = 'start'"));
    const before = d.runtime.graftStatus(d.graft()).localLsn;
    expect(await d.runtime.graftPull(d.graft())).toMatchObject({ outcome: 'pulled' });
    const e = failure(d.vfs, () => a.exec('COMMIT'), 'ConcurrentWrite');
    expect(e.message).toMatch(/Nothing was committed/);
    expect(d.runtime.graftStatus(d.graft()).localLsn).toBe(before);
    expect(sqlite3.capi.sqlite3_get_autocommit(a.pointer as number)).toBe(1);
    run(d.vfs, () => b.exec("INSERT INTO log VALUES ('b')"));
    expect(ids(a)).toEqual(['b', 'remote', 'start']);
    run(d.vfs, () => a.exec("INSERT INTO log VALUES ('a')"));
    expect(ids(b)).toEqual(['a', 'b', 'remote', 'start']);
    expect(a.selectValue('PRAGMA integrity_check')).toBe('ok');
  });

  it('also when the database was moved to another graft under the transaction', async () => {
    const d = await device();
    const a = d.connect();
    run(d.vfs, () => a.exec("CREATE TABLE log(id TEXT PRIMARY KEY); INSERT INTO log VALUES ('start')"));
    const old = d.graft();
    run(d.vfs, () => a.exec("BEGIN IMMEDIATE; INSERT INTO log VALUES ('refused')"));
    const fork = await d.runtime.graftFork(d.runtime.graftSnapshot(old));
    await d.runtime.tagReplace('bank', fork.local);
    failure(d.vfs, () => a.exec('COMMIT'), 'ConcurrentWrite');
    expect(d.runtime.graftStatus(old).localLsn).toBe(2);
    expect(ids(a)).toEqual(['start']);
  });
});

describe('a commit the store fails at its last step (FCNTL_COMMIT_PHASETWO)', () => {
  it('fails the call with the store\'s error, commits nothing, and the connection goes on from the committed data', async () => {
    const store = MemoryStore.open();
    let refuse = false;
    const failing = new Proxy(store, {
      get(target, key, receiver) {
        if (key === 'appendCommitsSync' && refuse) {
          return () => {
            refuse = false;
            throw new ScionError('Internal', 'The disk is full.');
          };
        }
        const v = Reflect.get(target, key, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const d = await device(undefined, failing);
    const a = d.connect();
    const b = d.connect();
    run(d.vfs, () => a.exec("CREATE TABLE log(id TEXT PRIMARY KEY); INSERT INTO log VALUES ('start')"));
    refuse = true;
    const e = failure(d.vfs, () => a.exec("INSERT INTO log VALUES ('lost'); INSERT INTO log VALUES ('after')"), 'Internal');
    expect(e.message).toMatch(/disk is full/);
    expect(d.runtime.graftStatus(d.graft()).localLsn).toBe(2);
    // The statement after the failed commit did not run on top of it.
    expect(ids(b)).toEqual(['start']);
    expect(ids(a)).toEqual(['start']);
    run(d.vfs, () => a.exec("INSERT INTO log VALUES ('next')"));
    expect(ids(b)).toEqual(['next', 'start']);

    // A transaction over two databases (ATTACH) fails the same way.
    await d.runtime.tagOpen('audit');
    run(d.vfs, () => a.exec("ATTACH 'audit' AS audit; PRAGMA audit.journal_mode=MEMORY; PRAGMA audit.page_size=4096; CREATE TABLE audit.trail(id TEXT)"));
    refuse = true;
    const both = failure(d.vfs, () => a.exec("BEGIN; INSERT INTO log VALUES ('both'); INSERT INTO audit.trail VALUES ('both'); COMMIT"), 'Internal');
    expect(both.message).toMatch(/disk is full/);
  });
});
