// The bank both SQL simulations run — sql-sim.ts on the VFS, rebase-sim.ts through Scion: accounts whose
// balances add up to a fixed total and one row per stored transfer, the SQLite instance their runs share,
// and the check at the end.
import sqlite3InitModule, { type Sqlite3Static } from '@sqlite.org/sqlite-wasm';

/** How many accounts, each starting with `balance`. */
export interface SqlBank {
  readonly accounts: number;
  readonly balance: number;
}

let sqlite: Promise<Sqlite3Static> | undefined;

/** The SQLite instance every run in this process shares (VFS names are per instance). */
export function simSqlite(): Promise<Sqlite3Static> {
  return (sqlite ??= sqlite3InitModule());
}

/** Creates `accounts` (ids 1…n, each holding the balance) and the empty `transfers`. */
export function bankSetupSql(bank: SqlBank): string {
  const accounts = Array.from({ length: bank.accounts }, (_, i) => `(${i + 1}, ${bank.balance})`).join(', ');
  return `CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL); CREATE TABLE transfers (id TEXT PRIMARY KEY, src INTEGER, dst INTEGER, amount INTEGER);
    INSERT INTO accounts VALUES ${accounts}`;
}

/**
 * What is wrong with a stored bank, or undefined: the balances must add up to the starting total, and
 * the stored transfers (`transfers.id`) must be the acknowledged ones — except `dropped` ones (reported
 * to the app), which may be stored or not.
 */
export function checkBank(bank: SqlBank, balances: readonly number[], stored: readonly string[], acked: ReadonlySet<string>, dropped: ReadonlySet<string> = new Set()): string | undefined {
  const total = balances.reduce((sum, b) => sum + b, 0);
  if (total !== bank.accounts * bank.balance) return `the balances add up to ${total}, not ${bank.accounts * bank.balance}`;
  const held = new Set(stored);
  const lost = [...acked].filter((id) => !held.has(id) && !dropped.has(id));
  const extra = stored.filter((id) => !acked.has(id));
  if (lost.length > 0 || extra.length > 0) return `acknowledged transfers not stored: ${lost.join(',')}; stored but never acknowledged: ${extra.join(',')}`;
  return undefined;
}
