// The intent of a local transaction, kept so a rebase can run it again on another base: the statements
// it ran (recorded SQL) or the mutator and its arguments. Each intent is a row of `_scion_intent`, written
// by the transaction itself, so it is part of the same page commit: a commit never exists without its
// intent, nor an intent without its commit, whatever crashes. The rows travel with pushes; a row whose
// id the remote head already holds was applied there, which is how a replay stays exactly-once.
import { ScionError, stripLiterals } from '../core/index.ts';
import type { Row, SqlParam, SqlParams } from '../protocol/index.ts';

export const INTENT_TABLE = '_scion_intent';

export const CREATE_INTENT_TABLE =
  `CREATE TABLE IF NOT EXISTS ${INTENT_TABLE} (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, mutator TEXT, args TEXT, statements TEXT NOT NULL)`;

const INSERT_INTENT =
  `INSERT INTO ${INTENT_TABLE} (id, seq, mutator, args, statements) VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM ${INTENT_TABLE}), ?, ?, ?)`;

/** One statement of recorded SQL, with its bound parameters. */
export interface RecordedStatement {
  readonly sql: string;
  readonly params?: SqlParams | undefined;
}

/** What a local transaction did, as a rebase replays it. */
export type Intent =
  | { readonly id: string; readonly seq: number; readonly kind: 'sql'; readonly statements: readonly RecordedStatement[] }
  | { readonly id: string; readonly seq: number; readonly kind: 'mutator'; readonly mutator: string; readonly args: unknown };

/** How an intent row is written: the statement and its parameters. */
export function intentInsert(intent: { id: string } & ({ kind: 'sql'; statements: readonly RecordedStatement[] } | { kind: 'mutator'; mutator: string; args: unknown })): RecordedStatement {
  return intent.kind === 'sql'
    ? { sql: INSERT_INTENT, params: [intent.id, null, null, JSON.stringify(intent.statements.map(encodeStatement))] }
    : { sql: INSERT_INTENT, params: [intent.id, intent.mutator, encodeArgs(intent.mutator, intent.args), '[]'] };
}

export function newIntentId(): string {
  return crypto.randomUUID();
}

/** Reads the intents a database holds, in the order they were first run. */
export function parseIntents(rows: readonly Row[]): Intent[] {
  return rows.map((r) => {
    const id = String(r['id']);
    const seq = Number(r['seq']);
    if (typeof r['mutator'] === 'string') return { id, seq, kind: 'mutator', mutator: r['mutator'], args: JSON.parse(String(r['args'])) as unknown };
    const statements = (JSON.parse(String(r['statements'])) as EncodedStatement[]).map(decodeStatement);
    return { id, seq, kind: 'sql', statements };
  });
}

export const SELECT_INTENTS = `SELECT id, seq, mutator, args, statements FROM ${INTENT_TABLE} ORDER BY seq`;
export const SELECT_INTENT_IDS = `SELECT id FROM ${INTENT_TABLE}`;
export const DELETE_INTENTS = `DELETE FROM ${INTENT_TABLE}`;

/** Whether a SQL error says the intent table does not exist (a database nothing was recorded in). */
export function isNoIntentTable(e: unknown): boolean {
  return e instanceof Error && e.message.includes(`no such table: ${INTENT_TABLE}`);
}

/** Functions whose value differs between runs, so a replay would not reproduce what the app saw at first run. */
const NON_DETERMINISTIC: readonly { pattern: RegExp; what: string }[] = [
  { pattern: /\brandom(?:blob)?\s*\(/i, what: 'random() / randomblob()' },
  { pattern: /\bcurrent_(?:timestamp|date|time)\b/i, what: 'CURRENT_TIMESTAMP / CURRENT_DATE / CURRENT_TIME' },
  // A connection's running count: the replaying connection's differs. (changes() and last_insert_rowid()
  // answer about the statement before, which the replay ran too, so they replay as they ran.)
  { pattern: /\btotal_changes\s*\(/i, what: 'total_changes()' },
];
const DATE_FUNCTION = /\b(?:date|time|datetime|julianday|unixepoch|strftime|timediff)\s*\(/i;

/**
 * Throws InvalidInput if a statement to record uses a value that differs between runs: a rebase would
 * write another value than the one the app saw. Run before the statement, so nothing is written.
 */
export function checkDeterministic(sql: string): void {
  const code = stripLiterals(sql);
  const found = NON_DETERMINISTIC.find((r) => r.pattern.test(code))?.what ??
    (DATE_FUNCTION.test(code) && /'now'/i.test(sql) ? "the date and time functions with 'now'" : undefined);
  if (found === undefined) return;
  throw new ScionError(
    'InvalidInput',
    `This statement uses ${found}, which gives another value each time it runs, so a rebase could not replay it as it ran. Pass the value as a parameter (computed in your code), or run the transaction through a mutator (db.mutator / db.mutate) with the value in its arguments. Nothing was run.`,
    { rule: 'deterministic', sql: sql.slice(0, 200) },
  );
}

type EncodedParam = string | number | boolean | null | { $bytes: string } | { $bigint: string };
type EncodedStatement = { sql: string; params?: EncodedParam[] | Record<string, EncodedParam> };

function encodeStatement(s: RecordedStatement): EncodedStatement {
  if (s.params === undefined) return { sql: s.sql };
  const params = Array.isArray(s.params)
    ? (s.params as readonly SqlParam[]).map(encodeParam)
    : Object.fromEntries(Object.entries(s.params as Record<string, SqlParam>).map(([k, v]) => [k, encodeParam(v)]));
  return { sql: s.sql, params };
}

function decodeStatement(s: EncodedStatement): RecordedStatement {
  if (s.params === undefined) return { sql: s.sql };
  const params = Array.isArray(s.params) ? s.params.map(decodeParam) : Object.fromEntries(Object.entries(s.params).map(([k, v]) => [k, decodeParam(v)]));
  return { sql: s.sql, params };
}

function encodeParam(v: SqlParam): EncodedParam {
  if (v === undefined) return null;
  if (v instanceof Uint8Array) return { $bytes: btoa(String.fromCharCode(...v)) };
  if (typeof v === 'bigint') return { $bigint: v.toString() };
  return v;
}

function decodeParam(v: EncodedParam): SqlParam {
  if (v !== null && typeof v === 'object') {
    if ('$bytes' in v) return Uint8Array.from(atob(v.$bytes), (c) => c.charCodeAt(0));
    return BigInt(v.$bigint);
  }
  return v;
}

/** A mutator's arguments as JSON; anything JSON would turn into something else (a Date, a Map, a bigint) is refused. */
function encodeArgs(mutator: string, args: unknown): string {
  const bad = notPlainData(args, 'args');
  if (bad !== undefined) {
    throw new ScionError('InvalidInput', `The arguments of mutator "${mutator}" are not plain data: ${bad}. A rebase replays them from JSON, so pass numbers, strings, booleans, null, arrays and plain objects (encode dates, bigints and bytes as strings).`, { mutator });
  }
  return JSON.stringify(args ?? null);
}

/** Where `v` holds something JSON does not keep as it is, or undefined. */
function notPlainData(v: unknown, at: string): string | undefined {
  if (v === null || v === undefined || typeof v === 'string' || typeof v === 'boolean') return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : `${at} is ${v}`;
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) {
      const bad = x === undefined ? `${at}[${i}] is undefined` : notPlainData(x, `${at}[${i}]`);
      if (bad) return bad;
    }
    return undefined;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v)) {
      const bad = notPlainData(x, `${at}.${k}`);
      if (bad) return bad;
    }
    return undefined;
  }
  return `${at} is a ${typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v}`;
}
