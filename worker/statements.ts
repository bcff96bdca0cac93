// SQL text run statement by statement on one connection, with the connection's prepared statements
// kept for reuse, and cursors that hand a large result over in batches.
import type { Database, PreparedStatement, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { ScionError, stripLiterals } from '../src/core/index.ts';
import type { ResultSet, SqlParams, SqlValue, StatementInfo } from '../src/protocol/index.ts';

/** Prepared statements of one connection, by SQL text; the least recently used are finalized past the capacity. */
export class StatementCache {
  readonly #db: Database;
  readonly #capacity: number;
  readonly #byText = new Map<string, PreparedStatement>();

  constructor(db: Database, capacity = 64) {
    this.#db = db;
    this.#capacity = capacity;
  }

  get(sql: string): PreparedStatement {
    const cached = this.#byText.get(sql);
    if (cached) {
      this.#byText.delete(sql);
      this.#byText.set(sql, cached);
      return cached;
    }
    const stmt = this.#db.prepare(sql);
    this.#byText.set(sql, stmt);
    for (const [text, old] of this.#byText) {
      if (this.#byText.size <= this.#capacity) break;
      this.#byText.delete(text);
      old.finalize();
    }
    return stmt;
  }

  /** Finalizes the statement of `sql` if it is kept (db.prepare(sql).finalize()). */
  drop(sql: string): void {
    this.#byText.get(sql)?.finalize();
    this.#byText.delete(sql);
  }

  /** Finalizes every statement (before the connection closes or is replaced). */
  clear(): void {
    for (const stmt of this.#byText.values()) stmt.finalize();
    this.#byText.clear();
  }
}

/**
 * The statements of `sql` as separate texts: split at each `;` that ends a complete statement (so a
 * trigger body's `;` does not split it); comment-only and empty pieces are dropped.
 */
export function splitStatements(sqlite3: Sqlite3Static, sql: string): string[] {
  const code = stripLiterals(sql);
  const out: string[] = [];
  let start = 0;
  const take = (end: number) => {
    if (code.slice(start, end).replaceAll(';', '').trim() !== '') out.push(sql.slice(start, end));
    start = end;
  };
  for (let i = code.indexOf(';'); i !== -1; i = code.indexOf(';', i + 1)) {
    if (sqlite3.capi.sqlite3_complete(sql.slice(start, i + 1))) take(i + 1);
  }
  take(sql.length);
  return out;
}

/** What running SQL text gave: the result of its last statement that returns columns, and the rows it changed. */
export interface ScriptResult extends ResultSet {
  /** Rows changed by its INSERT/UPDATE/DELETE statements (not counting triggers); 0 if it changed none. */
  changes: number;
}

export interface RunOptions {
  /** Stop a read-only statement after this many rows (get: 1). */
  limit?: number | undefined;
}

/**
 * Runs every statement of `sql` in order; `bind` goes to the first statement that has parameters.
 * Returns the columns and rows of the last statement that has result columns.
 */
export function runScript(sqlite3: Sqlite3Static, db: Database, cache: StatementCache, sql: string, bind: SqlParams | undefined, options: RunOptions = {}): ScriptResult {
  const pieces = splitStatements(sqlite3, sql);
  // Several statements outside a transaction run as one: an error (or an interrupt) in any of them
  // leaves none committed. Texts that control transactions themselves run as written.
  if (pieces.length > 1 && sqlite3.capi.sqlite3_get_autocommit(db) !== 0 && pieces.every((p) => ATOMIC_FIRST_WORDS.has(firstWord(p)))) {
    db.exec(`SAVEPOINT ${SCRIPT_SAVEPOINT}`);
    try {
      const result = runPieces(sqlite3, db, cache, pieces, bind, options);
      db.exec(`RELEASE ${SCRIPT_SAVEPOINT}`);
      return result;
    } catch (e) {
      // The savepoint opened the transaction, so all of it goes (ROLLBACK TO + RELEASE would commit an
      // empty write transaction). An interrupted or failed write may have ended it already.
      if (sqlite3.capi.sqlite3_get_autocommit(db) === 0) db.exec('ROLLBACK');
      throw e;
    }
  }
  return runPieces(sqlite3, db, cache, pieces, bind, options);
}

const SCRIPT_SAVEPOINT = 'scion_script';
/** Statements that may run inside a savepoint (not BEGIN/COMMIT/SAVEPOINT, PRAGMA, ATTACH, VACUUM, …). */
const ATOMIC_FIRST_WORDS = new Set(['select', 'insert', 'update', 'delete', 'replace', 'with', 'values', 'create', 'drop', 'alter', 'analyze', 'reindex']);

function firstWord(piece: string): string {
  return /[a-z]+/i.exec(stripLiterals(piece))?.[0]?.toLowerCase() ?? '';
}

function runPieces(sqlite3: Sqlite3Static, db: Database, cache: StatementCache, pieces: readonly string[], bind: SqlParams | undefined, options: RunOptions): ScriptResult {
  // One statement (the common case) is kept for reuse; a script's pieces are prepared once and finalized.
  const single = pieces.length === 1;
  const result: ScriptResult = { columns: [], declaredTypes: [], rows: [], changes: 0 };
  let params = bind;
  for (const piece of pieces) {
    const stmt = single ? cache.get(piece) : db.prepare(piece);
    try {
      if (params !== undefined && stmt.parameterCount > 0) {
        stmt.bind(params as never);
        params = undefined;
      }
      const before = sqlite3.capi.sqlite3_total_changes64(db);
      const limit = options.limit !== undefined && sqlite3.capi.sqlite3_stmt_readonly(stmt) ? options.limit : Infinity;
      const rows: SqlValue[][] = [];
      // The first step re-prepares a statement whose schema changed, so columns are read after it.
      let more = limit > 0 && stmt.step();
      if (stmt.columnCount > 0) {
        for (; more; more = rows.length < limit && stmt.step()) rows.push(stmt.get([]) as SqlValue[]);
        Object.assign(result, describe(sqlite3, stmt), { rows });
      } else {
        while (more) more = stmt.step();
      }
      // sqlite3_changes keeps the count of the last INSERT/UPDATE/DELETE of the connection: count it only
      // when this statement changed rows, so a SELECT does not report an older statement's changes.
      if (sqlite3.capi.sqlite3_total_changes64(db) !== before) result.changes += sqlite3.capi.sqlite3_changes(db);
    } finally {
      if (single) stmt.resetNoThrow(true);
      else stmt.finalize();
    }
  }
  return result;
}

/** Column names and declared types of a prepared statement (a declared type is null for an expression). */
export function describe(sqlite3: Sqlite3Static, stmt: PreparedStatement): ResultSet {
  const declType = (sqlite3.capi as unknown as { sqlite3_column_decltype(s: unknown, i: number): string | null }).sqlite3_column_decltype;
  const declaredTypes: (string | null)[] = [];
  for (let i = 0; i < stmt.columnCount; i++) declaredTypes.push(declType(stmt.pointer, i) || null);
  const columns: string[] = [];
  for (let i = 0; i < stmt.columnCount; i++) columns.push(sqlite3.capi.sqlite3_column_name(stmt, i) ?? '');
  return { columns, declaredTypes, rows: [] };
}

/**
 * Preparing uses the schema this connection last read, which another connection may have changed since;
 * a statement that reads the database makes SQLite notice and reload it.
 */
export function refreshSchema(db: Database): void {
  db.selectValue('SELECT 1 FROM sqlite_schema LIMIT 1');
}

/** What db.prepare(sql) learns about its one statement. */
export function statementInfo(sqlite3: Sqlite3Static, db: Database, cache: StatementCache, sql: string): StatementInfo {
  const pieces = splitStatements(sqlite3, sql);
  if (pieces.length !== 1) {
    throw new ScionError('InvalidInput', `prepare() takes exactly one SQL statement; this text has ${pieces.length}. Run scripts with exec().`, { statements: pieces.length });
  }
  refreshSchema(db);
  const stmt = cache.get(pieces[0] as string);
  const { columns, declaredTypes } = describe(sqlite3, stmt);
  return { columns, declaredTypes, readOnly: sqlite3.capi.sqlite3_stmt_readonly(stmt) !== 0, parameterCount: stmt.parameterCount };
}

/** A read-only statement stepped batch by batch; it holds a read transaction until it is done or closed. */
export class Cursor {
  readonly #stmt: PreparedStatement;
  readonly set: ResultSet;
  #done = false;

  constructor(sqlite3: Sqlite3Static, db: Database, sql: string, bind: SqlParams | undefined) {
    const pieces = splitStatements(sqlite3, sql);
    if (pieces.length !== 1) throw new ScionError('InvalidInput', `iterate() takes exactly one SQL statement; this text has ${pieces.length}.`, { statements: pieces.length });
    const stmt = db.prepare(pieces[0] as string);
    if (!sqlite3.capi.sqlite3_stmt_readonly(stmt) || stmt.columnCount === 0) {
      stmt.finalize();
      throw new ScionError('InvalidInput', 'iterate() runs only read-only statements that return rows (SELECT, read-only PRAGMA); run writes with exec(), run() or all().');
    }
    try {
      if (bind !== undefined && stmt.parameterCount > 0) stmt.bind(bind as never);
    } catch (e) {
      stmt.finalize();
      throw e;
    }
    this.#stmt = stmt;
    this.set = describe(sqlite3, stmt);
  }

  get done(): boolean {
    return this.#done;
  }

  /** Up to `size` more rows; the cursor closes itself after the last (or on a failure). */
  next(size: number): SqlValue[][] {
    const rows: SqlValue[][] = [];
    try {
      while (rows.length < size) {
        if (!this.#stmt.step()) {
          this.close();
          break;
        }
        rows.push(this.#stmt.get([]) as SqlValue[]);
      }
    } catch (e) {
      this.close();
      throw e;
    }
    return rows;
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#stmt.finalize();
  }
}
