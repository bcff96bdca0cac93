// What a SQL text does: whether running it may take the write lock (the worker queues such calls), and
// what a follower tab needs to know to survive a change of leader: reads are retried, autocommit writes
// run as tracked mini-transactions, transaction control is followed so a transaction can be replayed, and
// what cannot be followed is "opaque" (no retry after a lost answer).

export type SqlKind =
  /** Reads only: safe to run again. */
  | { readonly kind: 'read' }
  /** Changes the database. */
  | { readonly kind: 'write' }
  /** `BEGIN [DEFERRED|IMMEDIATE|EXCLUSIVE] [TRANSACTION]`; `locks` for IMMEDIATE/EXCLUSIVE (the write lock at once). */
  | { readonly kind: 'begin'; readonly locks: boolean }
  /** `COMMIT` / `END [TRANSACTION]`. */
  | { readonly kind: 'commit' }
  /** `ROLLBACK [TRANSACTION]` (not `ROLLBACK TO`). */
  | { readonly kind: 'rollback' }
  /**
   * Cannot run inside a transaction or sets up the connection (PRAGMA, VACUUM, ATTACH, graft_*): run as
   * is and run again after a lost answer (running them twice does no harm). `session`: a connection
   * setting, applied again on the new leader's connection. `writes`: it may take the write lock (a PRAGMA
   * that sets a value, VACUUM, ATTACH, …).
   */
  | { readonly kind: 'idempotent'; readonly session: boolean; readonly writes: boolean }
  /** Transaction control inside a longer text, savepoints: run as is; a lost answer is an unknown outcome. */
  | { readonly kind: 'opaque' };

/** PRAGMAs whose value belongs to the connection (lost with the leader's worker, so set again). */
const SESSION_PRAGMAS = new Set([
  'analysis_limit', 'automatic_index', 'busy_timeout', 'cache_size', 'cache_spill', 'case_sensitive_like', 'cell_size_check',
  'defer_foreign_keys', 'foreign_keys', 'hard_heap_limit', 'ignore_check_constraints', 'legacy_alter_table', 'mmap_size', 'query_only',
  'read_uncommitted', 'recursive_triggers', 'reverse_unordered_selects', 'secure_delete', 'soft_heap_limit', 'synchronous', 'temp_store',
  'threads', 'trusted_schema',
]);

/** The SQL with string literals, quoted identifiers and comments blanked, so searches see only code. */
export function stripLiterals(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`[^`]*`?|\[[^\]]*\]?|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/g, (s) => ' '.repeat(s.length));
}

export function classifySql(sql: string): SqlKind {
  const code = stripLiterals(sql);
  // A trigger body holds `;` and END: the whole text is one schema change.
  if (/\bcreate\s+(?:temp\s+|temporary\s+)?trigger\b/i.test(code)) return { kind: 'write' };
  const statements = statementsOf(code);
  if (statements.length === 0) return { kind: 'read' };
  if (statements.length === 1) return classifyStatement(statements[0] as string);
  const kinds = statements.map(classifyStatement);
  if (kinds.every((k) => k.kind === 'read')) return { kind: 'read' };
  if (kinds.every((k) => k.kind === 'read' || k.kind === 'write')) return { kind: 'write' };
  return { kind: 'opaque' };
}

/**
 * Whether running `sql` may take the write lock: anything but reads (SELECT, VALUES, EXPLAIN, a WITH that
 * only selects, a PRAGMA that sets nothing) and transaction control that does not lock (BEGIN DEFERRED,
 * COMMIT, ROLLBACK, SAVEPOINT, RELEASE). Erring towards true only makes a call wait its turn.
 */
export function mayWrite(sql: string): boolean {
  return statementsOf(stripLiterals(sql)).some((s) => {
    const kind = classifyStatement(s);
    switch (kind.kind) {
      case 'write':
        return true;
      case 'begin':
        return kind.locks;
      case 'idempotent':
        return kind.writes;
      default:
        return false;
    }
  });
}

/** The statements of literal-free SQL text, trimmed, runs of white space made one space. */
function statementsOf(code: string): string[] {
  return code.split(';').map((s) => s.trim().replace(/\s+/g, ' ')).filter((s) => s.length > 0);
}

function classifyStatement(statement: string): SqlKind {
  const upper = statement.toUpperCase();
  const first = /^[A-Z]+/.exec(upper)?.[0] ?? '';
  switch (first) {
    case 'SELECT':
    case 'VALUES':
    case 'EXPLAIN':
      return { kind: 'read' };
    case 'WITH':
      return /\b(?:INSERT|UPDATE|DELETE|REPLACE)\b/.test(upper) ? { kind: 'write' } : { kind: 'read' };
    case 'BEGIN': {
      const m = /^BEGIN(?: (DEFERRED|IMMEDIATE|EXCLUSIVE))?(?: TRANSACTION)?$/.exec(upper);
      return m ? { kind: 'begin', locks: m[1] === 'IMMEDIATE' || m[1] === 'EXCLUSIVE' } : { kind: 'opaque' };
    }
    case 'COMMIT':
    case 'END':
      return /^(?:COMMIT|END)(?: TRANSACTION)?$/.test(upper) ? { kind: 'commit' } : { kind: 'opaque' };
    case 'ROLLBACK':
      return /^ROLLBACK(?: TRANSACTION)?$/.test(upper) ? { kind: 'rollback' } : { kind: 'opaque' };
    case 'SAVEPOINT':
    case 'RELEASE':
      return { kind: 'opaque' };
    case 'PRAGMA': {
      const name = /^PRAGMA (?:\w+ ?\. ?)?(\w+)/.exec(upper)?.[1]?.toLowerCase() ?? '';
      const sets = /[=(]/.test(upper);
      return { kind: 'idempotent', session: sets && SESSION_PRAGMAS.has(name), writes: sets };
    }
    case 'ATTACH':
    case 'DETACH':
      return { kind: 'idempotent', session: true, writes: true };
    case 'VACUUM':
    case 'ANALYZE':
    case 'REINDEX':
      return { kind: 'idempotent', session: false, writes: true };
    default:
      return { kind: 'write' };
  }
}
