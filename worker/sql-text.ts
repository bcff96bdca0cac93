// SQL text helpers for the worker: the graft_* pragma statement form, and named-parameter keys.
import { ScionError, stripLiterals } from '../src/core/index.ts';
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
