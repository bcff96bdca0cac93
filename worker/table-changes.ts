// Which tables a statement reads and which a connection's transaction wrote, asked of SQLite itself:
// the authorizer names every table a statement reads when it is prepared (views resolve to their
// tables), and the pre-update hook names the table of every row changed (WITHOUT ROWID tables too,
// which the update hook skips). Live queries (db.watch) re-run only when the two meet.
import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { ScionError } from '../src/core/index.ts';
import { refreshSchema, splitStatements } from './statements.ts';

const SQLITE_READ = 20;

/** The tables (lower case) one statement reads, from the authorizer while it is prepared. */
export function tablesRead(sqlite3: Sqlite3Static, db: Database, sql: string): string[] {
  const pieces = splitStatements(sqlite3, sql);
  if (pieces.length !== 1) throw new ScionError('InvalidInput', `A live query is one SQL statement; this text has ${pieces.length}.`, { statements: pieces.length });
  refreshSchema(db);
  const tables = new Set<string>();
  const capi = sqlite3.capi;
  capi.sqlite3_set_authorizer(db, (_p, code, table) => {
    if (code === SQLITE_READ && typeof table === 'string') tables.add(table.toLowerCase());
    return 0;
  }, 0);
  try {
    db.prepare(pieces[0] as string).finalize();
  } finally {
    capi.sqlite3_set_authorizer(db, 0 as never, 0);
  }
  return [...tables].sort();
}

/**
 * The tables a connection's open transaction has changed rows of so far; forgotten at ROLLBACK, taken
 * (and forgotten) when its commit lands. A statement rolled back alone inside a transaction may leave
 * its table named: that only re-runs a live query whose rows then did not change.
 */
export class WrittenTables {
  readonly #tables = new Set<string>();
  #schemaVersion: number | undefined;

  /** Hooks `db` (again after it is re-opened). */
  watch(sqlite3: Sqlite3Static, db: Database): void {
    const capi = sqlite3.capi;
    // The binding takes (db, hook, context), as the C function does; its .d.ts omits the context.
    const preupdate = capi.sqlite3_preupdate_hook as unknown as (db: Database, hook: (...args: unknown[]) => void, ctx: 0) => void;
    preupdate(db, (_ctx, _db, _op, _schema, table) => {
      if (typeof table === 'string') this.#tables.add(table.toLowerCase());
    }, 0);
    capi.sqlite3_rollback_hook(db, () => {
      this.#tables.clear();
      return 0;
    }, 0);
    this.#schemaVersion = schemaVersion(db);
  }

  /** The tables the commit now landing changed (called inside it, so it runs no SQL). */
  takeCommitted(): string[] {
    const tables = [...this.#tables].sort();
    this.#tables.clear();
    return tables;
  }

  /**
   * After a commit (outside SQLite): whether the schema is as at the last check. Inside a transaction
   * it cannot tell what is committed: false, and the next check compares again.
   */
  schemaUnchanged(sqlite3: Sqlite3Static, db: Database): boolean {
    if (sqlite3.capi.sqlite3_txn_state(db, 'main') !== 0) return false;
    const version = schemaVersion(db);
    const same = version === this.#schemaVersion;
    this.#schemaVersion = version;
    return same;
  }
}

function schemaVersion(db: Database): number {
  return db.selectValue('PRAGMA schema_version') as number;
}
