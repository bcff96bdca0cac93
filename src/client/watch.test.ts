// Live queries over a real comlink channel to a WorkerApi in this process: what commit events say
// about the tables they changed, and db.watch re-running exactly when a table it reads changed.
import { describe, expect, it } from 'vitest';
import type { WorkerApi } from '../../worker/api.ts';
import { MemoryRemote } from '../remote/index.ts';
import type { ChangeEvent, Database } from './index.ts';
import { connect } from './testing.ts';

/** A database on its own worker, counting the SQL queries the worker runs for it. */
async function counted(remote?: MemoryRemote): Promise<{ db: Database; queries: () => number; open: () => Promise<Database> }> {
  let n = 0;
  const scion = await connect(remote, (api: WorkerApi) => {
    const query = api.query.bind(api);
    api.query = (...args: Parameters<WorkerApi['query']>) => {
      n++;
      return query(...args);
    };
  });
  const db = await scion.open('main');
  return { db, queries: () => n, open: () => scion.open('main') };
}

/** Every delivery of a live query, and a way to wait for the next. */
function deliveries<R>(): { seen: R[]; listener: (rows: R) => void } {
  const seen: R[] = [];
  return { seen, listener: (rows) => void seen.push(rows) };
}

/** Lets the worker, the channel and the live query settle (nothing is pending after). */
async function settle(db: Database): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await db.status();
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('commit events name the tables they changed', () => {
  it('rows of each table, through triggers and WITHOUT ROWID tables; a schema change, an import: undefined', async () => {
    const { db } = await counted();
    const events: ChangeEvent[] = [];
    db.onChange((e) => events.push(e));
    await db.exec('CREATE TABLE a(id INTEGER PRIMARY KEY, v); CREATE TABLE log(msg); CREATE TABLE kv(k TEXT PRIMARY KEY, v) WITHOUT ROWID');
    await db.exec("CREATE TRIGGER a_log AFTER INSERT ON a BEGIN INSERT INTO log VALUES ('a'); END");
    await db.exec('INSERT INTO a(v) VALUES (1)');
    await db.exec("INSERT INTO kv VALUES ('x', 1)");
    await db.transaction(async (tx) => {
      await tx.exec("UPDATE kv SET v = 2 WHERE k = 'x'");
      await tx.exec('DELETE FROM a');
    });
    await db.transaction(async (tx) => {
      await tx.exec("INSERT INTO kv VALUES ('rolled back', 1)");
      throw new Error('no');
    }).catch(() => undefined);
    await db.exec('INSERT INTO A(v) VALUES (2)'); // names are case-insensitive
    await db.import(await db.export());
    await settle(db);
    // The three CREATE TABLEs are one text, so one commit (a schema change); then the trigger (a schema
    // change), the writes, the import.
    expect(events.map((e) => e.tables)).toEqual([undefined, undefined, ['a', 'log'], ['kv'], ['a', 'kv'], ['a', 'log'], undefined]);
  });
});

describe('db.watch', () => {
  it('delivers the rows now and after each change to a table it reads; a commit to another table re-runs nothing', async () => {
    const { db, queries } = await counted();
    await db.exec('CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT); CREATE TABLE other(x)');
    await db.exec("INSERT INTO note(body) VALUES ('a')");
    const d = deliveries<{ body: string }[]>();
    const stop = db.watch<{ body: string }>('SELECT body FROM note ORDER BY id', [], d.listener);
    await expect.poll(() => d.seen.length).toBe(1);
    expect(d.seen[0]).toEqual([{ body: 'a' }]);
    await db.exec("INSERT INTO note(body) VALUES ('b')");
    await expect.poll(() => d.seen.length).toBe(2);
    expect(d.seen[1]).toEqual([{ body: 'a' }, { body: 'b' }]);

    await settle(db);
    const before = queries();
    for (let i = 0; i < 5; i++) await db.exec('INSERT INTO other VALUES (?)', [i]);
    await settle(db);
    expect(queries() - before).toBe(0); // not re-run: it does not read `other`
    expect(d.seen).toHaveLength(2);

    // Re-run, but the same rows: not delivered again (the ids it does not select changed).
    await db.exec('UPDATE note SET id = id + 100');
    await settle(db);
    expect(queries() - before).toBe(1);
    expect(d.seen).toHaveLength(2);

    stop();
    await db.exec("INSERT INTO note(body) VALUES ('c')");
    await settle(db);
    expect(d.seen).toHaveLength(2);
    expect(queries() - before).toBe(1);
  });

  it('follows another connection\'s commits and a view\'s tables; after a schema change it reads the new tables', async () => {
    const { db, open } = await counted();
    await db.exec('CREATE TABLE a(x); CREATE TABLE b(x); CREATE VIEW v AS SELECT x FROM a');
    const d = deliveries<{ n: number }[]>();
    db.watch<{ n: number }>('SELECT count(*) AS n FROM v', undefined, d.listener);
    await expect.poll(() => d.seen).toEqual([[{ n: 0 }]]);
    const other = await open();
    await other.exec('INSERT INTO a VALUES (1)');
    await expect.poll(() => d.seen).toEqual([[{ n: 0 }], [{ n: 1 }]]);
    // The view now reads b: the live query follows b, and no longer a.
    await other.exec('DROP VIEW v; CREATE VIEW v AS SELECT x FROM b');
    await expect.poll(() => d.seen).toEqual([[{ n: 0 }], [{ n: 1 }], [{ n: 0 }]]);
    await other.exec('INSERT INTO b VALUES (1), (2)');
    await expect.poll(() => d.seen.at(-1)).toEqual([{ n: 2 }]);
    await other.exec('INSERT INTO a VALUES (2)');
    await settle(db);
    expect(d.seen).toHaveLength(4);
  });

  it('re-runs after a pull brings another device\'s commits', async () => {
    const remote = new MemoryRemote();
    const a = (await counted(remote)).db;
    await a.exec('CREATE TABLE t(x)');
    await a.push();
    const { remote: vid } = await a.status();
    const b = await (await connect(remote)).open('main', { clone: vid });
    const d = deliveries<{ x: number }[]>();
    b.watch<{ x: number }>('SELECT x FROM t', [], d.listener);
    await expect.poll(() => d.seen).toEqual([[]]);
    await a.exec('INSERT INTO t VALUES (42)');
    await a.push();
    expect(await b.pull()).toMatchObject({ outcome: 'pulled' });
    await expect.poll(() => d.seen).toEqual([[], [{ x: 42 }]]);
  });

  it('coalesces a burst of commits: fewer runs than commits, the last delivery is the final rows', async () => {
    const { db, queries } = await counted();
    await db.exec('CREATE TABLE t(x)');
    const d = deliveries<{ n: number }[]>();
    db.watch<{ n: number }>('SELECT count(*) AS n FROM t', [], d.listener);
    await expect.poll(() => d.seen.length).toBe(1);
    const before = queries();
    // 50 commits sent at once: while one run is under way, the commits behind it cause one more run.
    await Promise.all(Array.from({ length: 50 }, (_, i) => db.exec('INSERT INTO t VALUES (?)', [i])));
    await expect.poll(() => d.seen.at(-1)).toEqual([{ n: 50 }]);
    await settle(db);
    const runs = queries() - before;
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThan(50);
    expect(d.seen.length).toBeLessThanOrEqual(runs + 1);
  });

  it('as an async iterator, in array mode; leaving the loop stops it; a failing query throws', async () => {
    const { db, queries } = await counted();
    await db.exec('CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE q(id INTEGER PRIMARY KEY, p_id)');
    await db.exec('INSERT INTO p VALUES (1); INSERT INTO q VALUES (10, 1)');
    const seen: unknown[] = [];
    for await (const set of db.watch('SELECT p.id, q.id FROM p JOIN q ON q.p_id = p.id ORDER BY q.id', [], { rowMode: 'array' })) {
      seen.push(set.rows);
      if (seen.length === 2) break;
      await db.exec('INSERT INTO q VALUES (20, 1)');
    }
    expect(seen).toEqual([[[1, 10]], [[1, 10], [1, 20]]]);
    await settle(db);
    const before = queries();
    await db.exec('INSERT INTO q VALUES (30, 1)');
    await settle(db);
    expect(queries()).toBe(before);
    const failing = db.watch('SELECT * FROM missing');
    await expect(failing.next()).rejects.toMatchObject({ code: 'InvalidInput' });
  });

  it('watchers of the same SQL and parameters share one run per commit; each gets its own rows', async () => {
    const { db, queries } = await counted();
    await db.exec('CREATE TABLE t(id INTEGER PRIMARY KEY, x)');
    await db.exec('INSERT INTO t(x) VALUES (1), (2)');
    const sql = 'SELECT x FROM t WHERE x >= ? ORDER BY x';
    const a = deliveries<{ x: number }[]>();
    const b = deliveries<{ x: number }[]>();
    const other = deliveries<{ x: number }[]>();
    const stopA = db.watch<{ x: number }>(sql, [1], a.listener);
    await expect.poll(() => a.seen.length).toBe(1);
    await settle(db);
    const joined = queries();
    // A watcher joining a running query gets its latest rows without a run of its own.
    const stopB = db.watch<{ x: number }>(sql, [1], b.listener);
    await expect.poll(() => b.seen).toEqual([[{ x: 1 }, { x: 2 }]]);
    expect(queries()).toBe(joined);
    // Other parameters are another query.
    db.watch<{ x: number }>(sql, [2], other.listener);
    await expect.poll(() => other.seen).toEqual([[{ x: 2 }]]);

    b.seen[0]?.reverse(); // what one watcher does to its rows, nobody else sees
    await settle(db);
    const before = queries();
    await db.exec('INSERT INTO t(x) VALUES (3)');
    await expect.poll(() => [a.seen.length, b.seen.length, other.seen.length]).toEqual([2, 2, 2]);
    await settle(db);
    expect(queries() - before).toBe(2); // one run for a and b, one for `other`
    expect(a.seen).toEqual([[{ x: 1 }, { x: 2 }], [{ x: 1 }, { x: 2 }, { x: 3 }]]);
    expect(b.seen[1]).toEqual([{ x: 1 }, { x: 2 }, { x: 3 }]);
    expect(b.seen[1]).not.toBe(a.seen[1]);

    stopA(); // the other watcher of the query keeps it running
    await db.exec('INSERT INTO t(x) VALUES (4)');
    await expect.poll(() => b.seen.length).toBe(3);
    expect(a.seen).toHaveLength(2);
    stopB();
    await settle(db);
    const stopped = queries();
    await db.exec('INSERT INTO t(x) VALUES (5)');
    await expect.poll(() => other.seen.length).toBe(4);
    await settle(db);
    expect(queries() - stopped).toBe(1); // only `other` runs now
    expect(b.seen).toHaveLength(3);
  });

  it('a watcher joining a query whose last run failed hears the failure', async () => {
    const { db } = await counted();
    const errors: unknown[] = [];
    db.watch('SELECT * FROM missing', [], () => {}, { onError: (e) => errors.push(e) });
    await expect.poll(() => errors.length).toBe(1);
    const joined: unknown[] = [];
    db.watch('SELECT * FROM missing', [], () => {}, { onError: (e) => joined.push(e) });
    await expect.poll(() => joined).toEqual([expect.objectContaining({ code: 'InvalidInput' })]);
  });

  it('stops when its database closes', async () => {
    const { db } = await counted();
    await db.exec('CREATE TABLE t(x)');
    const errors: unknown[] = [];
    const d = deliveries<unknown[]>();
    db.watch('SELECT * FROM t', [], d.listener, { onError: (e) => errors.push(e) });
    await expect.poll(() => d.seen.length).toBe(1);
    await db.close();
    expect(errors).toEqual([]);
  });
});
