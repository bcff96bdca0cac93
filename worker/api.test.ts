import { readFileSync } from 'node:fs';
import sqlite3InitModule, { type Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { LSN, RemoteKey, VolumeId } from '../src/core/index.ts';
import { MemoryRemote } from '../src/remote/index.ts';
import { SCION_VERSION } from '../src/vfs/index.ts';
import { WorkerApi } from './api.ts';
import { BrowserNetwork } from './network.ts';
import { failure, value } from './testing.ts';
import type { ChangeEvent, Row, SyncStatusEvent, WorkerConfig } from '../src/protocol/index.ts';

let sqlite3: Sqlite3Static;
beforeAll(async () => {
  sqlite3 = await sqlite3InitModule();
});

/** A worker API in Node: memory stores, the given in-memory bucket. */
async function device(remote?: MemoryRemote, network = new BrowserNetwork({}), config: WorkerConfig = {}) {
  const api = new WorkerApi({
    loadSqlite: async () => sqlite3,
    makeRemote: () => remote,
    network,
  });
  value(await api.init({ storage: 'memory', ...config }));
  const open = async (name: string, options = {}) => value(await api.open(name, options)).handle;
  const exec = async (h: number, sql: string, params?: Parameters<WorkerApi['exec']>[2]) => value(await api.exec(h, sql, params));
  const query = async (h: number, sql: string, params?: Parameters<WorkerApi['query']>[2]) => value(await api.query(h, sql, params)) as Row[];
  return { api, open, exec, query, network };
}

async function writeRows(d: Awaited<ReturnType<typeof device>>, h: number, from: number, to: number): Promise<void> {
  await d.exec(h, 'BEGIN IMMEDIATE');
  for (let i = from; i <= to; i++) await d.exec(h, 'INSERT INTO t(id, body) VALUES (?, ?)', [i, `row ${i}`]);
  await d.exec(h, 'COMMIT');
}

describe('SQL through the worker API', () => {
  it('creates, inserts 10,000 rows in a transaction, queries them as objects, and passes integrity_check', async () => {
    const d = await device();
    const h = await d.open('main');
    await d.exec(h, 'CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL)');
    await d.exec(h, 'BEGIN IMMEDIATE');
    for (let i = 1; i <= 10_000; i++) await d.exec(h, 'INSERT INTO t(id, name, v) VALUES (?, ?, ?)', [i, `row ${i}`, i / 2]);
    // COMMIT changes no rows itself (it used to report the last INSERT's count).
    expect(value(await d.api.exec(h, 'COMMIT'))).toMatchObject({ changes: 0, lastInsertRowid: 10_000 });
    expect(await d.query(h, 'SELECT count(*) AS n, sum(v) AS s FROM t')).toEqual([{ n: 10_000, s: 25_002_500 }]);
    expect(await d.query(h, 'SELECT id, name FROM t WHERE id = :id OR name = $name ORDER BY id', { id: 7, name: 'row 9' })).toEqual([
      { id: 7, name: 'row 7' },
      { id: 9, name: 'row 9' },
    ]);
    expect(await d.query(h, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    // One volume commit per SQLite commit: CREATE TABLE, then the transaction.
    expect(value(await d.api.status(h))).toMatchObject({ name: 'main', localLsn: 2, state: 'ahead', hasRemote: false });
  });

  it('binds named parameters with or without their prefix, and returns blobs, nulls and big integers', async () => {
    const d = await device();
    const h = await d.open('main');
    const rows = await d.query(h, 'SELECT :a AS a, @b AS b, $c AS c, :d AS d, 9007199254740993 AS big', { a: 1, '@b': new Uint8Array([1, 2]), c: null, d: true });
    expect(rows).toEqual([{ a: 1, b: new Uint8Array([1, 2]), c: null, d: 1, big: 9007199254740993n }]);
    // A colon inside a string literal is not a parameter.
    expect(await d.query(h, "SELECT ':x' AS s, @x AS x", { x: 5 })).toEqual([{ s: ':x', x: 5 }]);
  });

  it('a text of several statements that fails commits none of them (an error means nothing was committed)', async () => {
    const d = await device();
    const h = await d.open('main');
    await d.exec(h, 'CREATE TABLE k(id INTEGER PRIMARY KEY, v TEXT)');
    const lsn = value(await d.api.status(h)).localLsn;
    await failure(d.api.exec(h, "INSERT INTO k(v) VALUES ('first'); INSERT INTO nosuch VALUES (1)"), 'InvalidInput');
    await failure(d.api.exec(h, "INSERT INTO k(id, v) VALUES (1, 'a'); INSERT INTO k(id, v) VALUES (1, 'b')"), 'InvalidInput');
    await failure(d.api.query(h, "INSERT INTO k(v) VALUES ('x') RETURNING id; SELECT * FROM nosuch"), 'InvalidInput');
    expect(await d.query(h, 'SELECT count(*) AS n FROM k')).toEqual([{ n: 0 }]);
    expect(value(await d.api.status(h)).localLsn).toBe(lsn);
    // One that succeeds is one commit, and a transaction the text opens itself still works as written.
    await d.exec(h, "INSERT INTO k(v) VALUES ('a'); INSERT INTO k(v) VALUES ('b')");
    expect(value(await d.api.status(h)).localLsn).toBe(LSN.next(lsn));
    await d.exec(h, "BEGIN; INSERT INTO k(v) VALUES ('c'); COMMIT");
    expect(await d.query(h, 'SELECT v FROM k ORDER BY id')).toEqual([{ v: 'a' }, { v: 'b' }, { v: 'c' }]);
  });

  it('a runaway statement after a write in the same text is interrupted and the write is not committed', async () => {
    const d = await device();
    const h = await d.open('main');
    await d.exec(h, 'CREATE TABLE k(v TEXT)');
    await failure(d.api.exec(h, "INSERT INTO k VALUES ('first'); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c", undefined, { timeoutMs: 100 }), 'Interrupted');
    expect(await d.query(h, 'SELECT count(*) AS n FROM k')).toEqual([{ n: 0 }]);
  });

  it('maps SQLite failures to coded errors that keep the SQLite code', async () => {
    const d = await device();
    const h = await d.open('main');
    await d.exec(h, 'CREATE TABLE t(id INTEGER PRIMARY KEY)');
    await d.exec(h, 'INSERT INTO t VALUES (1)');
    const syntax = await failure(d.api.exec(h, 'SELEC 1'), 'InvalidInput');
    expect(syntax.details).toMatchObject({ sqlite: 'SQLITE_ERROR' });
    await d.exec(h, 'BEGIN');
    const nested = await failure(d.api.exec(h, 'BEGIN IMMEDIATE'), 'InvalidInput');
    expect(nested.details).toMatchObject({ sqlite: 'SQLITE_ERROR', transactionOpen: true });
    await d.exec(h, 'ROLLBACK');
    const unique = await failure(d.api.exec(h, 'INSERT INTO t VALUES (1)'), 'InvalidInput');
    expect(unique.details).toMatchObject({ sqlite: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    await failure(d.api.query(h, 'SELECT :nope', { other: 1 }), 'InvalidInput');
    await failure(d.api.open('bad name!'), 'InvalidInput');
    await failure(d.api.open('missing', { create: false }), 'TagNotFound');
    await failure(d.api.exec(999, 'SELECT 1'), 'Closed');
    await failure(d.api.push(h), 'InvalidInput'); // no remote
  });

  it('one writer per database: a second connection gets ConcurrentWrite until the first commits', async () => {
    const d = await device();
    const a = await d.open('main');
    const b = await d.open('main');
    await d.exec(a, 'CREATE TABLE t(x)');
    await d.exec(a, 'BEGIN IMMEDIATE');
    await d.exec(a, 'INSERT INTO t VALUES (1)');
    await failure(d.api.exec(b, 'BEGIN IMMEDIATE'), 'ConcurrentWrite');
    await d.exec(a, 'COMMIT');
    await d.exec(b, 'INSERT INTO t VALUES (2)');
    expect(await d.query(a, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 2 }]);
  });

  it('closing a handle closes its connection; a second init is refused', async () => {
    const d = await device();
    const h = await d.open('main');
    value(await d.api.close(h));
    await failure(d.api.query(h, 'SELECT 1'), 'Closed');
    await failure(d.api.init({ storage: 'memory' }), 'InvalidInput');
    await failure(new WorkerApi({ loadSqlite: async () => sqlite3 }).open('x'), 'Closed');
  });
});

describe('graft pragmas', () => {
  it('answer as rows, case-insensitively, with an optional semicolon; JSON where structured', async () => {
    const remote = new MemoryRemote();
    const d = await device(remote);
    const h = await d.open('main');
    await d.exec(h, 'CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT)');
    expect(await d.query(h, 'pragma GRAFT_VERSION;')).toEqual([{ scion: SCION_VERSION, sqlite: sqlite3.version.libVersion }]);
    const [status] = await d.query(h, 'PRAGMA graft_status');
    expect(status).toMatchObject({ name: 'main', state: 'ahead', local_lsn: 1, remote_lsn: null, ahead: 1, behind: 0, pending_push: null });
    const [pushed] = await d.query(h, 'PRAGMA graft_push');
    expect(pushed).toMatchObject({ outcome: 'pushed', remote_lsn: 1, local_lsn: 1, ways_out: null });
    expect(await d.query(h, 'PRAGMA main.graft_push')).toEqual([expect.objectContaining({ outcome: 'up-to-date' })]);
    expect(await d.query(h, 'PRAGMA graft_fetch')).toEqual([{ remote_latest: 1 }]);
    expect(await d.query(h, 'PRAGMA graft_pull')).toEqual([expect.objectContaining({ outcome: 'up-to-date' })]);
    expect(await d.query(h, 'PRAGMA graft_hydrate')).toEqual([{ frames_done: 0, frames_total: 0, bytes: 0 }]);
    expect(await d.query(h, 'PRAGMA graft_tags')).toEqual([{ name: 'main', graft: status?.local, remote: status?.remote, state: 'in-sync' }]);
    const [info] = await d.query(h, 'PRAGMA graft_info');
    expect(info).toMatchObject({ name: 'main', page_count: 2, size_bytes: 8192, pages_missing: 0, checkout: null });
    expect(JSON.parse(info?.snapshot as string)).toMatchObject({ pageCount: 2 });
    // exec runs them too, discarding the rows.
    expect(value(await d.api.exec(h, "PRAGMA graft_fork('copy')"))).toEqual({ changes: 0, lastInsertRowid: 0 });
    expect((value(await d.api.tags())).map((t) => t.name)).toEqual(['copy', 'main']);
  });

  it('refuse a graft pragma that is not alone in its call, and unknown graft pragmas', async () => {
    const d = await device();
    const h = await d.open('main');
    await failure(d.api.exec(h, 'SELECT 1; PRAGMA graft_push'), 'InvalidInput');
    await failure(d.api.query(h, 'PRAGMA graft_nope'), 'InvalidInput');
    // A pragma name inside a string is not a pragma.
    expect(await d.query(h, "SELECT 'PRAGMA graft_push' AS s")).toEqual([{ s: 'PRAGMA graft_push' }]);
  });

  it('graft_checkout pins the connection to a past LSN (read-only) until graft_checkout(latest)', async () => {
    const d = await device();
    const h = await d.open('main');
    await d.exec(h, 'CREATE TABLE t(x)'); // LSN 1
    await d.exec(h, 'INSERT INTO t VALUES (1)'); // LSN 2
    await d.exec(h, 'INSERT INTO t VALUES (2)'); // LSN 3
    expect(await d.query(h, "PRAGMA graft_checkout('2')")).toEqual([{ volume: 'local', lsn: 2, page_count: 2 }]);
    expect(await d.query(h, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 1 }]);
    await failure(d.api.exec(h, 'INSERT INTO t VALUES (3)'), 'InvalidInput');
    await d.query(h, 'PRAGMA graft_checkout = latest');
    expect(await d.query(h, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 2 }]);
    await failure(d.api.query(h, "PRAGMA graft_checkout('9')"), 'CommitNotFound');
    await failure(d.api.query(h, "PRAGMA graft_checkout('yesterday')"), 'InvalidInput');
  });
});

describe('sync between two devices through one bucket', () => {
  it('A pushes, B clones and pulls; both write, the second push diverges; B resets to the remote and continues', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const b = await device(remote);
    const ha = await a.open('notes');
    await a.exec(ha, 'CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT)');
    await writeRows(a, ha, 1, 100);
    expect(value(await a.api.push(ha))).toMatchObject({ outcome: 'pushed', remoteLsn: 1 });
    const { remote: vid } = value(await a.api.status(ha));

    const hb = await b.open('notes', { clone: vid });
    expect(await b.query(hb, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 100 }]);
    // Opening it again with the same remote is just opening it; with another remote it is refused.
    value(await b.api.close(await b.open('notes', { clone: vid })));
    await failure(b.api.open('notes', { clone: value(await a.api.status(await a.open('other'))).remote }), 'GraftRemoteMismatch');
    const events: ChangeEvent[] = [];
    value(await b.api.subscribe(hb, (e) => events.push(e)));

    await writeRows(a, ha, 101, 150);
    value(await a.api.push(ha));
    expect(value(await b.api.pull(hb))).toMatchObject({ outcome: 'pulled', to: 2 });
    expect(await b.query(hb, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 150 }]);
    expect(events).toEqual([expect.objectContaining({ name: 'notes', reason: 'pull', lsn: 2 })]);

    // Both write; A pushes first.
    await writeRows(a, ha, 151, 160);
    await writeRows(b, hb, 1001, 1005);
    expect(value(await a.api.push(ha))).toMatchObject({ outcome: 'pushed', remoteLsn: 3 });
    expect(value(await b.api.push(hb))).toMatchObject({ outcome: 'diverged', ahead: 1, behind: 1, waysOut: ['reset', 'fork'] });
    expect(value(await b.api.status(hb)).state).toBe('diverged');

    // B takes the remote's side: a fresh graft on the same remote, the name moved to it.
    const reset = value(await b.api.clone(hb));
    expect(reset).toMatchObject({ state: 'in-sync', remoteLsn: 3, ahead: 0 });
    expect(events.at(-1)).toMatchObject({ reason: 'graft', graft: reset.local });
    expect(await b.query(hb, 'SELECT count(*) AS n, max(id) AS top FROM t')).toEqual([{ n: 160, top: 160 }]);
    await writeRows(b, hb, 161, 170);
    expect(events.at(-1)).toMatchObject({ reason: 'commit', graft: reset.local, lsn: 1 });
    expect(value(await b.api.push(hb))).toMatchObject({ outcome: 'pushed', remoteLsn: 4 });
    expect(value(await a.api.pull(ha))).toMatchObject({ outcome: 'pulled', to: 4 });
    expect(await a.query(ha, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 170 }]);
  });

  it('cloning a well-formed remote volume id that was never pushed fails with VolumeNotFound and creates nothing', async () => {
    const remote = new MemoryRemote();
    const d = await device(remote);
    const never = 'v' + '0'.repeat(25);
    const err = await failure(d.api.open('copy', { clone: never }), 'VolumeNotFound');
    expect(err.message).toMatch(/never pushed, or the id is mistyped/);
    expect(value(await d.api.tags())).toEqual([]);
    // Moving an existing database to such a remote fails the same way and leaves it where it was.
    const h = await d.open('main');
    await d.exec(h, 'CREATE TABLE t(x)');
    const before = value(await d.api.status(h));
    await failure(d.api.clone(h, never), 'VolumeNotFound');
    expect(value(await d.api.status(h))).toMatchObject({ local: before.local, remote: before.remote });
    // Resetting a database never pushed (to its own empty remote) still gives an empty database.
    expect(value(await d.api.clone(h))).toMatchObject({ state: 'in-sync', localLsn: undefined });
  });

  it('moveToNewRemote re-homes a database whose remote volume is damaged: another device clones the new one and reads every row', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const ha = await a.open('main');
    await a.exec(ha, 'CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT)');
    await writeRows(a, ha, 1, 300);
    expect(value(await a.api.push(ha))).toMatchObject({ outcome: 'pushed', remoteLsn: 1 });
    await writeRows(a, ha, 301, 400);
    expect(value(await a.api.push(ha))).toMatchObject({ outcome: 'pushed', remoteLsn: 2 });
    const old = value(await a.api.status(ha));
    // The bucket keeps an empty body for commit 2 (a torn upload): the old remote volume is unusable.
    remote.objects.set(RemoteKey.commit(VolumeId.parse(old.remote), LSN.parse(2)), { bytes: new Uint8Array(0), lastModified: Date.now() });
    // And no hint: its tail would still carry a good copy of commit 2.
    remote.objects.delete(RemoteKey.latest(VolumeId.parse(old.remote)));
    const b = await device(remote);
    expect((await b.api.open('main', { clone: old.remote })).ok).toBe(false);

    const moved = value(await a.api.moveToNewRemote(ha));
    expect(moved.remote).not.toBe(old.remote);
    expect(moved).toMatchObject({ state: 'in-sync', remoteLsn: 1, ahead: 0 });
    expect(await a.query(ha, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 400 }]);
    const hb = value(await b.api.open('main', { clone: moved.remote })).handle;
    expect(await b.query(hb, 'SELECT count(*) AS n, max(id) AS top FROM t')).toEqual([{ n: 400, top: 400 }]);
    await a.exec(ha, "INSERT INTO t(id, body) VALUES (401, 'after the move')");
    expect(value(await a.api.push(ha))).toMatchObject({ outcome: 'pushed', remoteLsn: 2 });
    expect(value(await b.api.pull(hb))).toMatchObject({ outcome: 'pulled', to: 2 });
    expect(await b.query(hb, 'SELECT body FROM t WHERE id = 401')).toEqual([{ body: 'after the move' }]);
  });

  it('fork keeps local changes on a new remote volume: the way out of divergence that loses nothing', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const h = await a.open('main');
    await a.exec(h, 'CREATE TABLE t(x); INSERT INTO t VALUES (1)');
    value(await a.api.push(h));
    const before = value(await a.api.status(h));
    await a.exec(h, 'INSERT INTO t VALUES (2)');
    const fork = value(await a.api.fork(h));
    expect(fork.previous).toBe(before.local);
    const after = value(await a.api.status(h));
    expect(after).toMatchObject({ local: fork.graft, remote: fork.remote, state: 'ahead' });
    expect(await a.query(h, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 2 }]);
    expect(value(await a.api.push(h))).toMatchObject({ outcome: 'pushed', remoteLsn: 1 });
  });

  it('a pull is refused while a write transaction is open, so it never slips under one', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const b = await device(remote);
    const ha = await a.open('main');
    await a.exec(ha, 'CREATE TABLE t(x)');
    value(await a.api.push(ha));
    const hb = await b.open('main', { clone: value(await a.api.status(ha)).remote });
    await a.exec(ha, 'INSERT INTO t VALUES (1)');
    value(await a.api.push(ha));
    await b.exec(hb, 'BEGIN IMMEDIATE');
    await failure(b.api.pull(hb), 'ConcurrentWrite');
    await b.exec(hb, 'ROLLBACK');
    expect(value(await b.api.pull(hb)).outcome).toBe('pulled');
  });

  it('lazy reads: a clone fetches the hot frames, a point query a few frames more, a scan the rest; offline misses fail with PageNotLocal', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const ha = await a.open('big');
    await a.exec(ha, 'CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT)');
    await a.exec(ha, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000) INSERT INTO t SELECT i, printf('%08d', i) || zeroblob(300) FROM c");
    value(await a.api.push(ha));
    const vid = value(await a.api.status(ha)).remote;

    const b = await device(remote);
    const hb = await b.open('big', { clone: vid });
    const cloned = value(await b.api.stats()).remote.framesFetched;
    expect(cloned).toBeGreaterThanOrEqual(1);
    expect(await b.query(hb, 'SELECT substr(body, 1, 8) AS b FROM t WHERE id = 12345')).toEqual([{ b: '00012345' }]);
    expect(value(await b.api.stats()).remote.framesFetched - cloned).toBeLessThanOrEqual(2);

    const c = await device(remote);
    const hc = await c.open('big', { clone: vid });
    remote.setOnline(false);
    const offline = await failure(c.api.query(hc, 'SELECT count(*) FROM t'), 'PageNotLocal');
    expect(offline.message).toMatch(/not available offline/);
    remote.setOnline(true);

    expect(await b.query(hb, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 20_000 }]);
    const [info] = await b.query(hb, 'PRAGMA graft_info');
    expect(info?.pages_missing).toBe(0);
  });
});

describe('checkout, import and export', () => {
  it('checkout(lsn) shows the old rows while the latest snapshot shows the new ones: local LSNs, unpushed ones on the remote, remote LSNs', async () => {
    const remote = new MemoryRemote();
    const d = await device(remote);
    const h = await d.open('main');
    await d.exec(h, 'CREATE TABLE t(x)'); // local 1
    await d.exec(h, 'INSERT INTO t VALUES (1)'); // local 2
    await d.exec(h, 'INSERT INTO t VALUES (2)'); // local 3
    const old = value(await d.api.checkout(h, 2));
    expect(old).toMatchObject({ readOnly: true, checkout: { volume: 'local', lsn: 2 } });
    expect(await d.query(old.handle, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 1 }]);
    expect(await d.query(h, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 2 }]);
    await failure(d.api.exec(old.handle, 'INSERT INTO t VALUES (3)'), 'InvalidInput');
    await failure(d.api.checkout(h, 99), 'CommitNotFound');

    value(await d.api.push(h)); // remote 1 = local 1..3
    await d.exec(h, 'INSERT INTO t VALUES (3)'); // local 4, not pushed: seen on top of the remote
    expect(await d.query(value(await d.api.checkout(h, 4)).handle, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 3 }]);
    value(await d.api.push(h)); // remote 2
    expect(await d.query(value(await d.api.checkout(h, 1, 'remote')).handle, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 2 }]);
    expect(await d.query(value(await d.api.checkout(h, 2, 'remote')).handle, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 3 }]);
    // A pushed local LSN: its base is no longer known locally; the error names the remote LSN.
    const pushed = await failure(d.api.checkout(h, 2), 'InvalidInput');
    expect(pushed.details).toMatchObject({ remoteLsn: 2 });
  });

  function sqliteFile(pageSize: number): Uint8Array {
    const db = new sqlite3.oo1.DB(':memory:');
    db.exec(`PRAGMA page_size=${pageSize}; VACUUM; CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT); CREATE INDEX t_body ON t(body)`);
    db.exec("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000) INSERT INTO t SELECT i, hex(randomblob(40)) FROM c");
    const bytes = sqlite3.capi.sqlite3_js_db_export(db);
    db.close();
    return bytes;
  }

  function rowsOf(bytes: Uint8Array): Row[] {
    const db = new sqlite3.oo1.DB(':memory:');
    const p = sqlite3.wasm.allocFromTypedArray(bytes);
    sqlite3.capi.sqlite3_deserialize(db, 'main', p, bytes.byteLength, bytes.byteLength, sqlite3.capi.SQLITE_DESERIALIZE_FREEONCLOSE);
    const rows = db.exec({ sql: 'SELECT * FROM t ORDER BY id', rowMode: 'object', returnValue: 'resultRows' }) as Row[];
    db.close();
    return rows;
  }

  it('imports a plain 4096-byte-page SQLite file made by another SQLite and exports the same bytes', async () => {
    const d = await device();
    const h = await d.open('imported');
    await d.exec(h, 'CREATE TABLE old(x); INSERT INTO old VALUES (1)'); // one text, one commit
    const file = sqliteFile(4096);
    expect(value(await d.api.importFile(h, file))).toMatchObject({ pages: file.byteLength / 4096, sourcePageSize: 4096, lsn: 2 });
    expect(await d.query(h, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 3000 }]);
    await failure(d.api.query(h, 'SELECT * FROM old'), 'InvalidInput');
    expect(await d.query(h, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    const out = value(await d.api.exportFile(h));
    expect(out).toEqual(file);
    // Still writable after the import, and the export follows.
    await d.exec(h, "INSERT INTO t(body) VALUES ('after')");
    expect(rowsOf(value(await d.api.exportFile(h)))).toHaveLength(3001);
  });

  it('rewrites other page sizes to 4096 on import, keeping the content', async () => {
    const d = await device();
    const h = await d.open('imported');
    const file = sqliteFile(1024);
    const result = value(await d.api.importFile(h, file));
    expect(result.sourcePageSize).toBe(1024);
    expect(await d.query(h, 'PRAGMA page_size')).toEqual([{ page_size: 4096 }]);
    expect(await d.query(h, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    const exported = value(await d.api.exportFile(h));
    expect(rowsOf(exported)).toEqual(rowsOf(file));
  });

  it('rejects bytes that are not a SQLite database with InvalidInput, leaving the database as it was', async () => {
    const d = await device();
    const h = await d.open('main');
    await d.exec(h, 'CREATE TABLE t(x)');
    await failure(d.api.importFile(h, new TextEncoder().encode('hello, not a database')), 'InvalidInput');
    const fake = new Uint8Array(8192);
    fake.set(new TextEncoder().encode('SQLite format 3\0'));
    fake.set([0x10, 0x00, 1, 1], 16);
    const err = await failure(d.api.importFile(h, fake), 'InvalidInput');
    expect(err.message).toMatch(/Not a valid SQLite database/);
    expect(await d.query(h, "SELECT name FROM sqlite_schema")).toEqual([{ name: 't' }]);
  });

  it('refuses a file whose header page count disagrees with its length (truncated or padded), naming both', async () => {
    const d = await device();
    const source = await d.open('source');
    await d.exec(source, "CREATE TABLE t(x); INSERT INTO t SELECT zeroblob(3000) FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20) SELECT i FROM c)");
    const file = value(await d.api.exportFile(source));
    const pages = file.byteLength / 4096;
    const h = await d.open('main');
    await d.exec(h, 'CREATE TABLE kept(x)');
    const truncated = await failure(d.api.importFile(h, file.slice(0, file.byteLength - 4096)), 'InvalidInput');
    expect(truncated.message).toMatch(new RegExp(`header says ${pages} pages of 4096 bytes.*file is ${file.byteLength - 4096} bytes`));
    const padded = new Uint8Array(file.byteLength + 4096);
    padded.set(file);
    await failure(d.api.importFile(h, padded), 'InvalidInput');
    expect(await d.query(h, 'SELECT name FROM sqlite_schema')).toEqual([{ name: 'kept' }]);
    expect(value(await d.api.importFile(h, file))).toMatchObject({ pages });
    expect(await d.query(h, 'SELECT count(*) AS n FROM t')).toEqual([{ n: 20 }]);
  });
});

describe('change events and autosync', () => {
  it('onChange fires after local commits of any connection, not after reads or rollbacks', async () => {
    const d = await device();
    const a = await d.open('main');
    const b = await d.open('main');
    const events: ChangeEvent[] = [];
    value(await d.api.subscribe(a, (e) => events.push(e)));
    await d.exec(b, 'CREATE TABLE t(x)');
    await d.exec(a, 'INSERT INTO t VALUES (1)');
    await d.query(a, 'SELECT * FROM t');
    await d.exec(a, 'BEGIN IMMEDIATE; INSERT INTO t VALUES (2); ROLLBACK');
    await Promise.resolve();
    expect(events.map((e) => [e.reason, e.lsn])).toEqual([['commit', 1], ['commit', 2]]);
    const id = value(await d.api.subscribe(a, () => undefined));
    value(await d.api.unsubscribe(id));
  });

  it('autosync pushes soon after a commit, pulls on the other device, and reports its status', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const b = await device(remote);
    const ha = await a.open('main', { autosync: { intervalMs: 50, afterCommitMs: 10 } });
    const statusA: SyncStatusEvent[] = [];
    value(await a.api.subscribeSyncStatus(ha, (e) => statusA.push(e)));
    await a.exec(ha, 'CREATE TABLE t(x); INSERT INTO t VALUES (1)');
    await expect.poll(async () => value(await a.api.status(ha)).state, { timeout: 5000 }).toBe('in-sync');
    expect(statusA.some((e) => e.state === 'idle' && e.pushed)).toBe(true);

    const hb = await b.open('main', { clone: value(await a.api.status(ha)).remote });
    const changes: ChangeEvent[] = [];
    value(await b.api.subscribe(hb, (e) => changes.push(e)));
    value(await b.api.setAutosync(hb, { intervalMs: 30, afterCommitMs: 10 }));
    await a.exec(ha, 'INSERT INTO t VALUES (2)');
    await expect.poll(async () => (await b.query(hb, 'SELECT count(*) AS n FROM t'))[0]?.n, { timeout: 5000 }).toBe(2);
    expect(changes.some((e) => e.reason === 'pull')).toBe(true);

    // Offline: the loop waits; back online, it syncs.
    b.network.set(false);
    await a.exec(ha, 'INSERT INTO t VALUES (3)');
    await expect.poll(async () => value(await a.api.status(ha)).state, { timeout: 5000 }).toBe('in-sync');
    await new Promise((r) => setTimeout(r, 100));
    expect((await b.query(hb, 'SELECT count(*) AS n FROM t'))[0]?.n).toBe(2);
    b.network.set(true);
    await expect.poll(async () => (await b.query(hb, 'SELECT count(*) AS n FROM t'))[0]?.n, { timeout: 5000 }).toBe(3);

    value(await a.api.setAutosync(ha, false));
    expect(statusA.at(-1)?.state).toBe('stopped');
    value(await b.api.shutdown());
    value(await a.api.shutdown());
  });
});

it('autosync given to init applies to every database opened with a remote', async () => {
  const d = await device(new MemoryRemote(), new BrowserNetwork({}), { autosync: { intervalMs: 20, afterCommitMs: 5 } });
  const h = await d.open('main');
  await d.exec(h, 'CREATE TABLE t(x)');
  await expect.poll(async () => value(await d.api.status(h)).state, { timeout: 5000 }).toBe('in-sync');
  value(await d.api.shutdown());
});

it('SCION_VERSION matches package.json', () => {
  expect(SCION_VERSION).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
});
