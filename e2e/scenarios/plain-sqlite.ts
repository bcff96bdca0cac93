// SQLite without Scion, on the page's main thread: the reference a Scion database's answers are compared with.
import sqlite3InitModule, { type Sqlite3Static } from '@sqlite.org/sqlite-wasm';

let sqlite3: Promise<Sqlite3Static> | undefined;

/** A plain SQLite database file made by sqlite-wasm's own `:memory:` database (no Scion involved). */
export async function makePlainSqliteFile(pageSize: number, rows: number): Promise<Uint8Array> {
  const s = await (sqlite3 ??= sqlite3InitModule());
  const db = new s.oo1.DB(':memory:');
  try {
    db.exec(`PRAGMA page_size=${pageSize}; VACUUM; CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT); CREATE INDEX t_body ON t(body)`);
    db.exec(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${rows}) INSERT INTO t SELECT i, hex(randomblob(30)) FROM c`);
    return s.capi.sqlite3_js_db_export(db);
  } finally {
    db.close();
  }
}

/** Opens `file` (a plain SQLite database) in `:memory:` and runs each query; rows as objects. */
export async function plainSqliteQueries(file: Uint8Array, queries: string[]): Promise<unknown[][]> {
  const s = await (sqlite3 ??= sqlite3InitModule());
  const db = new s.oo1.DB(':memory:');
  try {
    const p = s.wasm.allocFromTypedArray(file);
    const rc = s.capi.sqlite3_deserialize(db, 'main', p, file.byteLength, file.byteLength, s.capi.SQLITE_DESERIALIZE_FREEONCLOSE);
    if (rc !== 0) throw new Error(`sqlite3_deserialize failed: ${s.capi.sqlite3_js_rc_str(rc)}`);
    return queries.map((sql) => db.exec({ sql, rowMode: 'object', returnValue: 'resultRows' }));
  } finally {
    db.close();
  }
}
