// Closing a Database while its transaction is open rolls the transaction back: the transaction's promise
// rejects with Closed, nothing it wrote is committed, and a body that never settles does not hold close up.
import { describe, expect, it } from 'vitest';
import type { Database } from './database.ts';
import { connect, rejection } from './testing.ts';

describe('close during a transaction', () => {
  it('rolls the open transaction back: it rejects with Closed and commits nothing', async () => {
    const scion = await connect();
    const [db, other] = await Promise.all([scion.open('main'), scion.open('main')]);
    await db.exec('CREATE TABLE t(x)');
    let wrote!: () => void;
    const written = new Promise<void>((r) => (wrote = r));
    let finish!: () => void;
    const bodyMayEnd = new Promise<void>((r) => (finish = r));
    const tx = db.transaction(async (t) => {
      await t.exec('INSERT INTO t VALUES (1)');
      wrote();
      await bodyMayEnd;
      await t.exec('INSERT INTO t VALUES (2)').catch(() => undefined);
    });
    await written;
    const closed = db.close();
    finish();
    const err = await rejection(tx);
    expect(err.code).toBe('Closed');
    expect(err.details).toMatchObject({ name: 'main', rolledBack: true });
    await closed;
    expect(await other.query('SELECT x FROM t')).toEqual([]);
    // The write lock is free again: another connection writes at once.
    await other.exec('INSERT INTO t VALUES (3)');
    expect(await other.query('SELECT x FROM t')).toEqual([{ x: 3 }]);
    expect((await rejection(db.query('SELECT 1'))).code).toBe('Closed');
  });

  it('does not wait for a transaction body that never settles', async () => {
    const scion = await connect();
    const [db, other] = await Promise.all([scion.open('main'), scion.open('main')]);
    await db.exec('CREATE TABLE t(x)');
    const { tx } = await stuckTransaction(db);
    const failure = rejection(tx);
    await db.close();
    expect((await failure).code).toBe('Closed');
    expect(await other.query('SELECT count(*) AS n FROM t')).toEqual([{ n: 0 }]);
  });

  it('a transaction started after close() fails with Closed and runs nothing', async () => {
    const scion = await connect();
    const [db, other] = await Promise.all([scion.open('main'), scion.open('main')]);
    await db.exec('CREATE TABLE t(x)');
    const closed = db.close();
    const late = db.transaction(async (t) => t.exec('INSERT INTO t VALUES (1)'));
    expect((await rejection(late)).code).toBe('Closed');
    await closed;
    expect(await other.query('SELECT count(*) AS n FROM t')).toEqual([{ n: 0 }]);
  });

  it('Scion.close() during a transaction whose body never settles rolls it back: no COMMIT is sent', async () => {
    const sent: string[] = [];
    const scion = await connect(undefined, (api) => {
      const exec = api.exec.bind(api);
      api.exec = (handle, sql, ...rest) => {
        sent.push(sql);
        return exec(handle, sql, ...rest);
      };
    });
    const db = await scion.open('main');
    await db.exec('CREATE TABLE t(x)');
    const { tx } = await stuckTransaction(db);
    const failure = rejection(tx);
    await scion.close();
    expect(await failure).toMatchObject({ code: 'Closed', details: { rolledBack: true } });
    expect(sent).not.toContain('COMMIT');
  });
});

/** A transaction that wrote a row and whose body never settles; resolves once the row is written. */
async function stuckTransaction(db: Database): Promise<{ tx: Promise<unknown> }> {
  let wrote!: () => void;
  const written = new Promise<void>((r) => (wrote = r));
  const tx = db.transaction(async (t) => {
    await t.exec('INSERT INTO t VALUES (1)');
    wrote();
    await new Promise<never>(() => undefined);
  });
  await written;
  // Wrapped: an async function returning the promise itself would wait for it.
  return { tx };
}
