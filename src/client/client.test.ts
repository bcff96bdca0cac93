// The client over a real comlink channel to a WorkerApi in this process (Node's MessageChannel stands
// in for the Worker): errors keep their codes, transactions hold other calls, callbacks cross as proxies.
import { describe, expect, it } from 'vitest';
import { ScionError } from '../core/index.ts';
import { MemoryRemote } from '../remote/index.ts';
import { type ChangeEvent, type Database, type Progress } from './index.ts';
import { connect, rejection } from './testing.ts';

describe('client', () => {
  it('runs SQL and returns rows as objects; errors are ScionErrors with codes and details', async () => {
    const db = await (await connect()).open('main');
    await db.exec('CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT)');
    expect(await db.exec('INSERT INTO t(body) VALUES (?), (?)', ['a', 'b'])).toEqual({ changes: 2, lastInsertRowid: 2 });
    expect(await db.query<{ id: number; body: string }>('SELECT * FROM t WHERE body = :body', { body: 'b' })).toEqual([{ id: 2, body: 'b' }]);
    const err = await rejection(db.exec('INSERT INTO t VALUES (1, ?)', ['dup']));
    expect(err).toBeInstanceOf(ScionError);
    expect(err).toMatchObject({ code: 'InvalidInput', details: { sqlite: 'SQLITE_CONSTRAINT_PRIMARYKEY' } });
    expect((await rejection(db.push())).code).toBe('InvalidInput'); // no remote
    await db.close();
    expect((await rejection(db.query('SELECT 1'))).code).toBe('Closed');
  });

  it('transaction commits, or rolls back and rethrows; other calls wait until it ends', async () => {
    const db = await (await connect()).open('main');
    await db.exec('CREATE TABLE t(x)');
    const order: string[] = [];
    const tx = db.transaction(async (t) => {
      await t.exec('INSERT INTO t VALUES (1)');
      await new Promise((r) => setTimeout(r, 20));
      order.push('tx body done');
      await t.exec('INSERT INTO t VALUES (2)');
      return 'ok';
    });
    const outside = db.status().then((s) => {
      order.push('outside');
      return s.localLsn;
    });
    expect(await tx).toBe('ok');
    expect(await outside).toBe(2);
    expect(order).toEqual(['tx body done', 'outside']);

    let escaped: { exec: (sql: string) => Promise<unknown> } | undefined;
    const boom = new Error('boom');
    await expect(db.transaction(async (t) => {
      escaped = t;
      await t.exec('INSERT INTO t VALUES (3)');
      throw boom;
    })).rejects.toBe(boom);
    expect(await db.query('SELECT count(*) AS n FROM t')).toEqual([{ n: 2 }]);
    expect((await rejection(escaped!.exec('SELECT 1'))).code).toBe('Closed');
  });

  it('db.exec, db.query or db.transaction inside db.transaction(fn) fail at once with InvalidInput naming tx; the transaction and the connection go on', async () => {
    const db = await (await connect()).open('main');
    await db.exec('CREATE TABLE t(x)');
    const inside: ScionError[] = [];
    const result = await db.transaction(async (tx) => {
      await tx.exec('INSERT INTO t VALUES (1)');
      inside.push(await rejection(db.exec('INSERT INTO t VALUES (2)')));
      inside.push(await rejection(db.query('SELECT 1')));
      inside.push(await rejection(db.transaction(async () => undefined)));
      await tx.exec('INSERT INTO t VALUES (3)');
      return 'done';
    });
    expect(result).toBe('done');
    expect(inside.map((e) => e.code)).toEqual(['InvalidInput', 'InvalidInput', 'InvalidInput']);
    expect(inside[0]?.message).toMatch(/use the tx argument/);
    expect(await db.query('SELECT x FROM t ORDER BY x')).toEqual([{ x: 1 }, { x: 3 }]);
  });

  it('a transaction whose commit conflicts fails with ConcurrentWrite and leaves no transaction open', async () => {
    const scion = await connect();
    const a = await scion.open('main');
    const b = await scion.open('main', { busyTimeoutMs: 0 });
    await a.exec('CREATE TABLE t(x)');
    const err = await rejection(a.transaction(async (t) => {
      await t.exec('INSERT INTO t VALUES (1)');
      await b.exec('INSERT INTO t VALUES (2)'); // b cannot write while a holds the write lock (and waits for it no time)
    }));
    expect(err.code).toBe('ConcurrentWrite');
    await b.exec('INSERT INTO t VALUES (2)');
    expect(await a.query('SELECT count(*) AS n FROM t')).toEqual([{ n: 1 }]);
  });

  it('onChange fires through a comlink proxy; checkout is a read-only Database; export and import round-trip', async () => {
    const db = await (await connect()).open('main');
    const events: ChangeEvent[] = [];
    const off = db.onChange((e) => events.push(e));
    await db.exec('CREATE TABLE t(x)');
    await db.exec('INSERT INTO t VALUES (1)');
    await expect.poll(() => events.length).toBe(2);
    off();
    await db.exec('INSERT INTO t VALUES (2)');
    await new Promise((r) => setTimeout(r, 20));
    expect(events.map((e) => e.lsn)).toEqual([1, 2]);

    const old: Database = await db.checkout(2);
    expect(old.readOnly).toBe(true);
    expect(old.checkoutOf).toEqual({ volume: 'local', lsn: 2 });
    expect(await old.query('SELECT count(*) AS n FROM t')).toEqual([{ n: 1 }]);
    expect((await rejection(old.push())).code).toBe('InvalidInput');
    expect((await rejection(old.exec('DELETE FROM t'))).code).toBe('InvalidInput');

    const file = await old.export();
    await old.close();
    const copy = await (await connect()).open('copy');
    expect(await copy.import(file)).toMatchObject({ pages: file.byteLength / 4096, sourcePageSize: 4096 });
    expect(await copy.query('SELECT * FROM t')).toEqual([{ x: 1 }]);
    // A Blob (a File from <input type=file>) and a stream (a fetch body) import the same content.
    await copy.exec('INSERT INTO t VALUES (2)');
    expect(await copy.import(new Blob([file.slice()]))).toMatchObject({ pages: file.byteLength / 4096, lsn: 3 });
    expect(await copy.query('SELECT * FROM t')).toEqual([{ x: 1 }]);
    await copy.exec('INSERT INTO t VALUES (3)');
    expect(await copy.import(new Response(new Blob([file.slice()])).body as ReadableStream<Uint8Array>)).toMatchObject({ lsn: 5 });
    expect(await copy.query('SELECT * FROM t')).toEqual([{ x: 1 }]);
  });

  it('sync operations: push, clone on another worker, hydrate with progress events, pull', async () => {
    const remote = new MemoryRemote();
    const a = await (await connect(remote)).open('main');
    await a.exec("CREATE TABLE t(x); INSERT INTO t SELECT zeroblob(3000) FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300) SELECT i FROM c)");
    expect(await a.push()).toMatchObject({ outcome: 'pushed' });
    const { remote: vid } = await a.status();
    const bScion = await connect(remote);
    const b = await bScion.open('main', { clone: vid });
    const progress: Progress[] = [];
    const done = await b.hydrate((p) => progress.push(p));
    expect(done.framesDone).toBe(done.framesTotal);
    expect(progress.at(-1)?.phase).toBe('done');
    expect(progress.at(-1)).toEqual({ operation: 'hydrate', phase: 'done', done: done.framesDone, total: done.framesTotal, bytes: done.bytes });
    expect(await b.fetch()).toEqual({ remoteLatest: 1 });
    expect(await b.pull()).toEqual({ outcome: 'up-to-date' });
    expect((await bScion.tags()).map((t) => [t.name, t.state])).toEqual([['main', 'in-sync']]);
    expect((await bScion.stats()).remote.framesFetched).toBeGreaterThan(0);
  });
});
