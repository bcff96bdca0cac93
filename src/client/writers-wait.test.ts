// Writers wait their turn: a write that finds another connection's write transaction open queues behind
// it (first come, first served) for up to busyTimeoutMs, then fails with ConcurrentWrite having run nothing.
import { describe, expect, it } from 'vitest';
import type { Database } from './index.ts';
import { connect, rejection } from './testing.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens a write transaction on `db` that inserts `sql` and stays open until `release()`. */
function holdWrite(db: Database, sql: string): { release: () => void; done: Promise<void> } {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const done = db.transaction(async (tx) => {
    await tx.exec(sql);
    await held;
  });
  return { release, done };
}

describe('writers wait', () => {
  it('an autocommit write and a transaction wait for the open write transaction, then run in the order they came', async () => {
    const scion = await connect();
    const [a, b, c, d] = await Promise.all([scion.open('main'), scion.open('main'), scion.open('main'), scion.open('main')]);
    await a.exec('CREATE TABLE t(seq INTEGER PRIMARY KEY, who TEXT)');
    const order: string[] = [];
    const holder = holdWrite(a, "INSERT INTO t(who) VALUES ('a')");
    await sleep(10);
    const writes = [
      b.exec("INSERT INTO t(who) VALUES ('b')").then(() => order.push('b')),
      sleep(5).then(() => c.transaction(async (tx) => tx.exec("INSERT INTO t(who) VALUES ('c')"))).then(() => order.push('c')),
      sleep(10).then(() => d.exec("INSERT INTO t(who) VALUES ('d')")).then(() => order.push('d')),
    ];
    await sleep(60);
    // Reads do not wait.
    expect(await b.query('SELECT count(*) AS n FROM t')).toEqual([{ n: 0 }]);
    expect(order).toEqual([]);
    holder.release();
    await holder.done;
    await Promise.all(writes);
    expect(order).toEqual(['b', 'c', 'd']);
    expect((await a.query<{ who: string }>('SELECT who FROM t ORDER BY seq')).map((r) => r.who)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('past busyTimeoutMs the write fails with ConcurrentWrite and commits nothing; a bad timeout is InvalidInput', async () => {
    const scion = await connect();
    const a = await scion.open('main');
    const b = await scion.open('main', { busyTimeoutMs: 40 });
    await a.exec('CREATE TABLE t(x)');
    const holder = holdWrite(a, 'INSERT INTO t VALUES (1)');
    await sleep(5);
    const started = performance.now();
    const err = await rejection(b.exec('INSERT INTO t VALUES (2)'));
    expect(err).toMatchObject({ code: 'ConcurrentWrite', details: { waitedMs: 40 } });
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    expect((await rejection(b.transaction(async (tx) => tx.exec('INSERT INTO t VALUES (3)')))).code).toBe('ConcurrentWrite');
    holder.release();
    await holder.done;
    expect(await b.query('SELECT x FROM t')).toEqual([{ x: 1 }]);
    // With the lock free, the same write runs at once.
    await b.exec('INSERT INTO t VALUES (2)');
    expect((await rejection(scion.open('main', { busyTimeoutMs: -1 }))).code).toBe('InvalidInput');
  });

  it('a waiting write goes ahead when the holder rolls back or closes', async () => {
    const scion = await connect();
    const a = await scion.open('main');
    const b = await scion.open('main');
    await a.exec('CREATE TABLE t(x)');
    await a.exec('BEGIN IMMEDIATE');
    const waiting = b.exec('INSERT INTO t VALUES (1)');
    await sleep(20);
    await a.exec('ROLLBACK');
    await waiting;
    await a.exec('BEGIN IMMEDIATE');
    const next = b.exec('INSERT INTO t VALUES (2)');
    await sleep(20);
    await a.close();
    await next;
    expect(await b.query('SELECT x FROM t ORDER BY x')).toEqual([{ x: 1 }, { x: 2 }]);
  });
});
