// Rebase by replay, the client's half (the worker's is worker/rebase.ts): the pending transactions of a
// diverged database — its intents whose ids the remote head does not hold — run again, in their first
// order, on a scratch database at the remote head; each makes a new local commit there, carrying its
// intent again. Then the database's name moves to the scratch graft and it is pushed. A replay that
// fails goes to the app's onConflict; stopping (the default) discards the scratch database and leaves
// the database diverged as it was, so nothing is lost.
import { classifySql, isScionError, ScionError, type ErrorCode, type ErrorWire } from '../core/index.ts';
import type { RebaseBase, RebaseStart, Row, SqlParams } from '../protocol/index.ts';
import type { Transaction } from './database.ts';
import {
  checkDeterministic, CREATE_INTENT_TABLE, DELETE_INTENTS, intentInsert, isNoIntentTable, newIntentId, parseIntents, SELECT_INTENT_IDS, SELECT_INTENTS,
  type Intent, type RecordedStatement,
} from './intents.ts';

/** The statements a transaction body runs. */
type Tx = Transaction;

/** Where intents run: a Database, or the scratch one a rebase replays on. */
export interface TxRunner {
  transaction<R>(fn: (tx: Tx) => Promise<R>): Promise<R>;
}

/** App logic run as one transaction; a rebase runs it again with the same `args` on the new base. */
export type Mutator<A = never> = (tx: Tx, args: A) => unknown;

/** What onConflict may answer: leave the transaction out, run it again (a mutator with other args), or stop. */
export type ConflictChoice = { readonly action: 'drop' } | { readonly action: 'retry'; readonly args?: unknown } | { readonly action: 'stop' };

/** A pending transaction that failed when replayed on the remote head. */
export interface Conflict {
  readonly intent: Intent;
  readonly error: ScionError;
  /** 1 for the first replay of this intent, then one more per retry. */
  readonly attempt: number;
  readonly choices: readonly ['drop', 'retry', 'stop'];
}

export type ConflictHandler = (conflict: Conflict) => ConflictChoice | Promise<ConflictChoice>;

export type RebaseResult =
  | { readonly outcome: 'not-needed'; readonly state: 'in-sync' | 'ahead' | 'behind' | 'diverged' }
  | { readonly outcome: 'rebased'; readonly replayed: number; readonly dropped: number; readonly pushed: boolean }
  | { readonly outcome: 'stopped'; readonly conflict: Conflict };

/** The default: keep the device diverged (nothing dropped); the rebase reports the conflict and is tried again at the next sync. */
export const STOP_ON_CONFLICT: ConflictHandler = () => ({ action: 'stop' });

/** Errors of the machinery, not of the transaction: the rebase stops and is tried again later, no onConflict. */
const NOT_CONFLICTS: readonly ErrorCode[] = ['RemoteUnavailable', 'UrlExpired', 'PageNotLocal', 'Closed', 'OutcomeUnknown', 'Interrupted', 'ConcurrentWrite', 'Forbidden', 'Corrupt'];

/** How many times a rebase runs (the first try, then starting over) while local commits land during its replays. */
const ATTEMPTS = 3;

export interface RebaseDeps {
  readonly start: () => Promise<RebaseStart>;
  readonly finish: (base: RebaseBase, counts: { replayed: number; dropped: number }) => Promise<{ pushed: boolean }>;
  readonly abort: (error?: ErrorWire) => Promise<void>;
  /** The database's intents, in order. */
  readonly readIntents: () => Promise<Intent[]>;
  /** Ids of the intents the remote log held at `lsn` (the ones pushed before the local commits were made). */
  readonly intentIdsAt: (lsn: number) => Promise<Set<string>>;
  readonly openScratch: (name: string) => Promise<TxRunner & { query(sql: string): Promise<Row[]>; close(): Promise<void> }>;
  readonly mutators: ReadonlyMap<string, Mutator<unknown>>;
  readonly onConflict: ConflictHandler;
}

export async function rebase(deps: RebaseDeps): Promise<RebaseResult> {
  for (let attempt = 1; ; attempt++) {
    const start = await deps.start();
    if (!start.needed) return { outcome: 'not-needed', state: start.state };
    let result: RebaseResult;
    try {
      result = await replayOnScratch(deps, start);
    } catch (e) {
      await deps.abort(ScionError.from(e).toWire()).catch(() => undefined);
      throw e;
    }
    if (result.outcome === 'stopped') {
      await deps.abort(result.conflict.error.toWire());
      return result;
    }
    try {
      const { pushed } = await deps.finish(start.base, result.outcome === 'rebased' ? result : { replayed: 0, dropped: 0 });
      return result.outcome === 'rebased' ? { ...result, pushed } : result;
    } catch (e) {
      // Only commits landing meanwhile are worth a new replay; an open transaction holding it back is not.
      const restarts = isScionError(e, 'ConcurrentWrite') && e.details?.['localCommits'] === true;
      const error = restarts && attempt >= ATTEMPTS ? tooManyRestarts() : e;
      await deps.abort(ScionError.from(error).toWire()).catch(() => undefined);
      if (!restarts || attempt >= ATTEMPTS) throw error;
    }
  }
}

function tooManyRestarts(): ScionError {
  return new ScionError(
    'ConcurrentWrite',
    `The rebase started over ${ATTEMPTS} times because local commits kept landing while it replayed, and nothing changed: the database is still diverged with every pending transaction kept. Rebase again when writes pause (autosync tries again at its next sync), or hold writes back while rebasing.`,
    { attempts: ATTEMPTS },
  );
}

async function replayOnScratch(deps: RebaseDeps, start: Extract<RebaseStart, { needed: true }>): Promise<RebaseResult> {
  const scratch = await deps.openScratch(start.scratch);
  try {
    // Pending: what the local commits added to what they were based on. Another device's rebase may
    // have pruned those rows from the remote since, so the remote head cannot tell.
    const pushed = start.syncLsn === undefined ? new Set<string>() : await deps.intentIdsAt(start.syncLsn);
    const pending = (await deps.readIntents()).filter((i) => !pushed.has(i.id));
    const onHead = await intentIds(scratch);
    if (pending.length !== start.ahead) {
      throw new ScionError(
        'VolumeDiverged',
        `${start.ahead - pending.length} of the ${start.ahead} local commits not pushed carry no recorded intent (written before recording was on, outside db.mutate / recorded SQL, or by an import), so a rebase cannot replay them. Keep them with db.fork(), or take the remote's side with db.clone().`,
        { ahead: start.ahead, pending: pending.length },
      );
    }
    let replayed = 0;
    let dropped = 0;
    // The first replayed transaction also prunes the rows the remote head holds: all applied there.
    let prune = onHead.size > 0;
    for (const intent of pending) {
      // Applied already (a push whose answer was lost, then found by the pull): not again.
      if (onHead.has(intent.id)) {
        replayed++;
        continue;
      }
      let current = intent;
      for (let attempt = 1; ; attempt++) {
        try {
          await runIntent(scratch, current, deps.mutators, prune);
          prune = false;
          replayed++;
          break;
        } catch (e) {
          const error = ScionError.from(e);
          if (NOT_CONFLICTS.includes(error.code)) throw error;
          const choice = await deps.onConflict({ intent: current, error, attempt, choices: ['drop', 'retry', 'stop'] });
          if (choice.action === 'stop') return { outcome: 'stopped', conflict: { intent: current, error, attempt, choices: ['drop', 'retry', 'stop'] } };
          if (choice.action === 'drop') {
            dropped++;
            break;
          }
          if (choice.action !== 'retry') throw new ScionError('InvalidInput', `onConflict must answer { action: 'drop' | 'retry' | 'stop' }, not ${JSON.stringify(choice)}.`);
          if (current.kind === 'mutator' && 'args' in choice) current = { ...current, args: choice.args };
        }
      }
    }
    return { outcome: 'rebased', replayed, dropped, pushed: false };
  } finally {
    await scratch.close();
  }
}

/** Runs an intent again as one transaction that also writes its intent row (same id: it was applied once). */
export function runIntent(db: TxRunner, intent: Intent, mutators: ReadonlyMap<string, Mutator<unknown>>, prune = false): Promise<unknown> {
  return db.transaction(async (tx) => {
    if (prune) await tx.exec(DELETE_INTENTS);
    let result: unknown;
    if (intent.kind === 'sql') {
      for (const s of intent.statements) await tx.exec(s.sql, s.params);
    } else {
      const fn = mutators.get(intent.mutator);
      if (!fn) {
        throw new ScionError('InvalidInput', `No mutator named "${intent.mutator}" is registered on this database. Register it with db.mutator("${intent.mutator}", fn) before it runs or is replayed.`, { mutator: intent.mutator });
      }
      result = await fn(tx, intent.args);
    }
    await writeIntent(tx, intent);
    return result;
  });
}

/** The first run of a mutator: recorded with fresh id, atomically with what it writes. */
export async function runMutator(db: TxRunner, name: string, args: unknown, mutators: ReadonlyMap<string, Mutator<unknown>>): Promise<unknown> {
  // The arguments are checked by the insert's encoding before the mutator runs.
  intentInsert({ id: '', kind: 'mutator', mutator: name, args });
  if (!mutators.has(name)) throw new ScionError('InvalidInput', `No mutator named "${name}" is registered on this database. Register it with db.mutator("${name}", fn) first.`, { mutator: name });
  return runIntent(db, { id: newIntentId(), seq: 0, kind: 'mutator', mutator: name, args }, mutators);
}

/**
 * The first run of recorded SQL: `fn` runs in a transaction whose writing statements are checked
 * (deterministic) and kept; its intent row commits with them. A transaction that wrote nothing records nothing.
 */
export function runRecorded<R>(db: TxRunner, fn: (tx: Tx) => Promise<R> | R): Promise<R> {
  return db.transaction(async (tx) => {
    const statements: RecordedStatement[] = [];
    const record = (sql: string, params: SqlParams | undefined): void => {
      const kind = classifySql(sql).kind;
      if (kind === 'read') return;
      if (kind !== 'write') {
        throw new ScionError('InvalidInput', `"${sql.slice(0, 60)}" cannot be recorded for replay (transaction control, PRAGMA, ATTACH, VACUUM). Run it on a database without recording, before recording starts.`, { sql: sql.slice(0, 200) });
      }
      checkDeterministic(sql);
      statements.push(params === undefined ? { sql } : { sql, params });
    };
    const recording: Tx = {
      exec: (sql, params) => {
        record(sql, params);
        return tx.exec(sql, params);
      },
      query: ((sql: string, params?: SqlParams, options?: { rowMode?: 'object' | 'array' }) => {
        record(sql, params);
        return options?.rowMode === 'array' ? tx.query(sql, params, { rowMode: 'array' }) : tx.query(sql, params);
      }) as Tx['query'],
      get: <T = Row>(sql: string, params?: SqlParams) => {
        record(sql, params);
        return tx.get<T>(sql, params);
      },
    };
    const result = await fn(recording);
    if (statements.length > 0) await writeIntent(tx, { id: newIntentId(), seq: 0, kind: 'sql', statements });
    return result;
  });
}

async function writeIntent(tx: Tx, intent: Intent): Promise<void> {
  await tx.exec(CREATE_INTENT_TABLE);
  const insert = intentInsert(intent);
  await tx.exec(insert.sql, insert.params);
}

/** The intents of a database (none if nothing was ever recorded in it). */
export async function readIntents(query: (sql: string) => Promise<Row[]>): Promise<Intent[]> {
  return parseIntents(await readOrNone(() => query(SELECT_INTENTS)));
}

/** The ids of the intents a database holds. */
export async function intentIds(db: { query(sql: string): Promise<Row[]> }): Promise<Set<string>> {
  return new Set((await readOrNone(() => db.query(SELECT_INTENT_IDS))).map((r) => String(r['id'])));
}

async function readOrNone(read: () => Promise<Row[]>): Promise<Row[]> {
  try {
    return await read();
  } catch (e) {
    if (isNoIntentTable(e)) return [];
    throw e;
  }
}
