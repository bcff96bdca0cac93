// The 16 tests of SQLite's "Database Speed Comparison" (sqlite.org/speed.html), the suite wa-sqlite's benchmark
// page runs: each test is one SQL script executed as a whole, in order, on one database. The scripts are
// generated here as the original Tcl generator does (random integers spelled out in English), from our seeded
// PRNG, so every target runs the same text. Test 1 is 1,000 autocommit INSERTs: it measures commit cost.
import { makeRandom } from './random.ts';

export interface SpeedTest {
  /** 1..16 */
  n: number;
  label: string;
  sql: string;
}

const ONES = ['', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', 'ten', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** 13153 → `thirteen thousand one hundred fifty three` (the speed test's `number_name`). */
export function numberName(n: number): string {
  const words: string[] = [];
  if (n >= 1000) {
    words.push(numberName(Math.floor(n / 1000)), 'thousand');
    n %= 1000;
  }
  if (n >= 100) {
    words.push(ONES[Math.floor(n / 100)] as string, 'hundred');
    n %= 100;
  }
  if (n >= 20) {
    words.push(TENS[Math.floor(n / 10)] as string);
    n %= 10;
  }
  if (n > 0) words.push(ONES[n] as string);
  return words.length ? words.join(' ') : 'zero';
}

const times = (count: number, line: (i: number) => string, from = 1): string =>
  Array.from({ length: count }, (_, k) => line(from + k)).join('\n');

/** The suite's scripts, in order (they depend on each other's tables). */
export function speedSuite(seed = 1): SpeedTest[] {
  const random = makeRandom(seed);
  const rand = (below: number): number => Math.floor(random() * below);
  const insert = (table: string, below: number) => (i: number): string => {
    const r = rand(below);
    return `INSERT INTO ${table} VALUES(${i},${r},'${numberName(r)}');`;
  };
  const tests: [string, () => string][] = [
    ['1,000 INSERTs', () => `CREATE TABLE t1(a INTEGER, b INTEGER, c VARCHAR(100));\n${times(1000, insert('t1', 100_000))}`],
    ['25,000 INSERTs in a transaction', () =>
      `BEGIN;\nCREATE TABLE t2(a INTEGER, b INTEGER, c VARCHAR(100));\n${times(25_000, insert('t2', 500_000))}\nCOMMIT;`],
    ['25,000 INSERTs into an indexed table', () =>
      `BEGIN;\nCREATE TABLE t3(a INTEGER, b INTEGER, c VARCHAR(100));\nCREATE INDEX i3 ON t3(c);\n${times(25_000, insert('t3', 500_000))}\nCOMMIT;`],
    ['100 SELECTs without an index', () =>
      `BEGIN;\n${times(100, (i) => `SELECT count(*), avg(b) FROM t2 WHERE b>=${i * 100} AND b<${(i + 10) * 100};`, 0)}\nCOMMIT;`],
    ['100 SELECTs on a string comparison', () =>
      `BEGIN;\n${times(100, (i) => `SELECT count(*), avg(b) FROM t2 WHERE c LIKE '%${numberName(i)}%';`)}\nCOMMIT;`],
    ['creating an index', () => 'CREATE INDEX i2a ON t2(a);\nCREATE INDEX i2b ON t2(b);'],
    ['5,000 SELECTs with an index', () => times(5000, (i) => `SELECT count(*), avg(b) FROM t2 WHERE b>=${i * 100} AND b<${(i + 1) * 100};`, 0)],
    ['1,000 UPDATEs without an index', () =>
      `BEGIN;\n${times(1000, (i) => `UPDATE t1 SET b=b*2 WHERE a>=${i * 10} AND a<${(i + 1) * 10};`, 0)}\nCOMMIT;`],
    ['25,000 UPDATEs with an index', () => `BEGIN;\n${times(25_000, (i) => `UPDATE t2 SET b=${rand(500_000)} WHERE a=${i};`)}\nCOMMIT;`],
    ['25,000 text UPDATEs with an index', () =>
      `BEGIN;\n${times(25_000, (i) => `UPDATE t2 SET c='${numberName(rand(500_000))}' WHERE a=${i};`)}\nCOMMIT;`],
    ['INSERTs from a SELECT', () => 'BEGIN;\nINSERT INTO t1 SELECT b,a,c FROM t2;\nINSERT INTO t2 SELECT b,a,c FROM t1;\nCOMMIT;'],
    ['DELETE without an index', () => "DELETE FROM t2 WHERE c LIKE '%fifty%';"],
    ['DELETE with an index', () => 'DELETE FROM t2 WHERE a>10 AND a<20000;'],
    ['a big INSERT after a big DELETE', () => 'INSERT INTO t2 SELECT * FROM t1;'],
    ['a big DELETE followed by many small INSERTs', () => `BEGIN;\nDELETE FROM t1;\n${times(12_000, insert('t1', 100_000))}\nCOMMIT;`],
    ['DROP TABLE', () => 'DROP TABLE t1;\nDROP TABLE t2;\nDROP TABLE t3;'],
  ];
  return tests.map(([label, sql], k) => ({ n: k + 1, label, sql: sql() }));
}

/** What the suite needs of a database: run a script, and count rows (the check that every target did the work). */
export interface ScriptDb {
  exec(sql: string): void | Promise<void>;
  /** SELECT count(*) of `table`. */
  count(table: string): number | Promise<number>;
  close(): void | Promise<void>;
}

export interface SuiteResult {
  /** ms per test, in order */
  ms: number[];
  /** Rows in t1, t2, t3 before test 16 drops them: equal on every target. */
  check: string;
}

export async function runSpeedSuite(db: ScriptDb, tests: readonly SpeedTest[]): Promise<SuiteResult> {
  const ms: number[] = [];
  let check = '';
  for (const t of tests) {
    // One statement at a time: wa-sqlite's API must not run two on one connection at once.
    if (t.n === 16) check = `${await db.count('t1')},${await db.count('t2')},${await db.count('t3')}`;
    const started = performance.now();
    await db.exec(t.sql);
    ms.push(performance.now() - started);
  }
  return { ms, check };
}
