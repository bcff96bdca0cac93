import { getLogger } from '@logtape/logtape';
import * as Comlink from 'comlink';
import { classifySql, isScionError, ScionError } from '../core/index.ts';
import type {
  AutosyncOptions, ChangeEvent, CheckoutVolume, DatabaseInfo, DatabaseStatus, ExecResult, FetchResult, HydrateProgress, ImportFile, ImportResult, JobOptions,
  LongOperation, PageMap, Progress, PullResult, PushResult, QueryResult, RebaseStart, ResultSet, Row, SqlOptions, SqlParams, SqlValue, SyncStatusEvent, Wire, ScionWorkerApi,
} from '../protocol/index.ts';
import { CancelToken, Limits } from './call-limits.ts';
import { Gate } from './gate.ts';
import {
  intentIds, rebase, readIntents, runMutator, runRecorded, STOP_ON_CONFLICT, type ConflictHandler, type Mutator, type RebaseResult,
} from './rebase.ts';
import { liveQueryKey, SharedLiveQueries, startLiveQuery, type LiveSink } from './live-query.ts';
import { Statement } from './statement.ts';

const logger = getLogger(['scion', 'client']);

/** The statements a transaction body runs; valid only until the body's promise settles. */
export interface Transaction {
  exec(sql: string, params?: SqlParams): Promise<ExecResult>;
  query<T = Row>(sql: string, params?: SqlParams, options?: { rowMode?: 'object' }): Promise<T[]>;
  query(sql: string, params: SqlParams | undefined, options: { rowMode: 'array' }): Promise<QueryResult>;
  get<T = Row>(sql: string, params?: SqlParams): Promise<T | undefined>;
}

/**
 * Limits of one call (for a transaction: of all of it). SQLite checks them while it runs, so a runaway
 * statement stops with Interrupted; a call that finished first keeps its result.
 */
export interface SqlCallOptions {
  /** Aborting it stops the call (checked every few tens of milliseconds while SQLite runs). */
  signal?: AbortSignal | undefined;
  /** Most milliseconds SQLite may spend on the call (for a transaction: from its BEGIN to its COMMIT). */
  timeoutMs?: number | undefined;
}

/** How `query` returns rows: `object` (default) keyed by column name, or `array` as a ResultSet with every column. */
export interface QueryOptions extends SqlCallOptions {
  rowMode?: 'object' | 'array' | undefined;
}

export interface IterateOptions extends SqlCallOptions {
  /** Rows fetched from the worker per round trip. Default 500. `timeoutMs` applies to each batch. */
  batchSize?: number | undefined;
  rowMode?: 'object' | 'array' | undefined;
}

export interface WatchOptions {
  /** `array`: each delivery is a ResultSet (see query). */
  rowMode?: 'object' | 'array' | undefined;
  /** A run that failed (the listener form; default: logged). The query keeps watching, except after Closed. */
  onError?: ((e: unknown) => void) | undefined;
}

/** Options of a long operation: push, pull, fetch, hydrate, clone, export, import. */
export interface OperationOptions {
  /**
   * Aborting it stops the operation: it fails with Interrupted (`details.reason: 'cancelled'`) having
   * committed nothing (a push cut while writing its commit is completed by the next push or pull).
   */
  signal?: AbortSignal | undefined;
  /**
   * Hears where the operation is: `{ operation, phase, done, total, bytes }`; phase `done` comes once,
   * just before the promise resolves, with the last figures heard (not after a failure).
   */
  onProgress?: ((p: Progress) => void) | undefined;
}

/** How a Database reaches its worker (one per Scion instance). */
export interface DatabaseLink {
  readonly api: Comlink.Remote<ScionWorkerApi>;
  /** Rejects if the worker dies, so calls fail instead of hanging. */
  call<T>(request: Promise<Wire<T>>): Promise<T>;
  /** Cancel tokens of every SQL call under way on this worker (Scion.close cancels them). */
  readonly running: Set<CancelToken>;
}

/** A fan-out of one worker subscription to local listeners; subscribed on first use. */
export class Listeners<E> {
  readonly #set = new Set<(e: E) => void>();
  #subscription: Promise<number> | undefined;
  readonly #subscribe: (fn: (e: E) => void) => Promise<number>;

  constructor(subscribe: (fn: (e: E) => void) => Promise<number>) {
    this.#subscribe = subscribe;
  }

  add(listener: (e: E) => void): () => void {
    if (typeof listener !== 'function') throw new ScionError('InvalidInput', 'The listener must be a function.');
    this.#set.add(listener);
    this.#subscription ??= this.#subscribe(Comlink.proxy((e: E) => {
      for (const l of [...this.#set]) {
        try {
          l(e);
        } catch (err) {
          logger.error('a listener threw: {message}', { message: String(err) });
        }
      }
    }));
    this.#subscription.catch((err: unknown) => logger.warn('could not subscribe: {message}', { message: String(err) }));
    return () => this.#set.delete(listener);
  }

  /** As add, resolving once the worker subscription is in place (events from then on reach the listener). */
  async addSubscribed(listener: (e: E) => void): Promise<() => void> {
    const off = this.add(listener);
    try {
      await this.#subscription;
    } catch (e) {
      off();
      throw e;
    }
    return off;
  }
}

/**
 * A SQLite database on a Scion volume, running in the DB worker. Calls may be issued concurrently;
 * they run in order, except that while `transaction(fn)` runs, calls made outside `fn` wait for it.
 * Every method may throw a ScionError (see the README's error table); test it with `isScionError`.
 */
/** Names a long operation for abortJob (unique enough within one worker's lifetime; no secure context needed). */
function newJobId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** Rows as objects keyed by column name (a repeated name keeps the last column's value). */
function rowObjects<T>(columns: string[], rows: SqlValue[][]): T[] {
  return rows.map((values) => Object.fromEntries(columns.map((c, i) => [c, values[i]])) as T);
}

export class Database {
  readonly name: string;
  /** True for a checkout (a past snapshot): writes fail with InvalidInput. */
  readonly readOnly: boolean;
  /** For a checkout: the LSN it shows, and which log counts it. */
  readonly checkoutOf: { volume: CheckoutVolume; lsn: number } | undefined;
  readonly #link: DatabaseLink;
  readonly #handle: number;
  readonly #gate = new Gate();
  readonly #changes: Listeners<ChangeEvent>;
  readonly #liveQueries = new SharedLiveQueries();
  readonly #syncStatus: Listeners<SyncStatusEvent>;
  /** Live cancel tokens of this Database's calls (see interrupt); `#shared` names every call without a signal. */
  readonly #tokens = new Set<CancelToken>();
  #shared: CancelToken | undefined;
  #closed = false;
  /** Rejects (with Closed) once close() is called, so an open transaction stops waiting for its body. */
  readonly #closeRequest: { promise: Promise<never>; reject: (e: ScionError) => void };
  #isClosing = false;
  readonly #scionClosed: Promise<never> | undefined;
  // Rebase by replay (src/client/rebase.ts).
  readonly #mutators = new Map<string, Mutator<unknown>>();
  #onConflict: ConflictHandler = STOP_ON_CONFLICT;
  #recordSql = false;
  #rebasing: Promise<RebaseResult> | undefined;
  #rebaseOnDiverged = false;
  /**
   * Where the last rebase stopped on the app's answer (graft, local LSN, remote head): autosync does not
   * rebase, and so does not ask onConflict, again until one of them changes.
   */
  #stoppedAt: string | undefined;

  /** @internal Built by Scion.open / Database.checkout; `scionClosed` rejects when the Scion instance closes. */
  constructor(link: DatabaseLink, info: DatabaseInfo, scionClosed?: Promise<never>) {
    this.#link = link;
    this.#handle = info.handle;
    this.name = info.name;
    this.readOnly = info.readOnly;
    this.checkoutOf = info.checkout;
    this.#changes = new Listeners((fn) => this.#call(() => this.#link.api.subscribe(this.#handle, fn)));
    this.#syncStatus = new Listeners((fn) => this.#call(() => this.#link.api.subscribeSyncStatus(this.#handle, fn)));
    let reject!: (e: ScionError) => void;
    const promise = new Promise<never>((_, r) => (reject = r));
    promise.catch(() => undefined); // only a transaction that is open at close() awaits it
    this.#closeRequest = { promise, reject };
    this.#scionClosed = scionClosed;
    // Scion.close() ends the worker: an open transaction of this Database rolls back too. (A WeakRef, so a
    // Database closed and dropped is not kept alive until then.)
    const self = new WeakRef(this);
    scionClosed?.catch(() => {
      const db = self.deref();
      if (db) db.#requestClose();
    });
  }

  #requestClose(): void {
    if (this.#isClosing) return;
    this.#isClosing = true;
    this.#closeRequest.reject(this.#closedError());
    this.interrupt();
  }

  // ── SQL ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Runs one or more statements; `params` bind to the first statement that has parameters.
   * A `PRAGMA graft_*` must be alone in its call. Throws InvalidInput (SQL errors, with
   * `details.sqlite`), ConcurrentWrite (another writer, or the database moved on), PageNotLocal.
   */
  exec(sql: string, params?: SqlParams, options?: SqlCallOptions): Promise<ExecResult> {
    if (this.#records(sql)) return this.#recorded((tx) => tx.exec(sql, params), options);
    return this.#sqlOutsideTransaction('exec', () => this.#withLimits(options, (limits) => this.#exec(sql, params, limits)));
  }

  /**
   * Runs SQL and returns the rows of its last statement that returns columns (earlier statements run
   * too), as objects keyed by column name — or with `{ rowMode: 'array' }` as a ResultSet: `columns`,
   * `declaredTypes` and `rows` as arrays, so columns that share a name (`SELECT a.id, b.id`) all arrive.
   * Same errors as exec.
   */
  query<T = Row>(sql: string, params?: SqlParams, options?: QueryOptions & { rowMode?: 'object' | undefined }): Promise<T[]>;
  query(sql: string, params: SqlParams | undefined, options: QueryOptions & { rowMode: 'array' }): Promise<QueryResult>;
  query<T>(sql: string, params?: SqlParams, options?: QueryOptions): Promise<T[] | QueryResult> {
    if (this.#records(sql)) {
      return this.#recorded<T[] | QueryResult>((tx) => (options?.rowMode === 'array' ? tx.query(sql, params, { rowMode: 'array' }) : tx.query<T>(sql, params)), options);
    }
    return this.#sqlOutsideTransaction('query', () => this.#withLimits(options, (limits) => this.#query<T>(sql, params, options?.rowMode, limits)));
  }

  /** The first row of `query` (a read-only statement stops after it), or undefined if there is none. */
  get<T = Row>(sql: string, params?: SqlParams, options?: SqlCallOptions): Promise<T | undefined> {
    return this.#sqlOutsideTransaction('get', () => this.#withLimits(options, (limits) => this.#get<T>(sql, params, limits)));
  }

  /**
   * Prepares one statement in the worker, checking it now (an SQL error throws here) and telling its
   * columns. Its `all`/`get`/`run` reuse the prepared statement; `finalize()` frees it, and closing the
   * Database frees them all.
   */
  async prepare<T = Row>(sql: string): Promise<Statement<T>> {
    const info = await this.#op(() => this.#link.api.prepare(this.#handle, sql));
    return new Statement<T>(this, sql, info, () => this.#call(() => this.#link.api.finalize(this.#handle, sql)));
  }

  /**
   * Iterates the rows of one read-only statement, fetched from the worker in batches, so a large result
   * never sits in memory at once. The statement holds a read transaction until the loop ends (a `break`
   * ends it too); meanwhile fork, clone and import of this database wait for it or fail with
   * ConcurrentWrite. Other calls on this Database may run between batches.
   * @example for await (const row of db.iterate('SELECT * FROM big')) { … }
   */
  iterate<T = Row>(sql: string, params?: SqlParams, options?: IterateOptions & { rowMode?: 'object' | undefined }): AsyncIterableIterator<T>;
  iterate(sql: string, params: SqlParams | undefined, options: IterateOptions & { rowMode: 'array' }): AsyncIterableIterator<SqlValue[]>;
  async *iterate<T>(sql: string, params?: SqlParams, options: IterateOptions = {}): AsyncIterableIterator<T | SqlValue[]> {
    const batch = options.batchSize ?? 500;
    const asObjects = options.rowMode !== 'array';
    const start = await this.#sqlOutsideTransaction('iterate', () => this.#withLimits(options, (limits) =>
      this.#limited(limits, (o) => this.#call(() => this.#link.api.iterate(this.#handle, sql, params, batch, o)))));
    const shape = (rows: SqlValue[][]) => (asObjects ? rowObjects<T>(start.columns, rows) : rows);
    let cursor = start.cursor;
    try {
      yield* shape(start.rows);
      while (cursor !== undefined) {
        const id = cursor;
        const next = await this.#gate.pass(() => this.#withLimits(options, (limits) =>
          this.#limited(limits, (o) => this.#call(() => this.#link.api.cursorNext(this.#handle, id, batch, o)))));
        if (next.done) cursor = undefined;
        yield* shape(next.rows);
      }
    } finally {
      if (cursor !== undefined && !this.#closed) {
        const id = cursor;
        await this.#call(() => this.#link.api.cursorClose(this.#handle, id)).catch(() => undefined);
      }
    }
  }

  /**
   * A live query: calls `listener` with the rows of `sql` now, then again each time they change — after a
   * commit (any connection or tab) that changed a table the query reads (as SQLite names them when it
   * prepares the query, views resolved to their tables), and after a pull, a move to another graft, an
   * import or a schema change. Changes arriving while it runs cause one more run, not one each, and rows
   * equal to the last delivered are not delivered again. Returns the function that stops it.
   * Without a listener, an async iterator of the same deliveries (`for await (const rows of db.watch(sql))`;
   * leaving the loop stops it; it throws a run's error).
   */
  watch<T = Row>(sql: string, params: SqlParams | undefined, listener: (rows: T[]) => void, options?: WatchOptions & { rowMode?: 'object' | undefined }): () => void;
  watch(sql: string, params: SqlParams | undefined, listener: (rows: ResultSet) => void, options: WatchOptions & { rowMode: 'array' }): () => void;
  watch<T = Row>(sql: string, params?: SqlParams, options?: WatchOptions & { rowMode?: 'object' | undefined }): AsyncIterableIterator<T[]>;
  watch(sql: string, params: SqlParams | undefined, options: WatchOptions & { rowMode: 'array' }): AsyncIterableIterator<ResultSet>;
  watch<R>(sql: string, params?: SqlParams, listenerOrOptions?: ((rows: R) => void) | WatchOptions, maybeOptions?: WatchOptions): (() => void) | AsyncIterableIterator<R> {
    if (typeof listenerOrOptions === 'function') {
      const options = maybeOptions ?? {};
      const onError = options.onError ?? ((e: unknown) => logger.warn('a live query failed: {message}', { message: String(e) }));
      return this.#live<R>(sql, params, options.rowMode, { next: listenerOrOptions, error: onError });
    }
    return this.#liveIterator<R>(sql, params, listenerOrOptions?.rowMode);
  }

  /**
   * Stops the SQL this Database runs or has sent (its exec, query or transaction statements): each
   * fails with Interrupted within a few tens of milliseconds of running; transaction() rolls back.
   * Calls made after interrupt() are not affected.
   */
  interrupt(): void {
    for (const token of this.#tokens) token.cancel();
    this.#tokens.clear();
    this.#shared = undefined;
  }

  /**
   * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT` (ROLLBACK if it throws; the error is rethrown). Use the
   * `tx` argument inside `fn`: while the transaction is open, `exec`, `query` and `transaction` on the
   * database itself fail at once with InvalidInput (other calls wait for it to end). A contended write,
   * or one whose data changed meanwhile, fails with ConcurrentWrite having committed nothing.
   * @example await db.transaction(async (tx) => { await tx.exec('INSERT INTO t VALUES (?)', [1]); });
   */
  transaction<R>(fn: (tx: Transaction) => Promise<R> | R, options?: SqlCallOptions): Promise<R> {
    return this.#recordSql ? this.#recorded(fn, options) : this.#transaction(fn, options);
  }

  // ── Rebase by replay ────────────────────────────────────────────────────────────────────

  /**
   * Registers app logic that runs as one transaction and that a rebase runs again, with the same
   * arguments, on top of the remote when another device pushed first. Register every mutator before
   * the first sync, in every tab that opens the database. Registering one turns on rebase when
   * autosync finds the database diverged.
   * @example db.mutator('transfer', async (tx, { from, to, amount }) => { … });
   */
  mutator<A>(name: string, fn: Mutator<A>): void {
    if (typeof name !== 'string' || name.length === 0 || typeof fn !== 'function') throw new ScionError('InvalidInput', 'db.mutator(name, fn) needs a non-empty name and a function (tx, args) => ….');
    this.#mutators.set(name, fn as Mutator<unknown>);
    this.#armRebase();
  }

  /**
   * Runs the mutator `name` with `args` (plain JSON data) as one transaction, recording its name and
   * arguments in the same commit; resolves with what the mutator returned once it committed locally.
   */
  mutate<R = unknown>(name: string, args?: unknown, options?: SqlCallOptions): Promise<R> {
    return runMutator({ transaction: (fn) => this.#transaction(fn, options) }, name, args ?? null, this.#mutators) as Promise<R>;
  }

  /**
   * With `true`, every later write through exec, query and transaction on this Database is recorded
   * (its statements and parameters) so a rebase can replay it; statements whose values differ between
   * runs (random(), 'now', …) are refused at first run. Turns on rebase when autosync finds the database diverged.
   */
  recordSql(on = true): void {
    this.#recordSql = on === true;
    if (this.#recordSql) this.#armRebase();
  }

  /**
   * Decides about a pending transaction that fails when replayed: `{ action: 'drop' }`, `{ action: 'retry',
   * args }` (a mutator with other arguments; recorded SQL runs again as is) or `{ action: 'stop' }`. The
   * default stops: the database stays diverged with nothing lost, and the next sync tries again.
   */
  onConflict(handler: ConflictHandler): void {
    if (typeof handler !== 'function') throw new ScionError('InvalidInput', 'onConflict needs a function (conflict) => choice.');
    this.#onConflict = handler;
    this.#stoppedAt = undefined;
  }

  /**
   * If the database diverged, re-runs its pending transactions (mutators and recorded SQL) in their
   * first order on the remote head, moves the database there and pushes. Autosync does it by itself
   * once rebase is on (a mutator registered, or recordSql). Status events: `rebasing`, then `rebased`
   * (replayed, dropped) or `diverged` (with the error that stopped it).
   */
  rebase(): Promise<RebaseResult> {
    if (this.readOnly) return Promise.reject(new ScionError('InvalidInput', `This database is a read-only checkout of "${this.name}"; rebase the database itself.`));
    let started: RebaseStart | undefined;
    this.#rebasing ??= rebase({
      start: async () => (started = await this.#call(() => this.#link.api.rebaseStart(this.#handle))),
      finish: (base, counts) => this.#call(() => this.#link.api.rebaseFinish(this.#handle, base, counts)),
      abort: (error) => this.#call(() => this.#link.api.rebaseAbort(this.#handle, error)),
      readIntents: () => readIntents((sql) => this.#gate.pass(() => this.#query<Row>(sql, undefined, undefined) as Promise<Row[]>)),
      intentIdsAt: async (lsn) => {
        const at = await this.checkout(lsn, { volume: 'remote' });
        try {
          return await intentIds(at);
        } finally {
          await at.close();
        }
      },
      openScratch: async (name) => new Database(this.#link, await this.#call(() => this.#link.api.open(name, { create: false, autosync: false })), this.#scionClosed),
      mutators: this.#mutators,
      onConflict: (c) => this.#onConflict(c),
    }).then((result) => {
      this.#stoppedAt = result.outcome === 'stopped' && started?.needed ? stopKey(started.base.graft, started.base.localLsn, started.remoteLsn) : undefined;
      return result;
    }).finally(() => {
      this.#rebasing = undefined;
    });
    return this.#rebasing;
  }

  /** Autosync's rebase: skipped while the database is where the app last answered stop. */
  async #autoRebase(): Promise<void> {
    if (this.#stoppedAt !== undefined) {
      const s = await this.status();
      if (stopKey(s.local, s.localLsn ?? 0, s.remoteLatest ?? 0) === this.#stoppedAt) return;
    }
    await this.rebase();
  }

  #armRebase(): void {
    if (this.#rebaseOnDiverged || this.readOnly) return;
    this.#rebaseOnDiverged = true;
    // A `diverged` with an error comes from a rebase that stopped: the next sync's event retries it.
    this.#syncStatus.add((e) => {
      if (e.state !== 'diverged' || e.error || this.#closed) return;
      this.#autoRebase().catch((err: unknown) => logger.warn('rebase of {name} failed: {message}', { name: this.name, message: String(err) }));
    });
  }

  #records(sql: string): boolean {
    const kind = classifySql(sql).kind;
    // PRAGMAs and the like run as they are, unrecorded; transaction control is refused by runRecorded.
    return this.#recordSql && !this.readOnly && kind !== 'read' && kind !== 'idempotent';
  }

  #recorded<R>(fn: (tx: Transaction) => Promise<R> | R, options: SqlCallOptions | undefined): Promise<R> {
    return runRecorded({ transaction: (body) => this.#transaction(body, options) }, fn);
  }

  #transaction<R>(fn: (tx: Transaction) => Promise<R> | R, options?: SqlCallOptions): Promise<R> {
    if (this.#gate.isHeld) return Promise.reject(this.#insideTransaction('transaction'));
    if (this.#isClosing) return Promise.reject(this.#closedError());
    return this.#gate.hold(() => this.#withLimits(options, async (limits) => {
      let open = true;
      const guard = <T>(run: () => Promise<T>): Promise<T> =>
        open ? run() : Promise.reject(new ScionError('Closed', 'This transaction has ended; start a new one.'));
      const tx: Transaction = {
        exec: (sql, params) => guard(() => this.#exec(sql, params, limits)),
        query: ((sql: string, params?: SqlParams, options?: { rowMode?: 'object' | 'array' }) =>
          guard(() => this.#query(sql, params, options?.rowMode, limits))) as Transaction['query'],
        get: <T = Row>(sql: string, params?: SqlParams) => guard(() => this.#get<T>(sql, params, limits)),
      };
      await this.#exec('BEGIN IMMEDIATE', undefined, limits);
      try {
        // close() does not wait for the body (it may never settle): the transaction rolls back at once.
        const result = await Promise.race([(async () => fn(tx))(), this.#closeRequest.promise]);
        open = false;
        if (this.#isClosing) throw this.#closedError();
        // Stopped meanwhile (between statements): roll back rather than commit.
        limits?.throwIfStopped();
        await this.#exec('COMMIT');
        return result;
      } catch (e) {
        open = false;
        // After a failed COMMIT SQLite may have rolled back already; the first error is the one to report.
        const rollback = this.#exec('ROLLBACK').catch(() => undefined);
        // Closing: the connection's close rolls back in the worker too, and a worker shutting down may never answer.
        if (!this.#isClosing) await rollback;
        throw e;
      }
    }));
  }

  /**
   * Closes the connection. SQL under way is interrupted, and an open transaction rolls back without
   * waiting for its body: its promise rejects with Closed (`details.rolledBack`). Later calls throw Closed.
   */
  close(): Promise<void> {
    this.#requestClose();
    return this.#gate.pass(async () => {
      if (this.#closed) return;
      await this.#call(() => this.#link.api.close(this.#handle));
      this.#closed = true;
      this.interrupt(); // frees the shared token
    });
  }

  #closedError(): ScionError {
    return new ScionError('Closed', `Database "${this.name}" was closed while this transaction was open; it rolled back and nothing was committed. Open the database again and retry.`, { name: this.name, rolledBack: true });
  }

  // ── Graft operations ────────────────────────────────────────────────────────────────────

  /** Sync state as data: local/remote LSNs, ahead/behind, `state` (in-sync, ahead, behind, diverged), pending push. */
  status(): Promise<DatabaseStatus> {
    return this.#op(() => this.#link.api.status(this.#handle));
  }

  /** Pushes unpushed local commits as one remote commit. `{ outcome: 'diverged' }` is a result, not an error. */
  push(options?: OperationOptions): Promise<PushResult> {
    return this.#long('push', options, (job, onProgress) => this.#link.api.push(this.#handle, job, onProgress));
  }

  /** Fetches remote commits and fast-forwards (no pages are copied). Diverged is a result. ConcurrentWrite while a write transaction is open. */
  pull(options?: OperationOptions): Promise<PullResult> {
    return this.#long('pull', options, (job, onProgress) => this.#link.api.pull(this.#handle, job, onProgress));
  }

  /** Fetches remote commit records only. */
  fetch(options?: OperationOptions): Promise<FetchResult> {
    return this.#long('fetch', options, (job, onProgress) => this.#link.api.fetch(this.#handle, job, onProgress));
  }

  /** Downloads every page not held locally (so reads work offline). A function argument is `onProgress`. */
  hydrate(options?: OperationOptions | ((p: Progress) => void)): Promise<HydrateProgress> {
    const opts = typeof options === 'function' ? { onProgress: options } : options;
    return this.#long('hydrate', opts, (job, onProgress) => this.#link.api.hydrate(this.#handle, job, onProgress), { readOnlyToo: true });
  }

  /**
   * Forks the latest snapshot into a new graft with a new remote volume. With `name`, the fork is a new
   * database of that name; without, this database moves to the fork (keeping unpushed changes; the
   * way out of divergence that loses nothing). Push it to publish it.
   */
  fork(options: { name?: string } = {}): Promise<{ name: string; graft: string; remote: string; previous: string }> {
    return this.#write(() => this.#link.api.fork(this.#handle, options));
  }

  /**
   * Moves this database to a new graft cloned from the remote volume `remote` (default: its current
   * remote — discarding unpushed local changes, the way out of divergence that takes the remote's side).
   * Only commit records and the hot frames are fetched; pages arrive when read.
   */
  clone(remote?: string, options?: OperationOptions): Promise<DatabaseStatus> {
    return this.#long('clone', options, (job, onProgress) => this.#link.api.clone(this.#handle, remote, job, onProgress));
  }

  /**
   * Re-homes this database on a new remote volume (`options.remote`, default a fresh id), keeping its
   * content: pages not held locally are fetched from the old remote while it still answers, then the
   * latest snapshot is pushed to the new one. The way out when the old remote volume is damaged or gone
   * (other devices then clone the new `status().remote`). Throws PageNotLocal if some pages were never
   * fetched and the old remote cannot serve them, ConcurrentWrite while a transaction is open.
   */
  moveToNewRemote(options: { remote?: string } = {}): Promise<DatabaseStatus> {
    return this.#write(() => this.#link.api.moveToNewRemote(this.#handle, options.remote));
  }

  /**
   * A read-only Database showing this one as of `lsn`: a remote log LSN with `{ volume: 'remote' }`, else
   * a local LSN (`status().localLsn`, the `lsn` of commit events) of a database never synced or not
   * pushed yet. Throws CommitNotFound, or InvalidInput for a pushed local LSN (`details.remoteLsn`).
   */
  async checkout(lsn: number, options: { volume?: CheckoutVolume } = {}): Promise<Database> {
    const info = await this.#op(() => this.#link.api.checkout(this.#handle, lsn, options.volume ?? 'local'));
    return new Database(this.#link, info, this.#scionClosed);
  }

  /**
   * Replaces the content with a plain SQLite database file, as one local commit (history keeps the old
   * content). A Blob or File (e.g. from `<input type=file>` or `response.blob()`) is streamed into
   * the store, so the worker never holds the whole file; a ReadableStream is collected into a Blob
   * first (the browser keeps that, not this tab's heap). Other page sizes are rewritten. Throws
   * InvalidInput for a file that is not a SQLite database or fails SQLite's quick_check; then
   * nothing is committed.
   */
  import(file: Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>, options?: OperationOptions): Promise<ImportResult> {
    return this.#long('import', options, async (job, onProgress) => this.#link.api.importFile(this.#handle, await importable(file), job, onProgress));
  }

  /** The committed content as a plain SQLite file (pages not held locally are fetched first). */
  export(options?: OperationOptions): Promise<Uint8Array> {
    return this.#long('export', options, (job, onProgress) => this.#link.api.exportFile(this.#handle, job, onProgress), { readOnlyToo: true });
  }

  /**
   * Every page of this database's snapshot (a checkout's own) by where its bytes are: `local`, `cached`
   * (fetched by this worker), `missing` (a read fetches it), `unpushed`, `empty`. Reads nothing remote.
   */
  pageMap(): Promise<PageMap> {
    return this.#op(() => this.#link.api.pageMap(this.#handle));
  }

  /** Calls `listener` after every local commit (any connection), pull that changed the content, or move to another graft. Returns the unsubscribe function. */
  onChange(listener: (e: ChangeEvent) => void): () => void {
    return this.#changes.add(listener);
  }

  /**
   * Starts autosync (pull then push, every `intervalMs` and `afterCommitMs` after a local commit;
   * paused offline; exponential backoff after failures), retunes it, or stops it with `false`.
   */
  autosync(options: AutosyncOptions | boolean = true): Promise<void> {
    return this.#write(() => this.#link.api.setAutosync(this.#handle, options));
  }

  /** Autosync's status events (idle, syncing, offline, diverged, error, stopped). Returns the unsubscribe function. */
  onSyncStatus(listener: (e: SyncStatusEvent) => void): () => void {
    return this.#syncStatus.add(listener);
  }

  // ── Internals ───────────────────────────────────────────────────────────────────────────

  #live<R>(sql: string, params: SqlParams | undefined, rowMode: 'object' | 'array' | undefined, sink: LiveSink<R>): () => void {
    if (typeof sql !== 'string') throw new ScionError('InvalidInput', 'watch() takes the SQL text as its first argument.');
    return this.#liveQueries.watch<R>(liveQueryKey(sql, params, rowMode), (shared) => {
      const stop = startLiveQuery<R>({
        readTables: () => this.#op(() => this.#link.api.readTables(this.#handle, sql)),
        // Array mode delivers the ResultSet alone: a run's changes and rowid are not what it watches.
        run: async () => {
          const result = await this.#gate.pass(() => this.#query(sql, params, rowMode));
          if (Array.isArray(result)) return result as R;
          const { columns, declaredTypes, rows } = result;
          return { columns, declaredTypes, rows } as R;
        },
        subscribe: (listener) => this.#changes.addSubscribed(listener),
      }, {
        next: (rows) => shared.next(rows),
        error: (e) => {
          if (isScionError(e, 'Closed')) stop();
          shared.error(e);
        },
      });
      return stop;
    }, sink);
  }

  /** The async-iterator form of watch: yields the latest delivery (deliveries not yet taken are replaced by newer ones). */
  #liveIterator<R>(sql: string, params: SqlParams | undefined, rowMode: 'object' | 'array' | undefined): AsyncIterableIterator<R> {
    let latest: { rows: R } | undefined;
    let failure: { e: unknown } | undefined;
    let wake: (() => void) | undefined;
    let done = false;
    const stop = this.#live<R>(sql, params, rowMode, {
      next: (rows) => {
        latest = { rows };
        wake?.();
      },
      error: (e) => {
        failure = { e };
        wake?.();
      },
    });
    const finish = (): IteratorResult<R> => {
      done = true;
      stop();
      wake?.();
      return { done: true, value: undefined };
    };
    const iterator: AsyncIterableIterator<R> = {
      async next(): Promise<IteratorResult<R>> {
        while (!done) {
          if (failure) {
            const { e } = failure;
            finish();
            throw e;
          }
          if (latest) {
            const { rows } = latest;
            latest = undefined;
            return { done: false, value: rows };
          }
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        return { done: true, value: undefined };
      },
      async return(): Promise<IteratorResult<R>> {
        return finish();
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /**
   * SQL on the database itself while its transaction is open would wait for a transaction that may be
   * awaiting it (a deadlock): fail at once instead, naming the way.
   */
  #sqlOutsideTransaction<T>(method: 'exec' | 'query' | 'get' | 'iterate', run: () => Promise<T>): Promise<T> {
    if (this.#gate.isHeld) return Promise.reject(this.#insideTransaction(method));
    return this.#gate.pass(run);
  }

  #insideTransaction(method: string): ScionError {
    return new ScionError(
      'InvalidInput',
      `db.${method}() was called while a transaction is open on database "${this.name}". Inside db.transaction(fn), use the tx argument (tx.exec, tx.query); for other work meanwhile, open another connection with scion.open("${this.name}").`,
      { name: this.name },
    );
  }

  #exec(sql: string, params?: SqlParams, limits?: Limits): Promise<ExecResult> {
    return this.#limited(limits, (options) => this.#call(() => this.#link.api.exec(this.#handle, sql, params, options)));
  }

  #query<T>(sql: string, params: SqlParams | undefined, rowMode: 'object' | 'array' | undefined, limits?: Limits): Promise<T[] | QueryResult> {
    return this.#limited(limits, (options) => this.#call(() => this.#link.api.query(this.#handle, sql, params, rowMode === undefined ? options : { ...options, rowMode }))) as Promise<T[] | QueryResult>;
  }

  async #get<T>(sql: string, params: SqlParams | undefined, limits?: Limits): Promise<T | undefined> {
    const rows = await this.#limited(limits, (options) => this.#call(() => this.#link.api.query(this.#handle, sql, params, { ...options, maxRows: 1 })));
    return (rows as T[])[0];
  }

  /** Runs a call (or a transaction) under the limits its options give; they end with it. */
  async #withLimits<T>(options: SqlCallOptions | undefined, run: (limits: Limits | undefined) => Promise<T>): Promise<T> {
    const limits = Limits.from(options);
    try {
      return await run(limits);
    } finally {
      const token = limits?.release();
      if (token) this.#forget(token);
    }
  }

  /** One SQL statement: named by the limits' token (its signal cancels it) or the shared one, with what is left of the time limit. */
  async #limited<T>(limits: Limits | undefined, send: (options: SqlOptions) => Promise<T>): Promise<T> {
    limits?.throwIfStopped();
    const token = limits?.token(() => this.#adopt(new CancelToken())) ?? this.#sharedToken();
    return send({ cancel: token.url, timeoutMs: limits?.remainingMs() });
  }

  #sharedToken(): CancelToken {
    if (!this.#shared?.isLive) this.#shared = this.#adopt(new CancelToken());
    return this.#shared;
  }

  #adopt(token: CancelToken): CancelToken {
    this.#tokens.add(token);
    this.#link.running.add(token);
    return token;
  }

  #forget(token: CancelToken): void {
    this.#tokens.delete(token);
    this.#link.running.delete(token);
  }

  #op<T>(request: () => Promise<Wire<T>>): Promise<T> {
    return this.#gate.pass(() => this.#call(request));
  }

  /**
   * A long operation: with a signal, named by a job id that `abortJob` stops in the worker; an abort
   * before it is sent fails it at once. Those that change the graft are refused on a checkout (#write).
   */
  #long<T>(operation: LongOperation, options: OperationOptions | undefined, send: (job: JobOptions | undefined, onProgress: ((p: Progress) => void) | undefined) => Promise<Wire<T>>, kind: { readOnlyToo?: boolean } = {}): Promise<T> {
    const signal = options?.signal;
    const listener = options?.onProgress;
    if (listener !== undefined && typeof listener !== 'function') return Promise.reject(new ScionError('InvalidInput', 'onProgress must be a function.'));
    // Events travel apart from the answer: those arriving after it are dropped, and `done` is given here.
    let last: Progress | undefined;
    let ended = false;
    const onProgress = listener && Comlink.proxy((p: Progress) => {
      if (ended) return;
      last = p;
      listener(p);
    });
    let unlisten: (() => void) | undefined;
    const request = (): Promise<Wire<T>> => {
      if (signal?.aborted) throw new ScionError('Interrupted', `The ${operation} was aborted (its AbortSignal) before it started; nothing was done.`, { reason: 'cancelled', operation });
      if (!signal) return send(undefined, onProgress);
      // abortJob reaches the worker between the operation's steps; the revoked URL reaches synchronous work
      // (the import's integrity check), which no message interrupts.
      const token = new CancelToken();
      const job = { job: newJobId(), cancel: token.url };
      const abort = () => {
        token.cancel();
        void this.#link.call(this.#link.api.abortJob(job.job)).catch(() => undefined);
      };
      signal.addEventListener('abort', abort, { once: true });
      unlisten = () => {
        signal.removeEventListener('abort', abort);
        token.cancel();
      };
      return send(job, onProgress);
    };
    const run = kind.readOnlyToo ? this.#op(request) : this.#write(request);
    return run.then(
      (result) => {
        ended = true;
        unlisten?.();
        if (listener) {
          try {
            listener({ operation, phase: 'done', done: last?.done ?? 0, total: last?.total ?? last?.done ?? 0, bytes: last?.bytes ?? 0 });
          } catch (e) {
            logger.error('an onProgress listener threw: {message}', { message: String(e) });
          }
        }
        return result;
      },
      (e: unknown) => {
        ended = true;
        unlisten?.();
        throw e;
      },
    );
  }

  /** Operations that change the graft or its sync state make no sense on a checkout. */
  #write<T>(request: () => Promise<Wire<T>>): Promise<T> {
    if (this.readOnly) return Promise.reject(new ScionError('InvalidInput', `This database is a read-only checkout of "${this.name}"; run this on the database itself.`));
    return this.#op(request);
  }

  async #call<T>(request: () => Promise<Wire<T>>): Promise<T> {
    if (this.#closed) throw new ScionError('Closed', `Database "${this.name}" is closed. Open it again.`);
    return this.#link.call(request());
  }
}

const stopKey = (graft: string, localLsn: number, remoteLsn: number): string => `${graft}:${localLsn}:${remoteLsn}`;

/** What the worker takes: a stream becomes a Blob (structured-cloneable, and read by the worker in steps). */
async function importable(file: Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>): Promise<ImportFile> {
  if (typeof ReadableStream !== 'undefined' && file instanceof ReadableStream) return new Response(file).blob();
  return file as ImportFile;
}
