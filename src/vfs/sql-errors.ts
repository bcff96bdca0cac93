import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { isScionError, ScionError, type ErrorCode } from '../core/index.ts';

/** SQLite primary result codes (sqlite3.h) → Scion codes, for errors the VFS did not explain. */
const BY_PRIMARY: Readonly<Record<number, ErrorCode>> = {
  1: 'InvalidInput', // SQLITE_ERROR: syntax, no such table, …
  5: 'ConcurrentWrite', // SQLITE_BUSY (also BUSY_SNAPSHOT)
  6: 'ConcurrentWrite', // SQLITE_LOCKED
  8: 'InvalidInput', // SQLITE_READONLY: a write on a checkout
  9: 'Interrupted', // SQLITE_INTERRUPT: a deadline or a cancel (worker/interrupt.ts)
  11: 'Corrupt', // SQLITE_CORRUPT
  18: 'InvalidInput', // SQLITE_TOOBIG
  19: 'InvalidInput', // SQLITE_CONSTRAINT
  20: 'InvalidInput', // SQLITE_MISMATCH
  21: 'InvalidInput', // SQLITE_MISUSE
  23: 'Forbidden', // SQLITE_AUTH
  25: 'InvalidInput', // SQLITE_RANGE: bind index out of range
  26: 'Corrupt', // SQLITE_NOTADB
};

/** What to do about a failure, where SQLite's message does not say it. */
const HINTS: Readonly<Record<number, string>> = {
  5: ' Another connection is writing this database: retry the transaction.',
  8: ' This database is a read-only checkout; write through the database itself.',
};

/**
 * The one translation of SQLite's failures: a code chosen from the result code, which is kept in
 * `details.sqlite` (e.g. "SQLITE_CONSTRAINT_UNIQUE") and `details.resultCode`.
 */
export function toScionError(sqlite3: Sqlite3Static, e: unknown): ScionError {
  if (isScionError(e)) return ScionError.from(e);
  const rc = (e as { resultCode?: unknown } | null)?.resultCode;
  if (typeof rc !== 'number') {
    // sqlite-wasm's own argument checks (bind names, types) throw SQLite3Error without a result code.
    if ((e as Error | null)?.name === 'SQLite3Error') return new ScionError('InvalidInput', (e as Error).message, undefined, { cause: e });
    return ScionError.from(e);
  }
  const sqlite = sqlite3.capi.sqlite3_js_rc_str(rc) ?? `SQLITE_${rc}`;
  const code = BY_PRIMARY[rc & 0xff] ?? 'Internal';
  const message = (e as Error).message;
  const hint = HINTS[rc & 0xff] ?? '';
  return new ScionError(code, `${message}${hint}`, { sqlite, resultCode: rc }, { cause: e });
}
