// SQL text helpers for the worker: the graft_* pragma statement form, and named-parameter keys.
import { ScionError } from '../src/core/index.ts';
import type { SqlParams } from '../src/protocol/index.ts';

/** The pragmas the worker runs itself (they are asynchronous, or answer with structured rows). */
export const GRAFT_PRAGMAS = [
  'graft_status', 'graft_push', 'graft_pull', 'graft_fetch', 'graft_hydrate', 'graft_fork', 'graft_clone',
  'graft_checkout', 'graft_tags', 'graft_info', 'graft_version', 'graft_intents',
] as const;
export type GraftPragma = (typeof GRAFT_PRAGMAS)[number];

export interface PragmaCall {
  name: GraftPragma;
  arg: string | undefined;
}

const ARG = String.raw`'(?:[^']|'')*'|"(?:[^"]|"")*"|[-+\w.:]+`;
const PRAGMA_STATEMENT = new RegExp(String.raw`^\s*pragma\s+(?:main\s*\.\s*)?(graft_\w+)\s*(?:=\s*(${ARG})|\(\s*(${ARG})\s*\))?\s*;?\s*$`, 'i');

/**
 * `PRAGMA graft_x`, `PRAGMA graft_x = 'arg'` or `PRAGMA graft_x('arg')` as the whole text (one
 * statement, optional `;`), else undefined. A graft_* pragma anywhere else in the text is refused:
 * SQLite would ignore it silently. Throws InvalidInput.
 */
export function parseGraftPragma(sql: string): PragmaCall | undefined {
  const m = PRAGMA_STATEMENT.exec(sql);
  if (!m) {
    if (/\bpragma\s+(?:\w+\s*\.\s*)?graft_/i.test(stripLiterals(sql))) {
      throw new ScionError('InvalidInput', 'A graft_* pragma must be the only statement of its exec() or query() call. Run it on its own.');
    }
    return undefined;
  }
  const name = (m[1] as string).toLowerCase();
  if (!(GRAFT_PRAGMAS as readonly string[]).includes(name)) {
    throw new ScionError('InvalidInput', `Unknown pragma ${name}. Scion's pragmas: ${GRAFT_PRAGMAS.join(', ')}.`, { pragma: name });
  }
  return { name: name as GraftPragma, arg: unquote(m[2] ?? m[3]) };
}

function unquote(arg: string | undefined): string | undefined {
  if (arg === undefined) return undefined;
  const q = arg[0];
  if ((q === "'" || q === '"') && arg.endsWith(q)) return arg.slice(1, -1).replaceAll(q + q, q);
  return arg;
}

/** The SQL with string literals, quoted identifiers and comments blanked, so searches see only code. */
export function stripLiterals(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`[^`]*`?|\[[^\]]*\]?|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/g, (s) => ' '.repeat(s.length));
}

/**
 * sqlite-wasm binds object keys only with their prefix (`:name`); apps may omit it. Each bare key gets
 * the prefix its parameter has in the SQL (`:`, `@` or `$`; `:` if none is found).
 */
export function normalizeParams(sql: string, params: SqlParams | undefined): SqlParams | undefined {
  if (params === undefined || Array.isArray(params)) return params;
  const code = stripLiterals(sql);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (/^[:@$]/.test(key)) {
      out[key] = value;
      continue;
    }
    const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const prefix = new RegExp(String.raw`([:@$])${escaped}(?![\w$])`).exec(code)?.[1] ?? ':';
    out[prefix + key] = value;
  }
  return out as SqlParams;
}

/**
 * Whether running `sql` may take the write lock: anything but reads (SELECT, VALUES, EXPLAIN, a WITH that
 * only selects, a PRAGMA that sets nothing) and transaction control that does not lock (BEGIN DEFERRED,
 * COMMIT, ROLLBACK, SAVEPOINT, RELEASE). Erring towards true only makes a call wait its turn.
 */
export function mayWrite(sql: string): boolean {
  const statements = stripLiterals(sql).split(';').map((s) => s.trim().toUpperCase().replace(/\s+/g, ' ')).filter((s) => s.length > 0);
  return statements.some((s) => {
    const first = /^[A-Z]+/.exec(s)?.[0] ?? '';
    switch (first) {
      case 'SELECT':
      case 'VALUES':
      case 'EXPLAIN':
      case 'COMMIT':
      case 'END':
      case 'ROLLBACK':
      case 'SAVEPOINT':
      case 'RELEASE':
        return false;
      case 'WITH':
        return /\b(?:INSERT|UPDATE|DELETE|REPLACE)\b/.test(s);
      case 'BEGIN':
        return /^BEGIN (?:IMMEDIATE|EXCLUSIVE)\b/.test(s);
      case 'PRAGMA':
        return /[=(]/.test(s);
      default:
        return true;
    }
  });
}
