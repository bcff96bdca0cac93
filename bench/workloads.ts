// The measured work, run inside the bench worker on whatever Db a target opened. Each function times only its
// own loop and returns a check value, so a target that silently does less work is caught (bench/peers.bench.ts
// asserts the checks; no assertion looks at time).
import { fingerprintRows, type QuerySpec } from './queries.ts';
import { makeRandom } from './random.ts';
import type { Db } from './targets/index.ts';

export interface OltpOptions {
  /** Rows inserted; the full run: 100,000. */
  rows: number;
  /** Rows per insert transaction; the full run: 1,000. */
  batch: number;
  /** Point selects; the full run: 10,000. */
  ops: number;
  /** Single-row update transactions; the target is 10,000, the full run does fewer (bench/config.ts). */
  updates: number;
  /** Range scans of `scanRows` consecutive keys. */
  scans: number;
  scanRows: number;
  seed: number;
}

export interface Timed<C> {
  ms: number;
  check: C;
}

export interface OltpResult {
  insert: Timed<number>;
  pointSelect: Timed<number>;
  rangeScan: Timed<number>;
  update: Timed<number>;
}

function time<C>(work: () => C): Timed<C> {
  const started = performance.now();
  const check = work();
  return { ms: performance.now() - started, check };
}

/** A ~100-byte payload that does not compress to nothing: the row's key spelled out, repeated. */
function payload(key: number): string {
  return `item-${key.toString(36)}-`.repeat(8).slice(0, 100);
}

/**
 * Creates `items` (with one secondary index) and runs, in order: inserts in batches, point selects by key,
 * range scans by key, then single-row updates each in its own (autocommit) transaction.
 */
export function runOltp(db: Db, o: OltpOptions): OltpResult {
  const rand = makeRandom(o.seed);
  const key = (): number => 1 + Math.floor(rand() * o.rows);

  const insert = time(() => {
    db.exec(`CREATE TABLE items(id INTEGER PRIMARY KEY, grp INTEGER NOT NULL, qty INTEGER NOT NULL, payload TEXT NOT NULL);
             CREATE INDEX items_grp ON items(grp);`);
    const stmt = db.prepare('INSERT INTO items VALUES (?, ?, ?, ?)');
    for (let first = 1; first <= o.rows; first += o.batch) {
      db.exec('BEGIN');
      for (let id = first; id < first + o.batch && id <= o.rows; id++) {
        stmt.bind([id, Math.floor(rand() * 1000), id % 100, payload(id)]).stepReset();
      }
      db.exec('COMMIT');
    }
    stmt.finalize();
    return db.selectValue('SELECT count(*) FROM items') as number;
  });

  const pointSelect = time(() => {
    const stmt = db.prepare('SELECT qty, payload FROM items WHERE id = ?');
    let found = 0;
    for (let i = 0; i < o.ops; i++) {
      stmt.bind([key()]);
      if (stmt.step()) found++;
      stmt.reset();
    }
    stmt.finalize();
    return found;
  });

  const rangeScan = time(() => {
    const stmt = db.prepare('SELECT count(*), sum(qty) FROM items WHERE id BETWEEN ? AND ?');
    let rows = 0;
    for (let i = 0; i < o.scans; i++) {
      const from = 1 + Math.floor(rand() * (o.rows - o.scanRows));
      stmt.bind([from, from + o.scanRows - 1]).step();
      rows += stmt.getInt(0) as number;
      stmt.reset();
    }
    stmt.finalize();
    return rows;
  });

  const update = time(() => {
    const stmt = db.prepare('UPDATE items SET qty = qty + 1 WHERE id = ?');
    for (let i = 0; i < o.updates; i++) stmt.bind([key()]).stepReset();
    stmt.finalize();
    // Every update added 1: the total tells whether all of them landed.
    return db.selectValue('SELECT sum(qty) FROM items') as number;
  });

  return { insert, pointSelect, rangeScan, update };
}

/** The check values a correct OLTP run returns. */
export function expectedOltpChecks(o: OltpOptions): { insert: number; pointSelect: number; rangeScan: number; update: number } {
  let qtySum = 0;
  for (let id = 1; id <= o.rows; id++) qtySum += id % 100;
  return { insert: o.rows, pointSelect: o.ops, rangeScan: o.scans * o.scanRows, update: qtySum + o.updates };
}

/** Runs one query to completion; the fingerprint must equal the one Node computed on the same file. */
export function runQuery(db: Db, spec: QuerySpec): string {
  return fingerprintRows(db.selectArrays(spec.sql, spec.bind));
}
