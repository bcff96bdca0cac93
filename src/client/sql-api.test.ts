// The app-facing SQL API over a real comlink channel to a WorkerApi in this process: array rows with
// column metadata, get, prepared statements, batched iteration, and what exec/query report.
import { describe, expect, it } from 'vitest';
import type { Database } from './index.ts';
import { connect, rejection } from './testing.ts';

async function database(): Promise<Database> {
  const db = await (await connect()).open('main');
  await db.exec(`CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT NOT NULL);
    CREATE TABLE b(id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id), v REAL);
    INSERT INTO a VALUES (1, 'one'), (2, 'two');
    INSERT INTO b VALUES (10, 1, 1.5), (20, 2, 2.5);`);
  return db;
}

/** A row type declared as an interface: it has no index signature, and query<Note> must accept it. */
interface Note {
  id: number;
  v: string;
}

describe('rows', () => {
  it("returns array rows with every column of a join, their names and declared types", async () => {
    const db = await database();
    const sql = 'SELECT a.id, b.id, a.v, b.v, a.id * 2 AS twice FROM a JOIN b ON b.a_id = a.id ORDER BY a.id';
    // As objects, columns sharing a name keep the last one's value (the documented loss)...
    expect(await db.query(sql)).toEqual([{ id: 10, v: 1.5, twice: 2 }, { id: 20, v: 2.5, twice: 4 }]);
    // ...as arrays, nothing is lost.
    expect(await db.query(sql, [], { rowMode: 'array' })).toEqual({
      columns: ['id', 'id', 'v', 'v', 'twice'],
      declaredTypes: ['INTEGER', 'INTEGER', 'TEXT', 'REAL', null],
      rows: [[1, 10, 'one', 1.5, 2], [2, 20, 'two', 2.5, 4]],
      changes: 0,
      lastInsertRowid: 20, // the connection's last insert (into b)
    });
    expect(await db.query('SELECT * FROM a WHERE id > 5', undefined, { rowMode: 'array' })).toMatchObject({ columns: ['id', 'v'], declaredTypes: ['INTEGER', 'TEXT'], rows: [] });
    // A write's array result tells what it changed, and its RETURNING rows.
    expect(await db.query("INSERT INTO a(v) VALUES ('x'), ('y') RETURNING id", [], { rowMode: 'array' })).toEqual({
      columns: ['id'], declaredTypes: ['INTEGER'], rows: [[3], [4]], changes: 2, lastInsertRowid: 4,
    });
    expect(await db.query("UPDATE a SET v = 'z' WHERE id > 2", [], { rowMode: 'array' })).toMatchObject({ columns: [], rows: [], changes: 2 });
    expect((await rejection(db.query('SELECT 1', [], { rowMode: 'rows' as 'array' }))).code).toBe('InvalidInput');
    expect(await db.query('PRAGMA graft_info', [], { rowMode: 'array' })).toMatchObject({ columns: expect.arrayContaining(['name']), rows: [expect.any(Array)] });
  });

  it('types rows with an interface', async () => {
    const db = await database();
    const notes: Note[] = await db.query<Note>('SELECT id, v FROM a ORDER BY id');
    expect(notes.map((n) => n.v)).toEqual(['one', 'two']);
    const first: Note | undefined = await db.get<Note>('SELECT id, v FROM a ORDER BY id');
    expect(first).toEqual({ id: 1, v: 'one' });
    expect(await db.get('SELECT * FROM a WHERE id = ?', [99])).toBeUndefined();
  });

  it('a multi-statement query returns the rows of its last statement that returns columns, having run them all', async () => {
    const db = await database();
    expect(await db.query("SELECT 1 AS first; INSERT INTO a VALUES (3, 'three'); SELECT count(*) AS n FROM a; -- done")).toEqual([{ n: 3 }]);
    expect(await db.query("INSERT INTO a VALUES (4, 'four') RETURNING id; UPDATE a SET v = 'x' WHERE id = 4")).toEqual([{ id: 4 }]);
    // A trigger body's semicolons do not split it.
    await db.exec(`CREATE TRIGGER t_a AFTER INSERT ON a BEGIN UPDATE b SET v = v + 1; UPDATE b SET v = v + 1; END;`);
    expect(await db.exec("INSERT INTO a VALUES (5, 'five; not a split')")).toMatchObject({ changes: 1, lastInsertRowid: 5 });
    expect(await db.query('SELECT v FROM b ORDER BY id')).toEqual([{ v: 3.5 }, { v: 4.5 }]);
    // A statement after an error does not run.
    expect((await rejection(db.exec("INSERT INTO a VALUES (1, 'dup'); INSERT INTO a VALUES (6, 'six')"))).code).toBe('InvalidInput');
    expect(await db.get('SELECT count(*) AS n FROM a WHERE id = 6')).toEqual({ n: 0 });
  });

  it('exec reports the rows this call changed, never an older statement\'s', async () => {
    const db = await database();
    expect((await db.exec('UPDATE a SET v = v')).changes).toBe(2);
    expect((await db.exec('SELECT * FROM a')).changes).toBe(0);
    expect((await db.exec('DELETE FROM a WHERE id = 99')).changes).toBe(0);
    expect((await db.exec('CREATE TABLE c(x)')).changes).toBe(0);
    expect((await db.exec('INSERT INTO c VALUES (1), (2); INSERT INTO c VALUES (3)')).changes).toBe(3);
    expect((await db.transaction(async (tx) => tx.exec('SELECT 1')))).toMatchObject({ changes: 0 });
  });
});

describe('prepared statements', () => {
  it('prepare checks the SQL and tells its columns; all/get/run/rows bind afresh each call', async () => {
    const db = await database();
    const byId = await db.prepare<Note>('SELECT id, v FROM a WHERE id = ?');
    expect(byId).toMatchObject({ columns: ['id', 'v'], declaredTypes: ['INTEGER', 'TEXT'], readOnly: true, parameterCount: 1 });
    expect(await byId.get([2])).toEqual({ id: 2, v: 'two' });
    expect(await byId.all([1])).toEqual([{ id: 1, v: 'one' }]);
    expect(await byId.rows([1])).toMatchObject({ rows: [[1, 'one']] });
    expect(await byId.get([7])).toBeUndefined();
    const insert = await db.prepare('INSERT INTO a(v) VALUES (:v)');
    expect(insert.readOnly).toBe(false);
    expect(await insert.run({ v: 'three' })).toEqual({ changes: 1, lastInsertRowid: 3 });
    expect(await insert.run({ v: 'four' })).toEqual({ changes: 1, lastInsertRowid: 4 });
    // Parameters are not kept from one call to the next.
    expect((await rejection(insert.run())).code).toBe('InvalidInput'); // v NOT NULL
    await insert.finalize();
    expect((await rejection(insert.run({ v: 'five' }))).code).toBe('Closed');
    await insert.finalize(); // twice: nothing
    expect(await db.get('SELECT count(*) AS n FROM a')).toEqual({ n: 4 });
  });

  it('prepare refuses bad SQL, several statements and graft pragmas; the statements go with the connection', async () => {
    const db = await database();
    expect(await rejection(db.prepare('SELEKT 1'))).toMatchObject({ code: 'InvalidInput', details: { sqlite: 'SQLITE_ERROR' } });
    expect((await rejection(db.prepare('SELECT 1; SELECT 2'))).code).toBe('InvalidInput');
    expect((await rejection(db.prepare('PRAGMA graft_status'))).code).toBe('InvalidInput');
    const stmt = await db.prepare('SELECT 1 AS one');
    await db.close();
    expect((await rejection(stmt.get())).code).toBe('Closed');
  });

  it('a prepared statement sees schema changes made after it was prepared', async () => {
    const db = await database();
    const all = await db.prepare('SELECT * FROM a ORDER BY id');
    await db.exec('ALTER TABLE a ADD COLUMN w INTEGER DEFAULT 7');
    expect(await all.get()).toEqual({ id: 1, v: 'one', w: 7 });
  });
});

describe('iterate', () => {
  it('streams a large result in batches, as objects or arrays, and other calls run between batches', async () => {
    const db = await database();
    await db.exec('CREATE TABLE big(n INTEGER PRIMARY KEY, s TEXT)');
    await db.exec('WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5000) INSERT INTO big SELECT n, printf(\'row %d\', n) FROM c');
    let count = 0;
    let sum = 0;
    for await (const row of db.iterate<{ n: number; s: string }>('SELECT n, s FROM big WHERE n > ? ORDER BY n', [0], { batchSize: 700 })) {
      count++;
      sum += row.n;
      if (count === 1000) expect(await db.get('SELECT count(*) AS c FROM a')).toEqual({ c: 2 });
    }
    expect({ count, sum }).toEqual({ count: 5000, sum: (5000 * 5001) / 2 });
    const arrays: unknown[] = [];
    for await (const row of db.iterate('SELECT a.id, b.id FROM a JOIN b ON b.a_id = a.id ORDER BY a.id', undefined, { rowMode: 'array', batchSize: 1 })) arrays.push(row);
    expect(arrays).toEqual([[1, 10], [2, 20]]);
  });

  it('a break ends the iteration and frees its read transaction; writes and bad batch sizes are refused', async () => {
    const db = await database();
    for await (const row of db.iterate('SELECT id FROM a', [], { batchSize: 1 })) {
      expect(row).toEqual({ id: 1 });
      break;
    }
    // No read transaction is left open: fork (which refuses open transactions) goes ahead.
    await expect(db.fork({ name: 'copy' })).resolves.toMatchObject({ name: 'copy' });
    const drain = async (it: AsyncIterable<unknown>) => {
      for await (const _ of it);
    };
    expect((await rejection(drain(db.iterate("INSERT INTO a VALUES (9, 'x') RETURNING id")))).code).toBe('InvalidInput');
    expect((await rejection(drain(db.iterate('SELECT 1', [], { batchSize: 0 })))).code).toBe('InvalidInput');
    expect(await db.get('SELECT count(*) AS n FROM a')).toEqual({ n: 2 });
    // Closing the database ends an iteration under way.
    const it = db.iterate('SELECT id FROM a', [], { batchSize: 1 });
    expect((await it.next()).value).toEqual({ id: 1 });
    await db.close();
    expect((await rejection(it.next())).code).toBe('Closed');
  });
});
