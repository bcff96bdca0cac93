// The worker's state once initialized: the runtime, the VFS and the open SQLite connections, and the
// database operations the API and the graft_* pragmas share. Methods throw ScionError; api.ts turns
// results and errors into Wire envelopes.
import { getLogger } from '@logtape/logtape';
import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { classifySql, Graft, invalidInput, isScionError, LSN, mayWrite, ScionError, SharedName, Snapshot, Tag, VolumeId } from '../src/core/index.ts';
import type { Runtime } from '../src/runtime/index.ts';
import { openScionDb, type ScionVfs } from '../src/vfs/index.ts';
import type { SyncRound } from './autosync.ts';
import { CallLimits, PROGRESS_STEPS, type CancelCheck, type StopReason } from './interrupt.ts';
import { KeyedLock } from './keyed-lock.ts';
import { openShared } from './open-shared.ts';
import { buildPageMap } from './page-map.ts';
import type {
  ChangeEvent, CheckoutVolume, CursorStart, DatabaseInfo, HydrateProgress, PullResult, PushResult, DatabaseStatus, ExecResult, FetchResult, ImportFile, ImportResult, OpenOptions, PageMap, QueryResult, ResultSet, Row, SqlOptions, SqlParams, SqlValue, StatementInfo, StatsResult, TagInfo,
} from '../src/protocol/index.ts';
import { NO_OPERATION, yieldToMessages, type OperationContext } from './long-operations.ts';
import { importSqliteFile } from './import-file.ts';
import { readSqliteFileInSteps } from './sqlite-file.ts';
import { normalizeParams } from './sql-text.ts';
import { WriteQueue } from './write-queue.ts';
import { Cursor, runScript, statementInfo, StatementCache, type ScriptResult } from './statements.ts';
import { tablesRead, WrittenTables } from './table-changes.ts';

const logger = getLogger(['scion', 'worker']);

/** A checkout: which log the LSN counts in. `local`: the graft's own commits; `remote`: the shared remote log. */
/** One SQLite connection of one client database. */
export interface Connection {
  readonly handle: number;
  readonly name: Tag;
  db: Database;
  /** Set while the connection is pinned to a past snapshot (read-only). */
  checkout: { volume: CheckoutVolume; lsn: LSN; snapshot: Snapshot } | undefined;
  /** The deadline and cancel token of the call it runs now, read by its progress handler. */
  readonly limits: CallLimits;
  /** Its prepared statements by SQL text (db.prepare and every single-statement call). */
  statements: StatementCache;
  /** Iterations under way, by cursor id. */
  readonly cursors: Map<string, Cursor>;
  /** Tables its open transaction changed, for the commit event. */
  readonly written: WrittenTables;
  /** How long a write waits for another connection's write transaction to end (OpenOptions.busyTimeoutMs). */
  busyTimeoutMs: number;
}

/** Default OpenOptions.busyTimeoutMs. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export interface SessionParts {
  sqlite3: Sqlite3Static;
  runtime: Runtime;
  vfs: ScionVfs;
  hasRemote: boolean;
  /** How a cancelled call is recognised (default: its blob: URL was revoked). */
  isCancelled: CancelCheck;
}

export class Session {
  readonly sqlite3: Sqlite3Static;
  readonly runtime: Runtime;
  readonly vfs: ScionVfs;
  readonly hasRemote: boolean;
  readonly #connections = new Map<number, Connection>();
  readonly #locks = new KeyedLock();
  readonly #onChange: (e: ChangeEvent) => void;
  readonly #stopCommits: () => void;
  readonly #isCancelled: CancelCheck;
  /** The connection whose SQL runs now: a commit landing meanwhile is its. */
  #running: Connection | undefined;
  readonly #writers = new WriteQueue((name, handle) =>
    [...this.#connections.values()].some((c) => c.name === name && c.handle !== handle && this.#txnState(c) === 2));
  #nextHandle = 1;

  constructor(parts: SessionParts, onChange: (e: ChangeEvent) => void) {
    this.sqlite3 = parts.sqlite3;
    this.runtime = parts.runtime;
    this.vfs = parts.vfs;
    this.hasRemote = parts.hasRemote;
    this.#isCancelled = parts.isCancelled;
    this.#onChange = onChange;
    // Fires inside the VFS commit (inside SQLite): report after it returns. A commit made outside SQL (an
    // import) changed anything.
    this.#stopCommits = this.runtime.onCommit((e) => {
      const conn = this.#running;
      const written = conn?.written.takeCommitted();
      queueMicrotask(() => {
        const tables = conn && written && this.#schemaUnchanged(conn) ? written : undefined;
        for (const { tag, graft } of this.runtime.tagList()) if (graft === e.graft) this.#emit({ name: tag, reason: 'commit', graft, lsn: e.lsn, tables });
      });
    });
  }

  // ── Connections ─────────────────────────────────────────────────────────────────────────

  /** Opens a connection on `name`, creating the database (or cloning `options.clone`) if the name is new. */
  async open(name: string, options: OpenOptions = {}): Promise<DatabaseInfo> {
    const tag = Tag.parse(name);
    const busyTimeoutMs = busyTimeout(options.busyTimeoutMs);
    const remote = options.clone === undefined ? undefined : VolumeId.parse(options.clone);
    if (remote) this.#requireRemote('open a database from a remote volume');
    const shared = options.shared === true ? SharedName.parse(tag) : undefined;
    if (shared && remote) throw invalidInput('Open a database with { shared } or with { clone }, not both.');
    if (shared) this.#requireRemote('open a shared database');
    const cloned = await this.#locks.run(tag, async () => {
      if (shared) return openShared(this.runtime, tag, shared, options);
      const existing = this.runtime.tagGet(tag);
      if (existing) {
        const graft = this.runtime.mustGetGraft(existing);
        if (remote && graft.remote !== remote) {
          throw new ScionError('GraftRemoteMismatch', `Database "${tag}" exists on remote volume ${graft.remote}, not ${remote}. Open it without { clone }, or clone under another name.`, {
            name: tag, expected: remote, actual: graft.remote,
          });
        }
        return undefined;
      }
      if (options.create === false) throw new ScionError('TagNotFound', `No database named "${tag}". Open it with { create: true } to create it.`, { tag });
      if (remote) return this.runtime.graftClone(remote, { tag });
      await this.runtime.tagOpen(tag);
      return undefined;
    });
    if (cloned) await this.#prefetchHotFrames(cloned);
    const db = this.#sql(() => openScionDb(this.sqlite3, this.vfs, tag));
    const info = this.#register(tag, db, undefined);
    this.mustGetConnection(info.handle).busyTimeoutMs = busyTimeoutMs;
    return info;
  }

  close(handle: number): void {
    const conn = this.#connections.get(handle);
    if (!conn) return;
    this.#connections.delete(handle);
    this.#dropStatements(conn);
    conn.db.close();
    this.#writers.pump(conn.name);
  }

  /** Handles of the open connections on `name`. */
  handlesOf(name: string): number[] {
    return [...this.#connections.values()].filter((c) => c.name === name).map((c) => c.handle);
  }

  mustGetConnection(handle: number): Connection {
    const conn = this.#connections.get(handle);
    if (!conn) throw new ScionError('Closed', `Database handle ${handle} is closed. Open the database again.`, { handle });
    return conn;
  }

  info(conn: Connection): DatabaseInfo {
    return {
      handle: conn.handle,
      name: conn.name,
      readOnly: conn.checkout !== undefined,
      checkout: conn.checkout && { volume: conn.checkout.volume, lsn: conn.checkout.lsn },
    };
  }

  // ── SQL ─────────────────────────────────────────────────────────────────────────────────

  /** Runs SQL; `options` may stop it (Interrupted) past a deadline or when the client cancels it. */
  async exec(conn: Connection, sql: string, params?: SqlParams, options?: SqlOptions): Promise<ExecResult> {
    const { changes } = await this.#run(conn, sql, params, options);
    return { changes, lastInsertRowid: this.#lastInsertRowid(conn) };
  }

  /** The rows of the last statement that returns columns, as objects. */
  async query(conn: Connection, sql: string, params?: SqlParams, options?: SqlOptions): Promise<Row[]> {
    return rowObjects(await this.#run(conn, sql, params, options));
  }

  /** The same, as arrays with the column names and declared types, and what the call changed. */
  async queryRows(conn: Connection, sql: string, params?: SqlParams, options?: SqlOptions): Promise<QueryResult> {
    const { columns, declaredTypes, rows, changes } = await this.#run(conn, sql, params, options);
    return { columns, declaredTypes, rows, changes, lastInsertRowid: this.#lastInsertRowid(conn) };
  }

  #lastInsertRowid(conn: Connection): number | bigint {
    const id = this.sqlite3.capi.sqlite3_last_insert_rowid(conn.db) as number | bigint;
    return typeof id === 'bigint' && id <= BigInt(Number.MAX_SAFE_INTEGER) && id >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(id) : id;
  }

  /** Prepares `sql` (one statement) and keeps it on the connection; later calls with the same text reuse it. */
  async prepare(conn: Connection, sql: string): Promise<StatementInfo> {
    return this.#locks.run(conn.name, () => this.#sql(() => statementInfo(this.sqlite3, conn.db, conn.statements, sql)));
  }

  /** The tables (lower case) the one statement `sql` reads, for live queries. */
  async readTables(conn: Connection, sql: string): Promise<string[]> {
    return this.#locks.run(conn.name, () => this.#sql(() => tablesRead(this.sqlite3, conn.db, sql)));
  }

  /** Finalizes the statement kept for `sql` (nothing if none is). */
  finalize(conn: Connection, sql: string): void {
    conn.statements.drop(sql);
  }

  /** Starts iterating a read-only statement: its first `batch` rows, and a cursor for the rest. */
  async iterate(conn: Connection, sql: string, params: SqlParams | undefined, batch: number, options?: SqlOptions): Promise<CursorStart> {
    const size = batchSize(batch);
    return this.#locks.run(conn.name, () => this.#limited(conn, options, () => {
      const cursor = new Cursor(this.sqlite3, conn.db, sql, normalizeParams(sql, params));
      const rows = cursor.next(size);
      if (cursor.done) return { ...cursor.set, rows, cursor: undefined };
      const id = crypto.randomUUID();
      conn.cursors.set(id, cursor);
      return { ...cursor.set, rows, cursor: id };
    }));
  }

  /** The next rows of an iteration; `done` once it has no more (the cursor is then closed). */
  async cursorNext(conn: Connection, id: string, batch: number, options?: SqlOptions): Promise<{ rows: SqlValue[][]; done: boolean }> {
    const size = batchSize(batch);
    return this.#locks.run(conn.name, () => {
      const cursor = conn.cursors.get(id);
      if (!cursor) throw new ScionError('Closed', 'This iteration has ended (its database closed, or the tab holding the worker changed). Iterate again.', { cursor: id });
      try {
        const rows = this.#limited(conn, options, () => cursor.next(size));
        return { rows, done: cursor.done };
      } finally {
        if (cursor.done) conn.cursors.delete(id);
      }
    });
  }

  /** Ends an iteration early, releasing its read transaction. */
  cursorClose(conn: Connection, id: string): void {
    conn.cursors.get(id)?.close();
    conn.cursors.delete(id);
  }

  async #run(conn: Connection, sql: string, params: SqlParams | undefined, options: SqlOptions | undefined): Promise<ScriptResult> {
    // A write outside a transaction waits while another connection writes; inside one, it holds the lock
    // already, or (a deferred transaction) it would wait on the transaction it started from.
    const waits = !conn.checkout && this.#txnState(conn) === 0 && mayWrite(sql);
    if (classifySql(sql).kind === 'begin' && this.sqlite3.capi.sqlite3_get_autocommit(conn.db) === 0) {
      throw new ScionError('InvalidInput', `A transaction is already open on this connection of "${conn.name}": commit or roll it back before BEGIN.`, {
        sqlite: 'SQLITE_ERROR', transactionOpen: true,
      });
    }
    const endTurn = waits ? await this.#writers.turn(conn.name, conn.handle, conn.busyTimeoutMs) : undefined;
    try {
      return await this.#locks.run(conn.name, () => this.#limited(conn, options, () =>
        runScript(this.sqlite3, conn.db, conn.statements, sql, normalizeParams(sql, params), { limit: options?.maxRows })));
    } finally {
      endTurn?.();
      this.#writers.pump(conn.name);
    }
  }

  // ── Graft operations ────────────────────────────────────────────────────────────────────

  status(conn: Connection): DatabaseStatus {
    const vid = this.runtime.mustGetTag(conn.name);
    return { name: conn.name, ...this.runtime.graftStatus(vid), pageCount: this.runtime.graftSnapshot(vid).pageCount, hasRemote: this.hasRemote };
  }

  async push(conn: Connection, op: OperationContext = NO_OPERATION): Promise<PushResult> {
    this.#requireRemote('push');
    return this.runtime.graftPush(this.runtime.mustGetTag(conn.name), { signal: op.signal, onProgress: op.progress });
  }

  /** Fetches, then fast-forwards under the database's lock; refused while a write transaction is open on it. */
  async pull(conn: Connection, op: OperationContext = NO_OPERATION): Promise<PullResult> {
    this.#requireRemote('pull');
    // The network part first, outside the lock: SQL keeps running meanwhile.
    await this.#fetchLog(conn, op);
    return this.#locks.run(conn.name, async () => {
      op.signal?.throwIfAborted();
      if (this.isWriting(conn.name)) {
        throw new ScionError('ConcurrentWrite', `A write transaction is open on "${conn.name}": pull after it commits or rolls back.`, { name: conn.name });
      }
      const vid = this.runtime.mustGetTag(conn.name);
      const result = await this.runtime.graftPull(vid, op.signal ? { signal: op.signal } : {});
      if (result.outcome === 'pulled') this.#emit({ name: conn.name, reason: 'pull', graft: vid, lsn: result.to });
      return result;
    });
  }

  async fetch(conn: Connection, op: OperationContext = NO_OPERATION): Promise<FetchResult> {
    this.#requireRemote('fetch');
    return { remoteLatest: await this.#fetchLog(conn, op) };
  }

  /** The remote's new commit records, reported as one `fetch-log` step (records fetched). */
  async #fetchLog(conn: Connection, op: OperationContext): Promise<number | undefined> {
    const vid = this.runtime.mustGetTag(conn.name);
    const before = this.runtime.graftStatus(vid).remoteLatest ?? 0;
    op.progress({ phase: 'fetch-log', done: 0, total: undefined, bytes: 0 });
    const latest = await this.runtime.graftFetch(vid, op.signal ? { signal: op.signal } : {});
    const fetched = Math.max(0, (latest ?? 0) - before);
    op.progress({ phase: 'fetch-log', done: fetched, total: fetched, bytes: 0 });
    return latest;
  }

  async hydrate(conn: Connection, op: OperationContext = NO_OPERATION): Promise<HydrateProgress> {
    this.#requireRemote('hydrate');
    const snapshot = conn.checkout?.snapshot ?? this.runtime.graftSnapshot(this.runtime.mustGetTag(conn.name));
    return this.#download(snapshot, op);
  }

  /** Fetches the snapshot's frames not held locally, reported as `download` steps (frames). */
  #download(snapshot: Snapshot, op: OperationContext): Promise<HydrateProgress> {
    op.progress({ phase: 'download', done: 0, total: undefined, bytes: 0 });
    return this.runtime.snapshotHydrate(snapshot, {
      ...(op.signal ? { signal: op.signal } : {}),
      onProgress: (p) => op.progress({ phase: 'download', done: p.framesDone, total: p.framesTotal, bytes: p.bytes }),
    });
  }

  /**
   * Forks the latest snapshot into a new graft (a new remote volume, nothing pushed yet). With `name`,
   * that new database gets the name; without, this database's name moves to the fork (the way out of
   * divergence that keeps local changes). The old graft stays.
   */
  async fork(conn: Connection, options: { name?: string } = {}): Promise<{ name: string; graft: string; remote: string; previous: string }> {
    const target = options.name === undefined ? conn.name : Tag.parse(options.name);
    return this.#locks.run(conn.name, async () => {
      this.#refuseOpenTransactions(conn.name, 'fork');
      if (target !== conn.name && this.runtime.tagGet(target)) {
        throw new ScionError('InvalidInput', `A database named "${target}" exists already. Fork under a new name.`, { name: target });
      }
      const previous = this.runtime.mustGetTag(conn.name);
      const fork = await this.runtime.graftFork(this.runtime.graftSnapshot(previous));
      await this.runtime.tagReplace(target, fork.local);
      if (target === conn.name) this.#emit({ name: conn.name, reason: 'graft', graft: fork.local });
      return { name: target, graft: fork.local, remote: fork.remote, previous };
    });
  }

  /**
   * Points this database at a new graft cloned from `remote` (default: its current remote, which
   * discards unpushed local changes — the way out of divergence). Only commit records and the hot
   * frames are fetched; the rest arrives on read. The old graft stays.
   */
  async clone(conn: Connection, remote?: string, op: OperationContext = NO_OPERATION): Promise<DatabaseStatus> {
    this.#requireRemote('clone');
    const vid = remote === undefined ? undefined : VolumeId.parse(remote);
    const graft = await this.#locks.run(conn.name, async () => {
      this.#refuseOpenTransactions(conn.name, 'clone');
      op.progress({ phase: 'fetch-log', done: 0, total: undefined, bytes: 0 });
      // The signal covers the fetch of commit records; once the name moved to the new graft, the clone is done.
      const signal = op.signal ? { signal: op.signal } : {};
      const g = vid ? await this.runtime.graftClone(vid, { tag: conn.name, ...signal }) : await this.runtime.graftReset(this.runtime.mustGetTag(conn.name), signal);
      this.#emit({ name: conn.name, reason: 'graft', graft: g.local });
      return g;
    });
    await this.#prefetchHotFrames(graft);
    return this.status(conn);
  }

  /**
   * Moves this database to a new remote volume (`remote`, default a new id): pages not held locally are
   * fetched from the old remote while it still answers, the latest snapshot is forked and pushed to the
   * new remote, and the name moves to that graft. The way out when the old remote volume is damaged or
   * gone. The old graft stays. Throws PageNotLocal if pages never fetched cannot be read any more.
   */
  async moveToNewRemote(conn: Connection, remote?: string): Promise<DatabaseStatus> {
    this.#requireRemote('move to a new remote');
    const vid = remote === undefined ? undefined : VolumeId.parse(remote);
    await this.#locks.run(conn.name, async () => {
      this.#refuseOpenTransactions(conn.name, 'move to a new remote');
      const g = await this.runtime.graftSwitchRemote(this.runtime.mustGetTag(conn.name), { remote: vid });
      this.#emit({ name: conn.name, reason: 'graft', graft: g.local });
    });
    return this.status(conn);
  }

  /** A new read-only connection on `name` as of `lsn` (see checkoutSnapshot). */
  checkout(conn: Connection, lsn: number, volume: CheckoutVolume = 'local'): DatabaseInfo {
    const pin = this.checkoutSnapshot(conn.name, lsn, volume);
    const db = this.#sql(() => openScionDb(this.sqlite3, this.vfs, conn.name, { snapshot: pin.snapshot }));
    return this.#register(conn.name, db, pin);
  }

  /** Re-opens `conn` pinned to a past snapshot, or (lsn undefined) back on the latest. */
  async pin(conn: Connection, at: { lsn: number; volume: CheckoutVolume } | undefined): Promise<void> {
    await this.#locks.run(conn.name, () => {
      if (this.#txnState(conn) !== 0) throw new ScionError('InvalidInput', 'Finish the open transaction before graft_checkout.');
      const pin = at && this.checkoutSnapshot(conn.name, at.lsn, at.volume);
      const db = this.#sql(() => openScionDb(this.sqlite3, this.vfs, conn.name, pin ? { snapshot: pin.snapshot } : {}));
      this.#dropStatements(conn);
      conn.db.close();
      conn.db = db;
      conn.statements = new StatementCache(db);
      this.#watch(conn);
      conn.checkout = pin;
    });
  }

  /**
   * The snapshot of `name` at `lsn`. `remote`: the remote log's LSN (the same on every device).
   * `local`: the graft's own log — exact only where the graft knows the base a commit was made on: a
   * graft never synced (its log is all there is), or a commit not pushed yet (on top of the remote at
   * the sync point). A pushed local commit lives on in the remote log: InvalidInput names the way there.
   * Throws CommitNotFound.
   */
  checkoutSnapshot(name: string, lsn: number, volume: CheckoutVolume): { volume: CheckoutVolume; lsn: LSN; snapshot: Snapshot } {
    const at = LSN.parse(lsn);
    const graft = this.runtime.mustGetGraft(this.runtime.mustGetTag(name));
    if (volume === 'remote') return { volume, lsn: at, snapshot: this.runtime.volumeCheckout(graft.remote, at) };
    if (volume !== 'local') throw new ScionError('InvalidInput', `checkout volume must be "local" or "remote", not ${JSON.stringify(volume)}.`);
    const own = this.runtime.volumeCheckout(graft.local, at);
    if (!graft.sync) return { volume, lsn: at, snapshot: own };
    if (!Graft.unpushed(graft, at)) {
      throw new ScionError('InvalidInput', `Local LSN ${at} of "${name}" has been pushed; its state is in the remote log. Check out a remote LSN instead (remote is at ${graft.sync.remote}).`, {
        name, lsn: at, remoteLsn: graft.sync.remote,
      });
    }
    return { volume, lsn: at, snapshot: { pageCount: own.pageCount, path: Graft.path(graft, at) } };
  }

  /** Replaces the database's content with a plain SQLite file, as one local commit (streamed: see import-file.ts). */
  async importFile(conn: Connection, file: ImportFile, op: OperationContext = NO_OPERATION): Promise<ImportResult> {
    if (conn.checkout) throw new ScionError('InvalidInput', 'This database is a read-only checkout; import into the database itself.');
    return this.#locks.run(conn.name, async () => {
      this.#refuseOpenTransactions(conn.name, 'import');
      // Staged in steps so messages (an abort among them) get in between; SQL on it waits for this lock;
      // nothing commits before the check of the last step passed.
      return importSqliteFile(this, this.runtime.mustGetTag(conn.name), file, {
        between: async (done, total) => {
          op.progress({ phase: 'write', done, total, bytes: done * 4096 });
          await yieldToMessages();
          op.signal?.throwIfAborted();
        },
        isAborted: op.isAborted,
      });
    });
  }

  /** The connection's committed view as a plain SQLite file; with a remote, missing pages are fetched first. */
  async exportFile(conn: Connection, op: OperationContext = NO_OPERATION): Promise<Uint8Array> {
    const snapshot = conn.checkout?.snapshot ?? this.runtime.graftSnapshot(this.runtime.mustGetTag(conn.name));
    if (this.hasRemote && !this.runtime.snapshotMissingPages(snapshot).isEmpty) await this.#download(snapshot, op);
    // Local GC runs between the steps: keep what the snapshot reads.
    const release = this.runtime.retainSnapshot(snapshot);
    try {
      return await readSqliteFileInSteps(this.runtime, snapshot, async (done, total) => {
        op.progress({ phase: 'read', done, total, bytes: done * 4096 });
        await yieldToMessages();
        op.signal?.throwIfAborted();
      });
    } finally {
      release();
    }
  }

  /** Every page of the connection's snapshot (a checkout's own, else the latest) by state; `fetched`: segment ids fetched from the bucket. */
  pageMap(conn: Connection, fetched: ReadonlySet<string>): PageMap {
    const graft = this.runtime.mustGetGraft(this.runtime.mustGetTag(conn.name));
    return buildPageMap(this.runtime, graft, conn.checkout?.snapshot ?? this.runtime.graftSnapshot(graft.local), fetched);
  }

  tags(): TagInfo[] {
    return this.runtime.tagList().map(({ tag, graft }) => {
      const s = this.runtime.graftStatus(graft);
      return { name: tag, graft, remote: s.remote, state: s.state };
    });
  }

  stats(): StatsResult {
    return { vfs: this.vfs.stats(), remote: this.runtime.readStats() };
  }

  /** One autosync round for `name`: pull, then push what is ahead. Skipped (busy) while a write transaction is open. */
  async syncRound(name: string): Promise<SyncRound> {
    const round: SyncRound = { pulled: false, pushed: false, diverged: false, busy: false };
    if (this.isWriting(name)) return { ...round, busy: true };
    await this.runtime.graftFetch(this.runtime.mustGetTag(name));
    const pulled = await this.#locks.run(name, async () => {
      if (this.isWriting(name)) return undefined;
      const vid = this.runtime.mustGetTag(name);
      const result = await this.runtime.graftPull(vid);
      if (result.outcome === 'pulled') this.#emit({ name, reason: 'pull', graft: vid, lsn: result.to });
      return result;
    });
    if (!pulled) return { ...round, busy: true };
    if (pulled.outcome === 'diverged') return { ...round, diverged: true };
    round.pulled = pulled.outcome === 'pulled';
    const vid = this.runtime.mustGetTag(name);
    if (this.runtime.graftStatus(vid).ahead === 0) return round;
    const pushed = await this.runtime.graftPush(vid);
    return { ...round, pushed: pushed.outcome === 'pushed', diverged: pushed.outcome === 'diverged' };
  }

  /** Runs `fn` under the database's lock (SQL and sync steps on `name` wait for it). */
  withLock<T>(name: Tag, fn: () => Promise<T> | T): Promise<T> {
    return this.#locks.run(name, fn);
  }

  /** Tells the change listeners of `e.name` (used by rebase when the name moves to a new graft). */
  announce(e: ChangeEvent): void {
    this.#emit(e);
  }

  requireRemote(op: string): void {
    this.#requireRemote(op);
  }

  /** ConcurrentWrite if a connection on `name` has a transaction open (a reader's snapshot may need the graft about to go). */
  refuseOpenTransactions(name: Tag, op: string): void {
    this.#refuseOpenTransactions(name, op);
  }

  /** Whether a connection on `name` is inside a write transaction. */
  isWriting(name: string): boolean {
    return [...this.#connections.values()].some((c) => c.name === name && this.#txnState(c) === 2);
  }

  closeAll(): void {
    this.#stopCommits();
    for (const handle of [...this.#connections.keys()]) this.close(handle);
  }

  // ── Internals ───────────────────────────────────────────────────────────────────────────

  #register(name: Tag, db: Database, checkout: Connection['checkout']): DatabaseInfo {
    const conn: Connection = {
      handle: this.#nextHandle++, name, db, checkout, limits: new CallLimits(this.#isCancelled), statements: new StatementCache(db), cursors: new Map(),
      written: new WrittenTables(), busyTimeoutMs: DEFAULT_BUSY_TIMEOUT_MS,
    };
    this.#watch(conn);
    this.#connections.set(conn.handle, conn);
    return this.info(conn);
  }

  #dropStatements(conn: Connection): void {
    for (const cursor of conn.cursors.values()) cursor.close();
    conn.cursors.clear();
    conn.statements.clear();
  }

  /** SQLite asks the connection's limits every PROGRESS_STEPS VM steps whether to stop; its hooks note the tables it writes. */
  #watch(conn: Connection): void {
    this.#sql(() => conn.written.watch(this.sqlite3, conn.db));
    this.sqlite3.capi.sqlite3_progress_handler(conn.db.pointer as number, PROGRESS_STEPS, () => (conn.limits.shouldStop() ? 1 : 0), 0);
  }

  /** Runs SQL under the call's limits; a stop becomes Interrupted, saying why. */
  #limited<T>(conn: Connection, options: SqlOptions | undefined, run: () => T): T {
    conn.limits.begin(options);
    let stopped: StopReason | undefined;
    this.#running = conn;
    try {
      return this.#sql(run);
    } catch (e) {
      stopped = conn.limits.end();
      if (stopped && isScionError(e, 'Interrupted')) throw interrupted(stopped, e);
      throw e;
    } finally {
      this.#running = undefined;
      if (!stopped) conn.limits.end();
    }
  }

  #schemaUnchanged(conn: Connection): boolean {
    if (!this.#connections.has(conn.handle)) return false;
    try {
      return this.#sql(() => conn.written.schemaUnchanged(this.sqlite3, conn.db));
    } catch {
      return false;
    }
  }

  #sql<T>(run: () => T): T {
    return this.vfs.run(run);
  }

  /** 0 none, 1 read, 2 write (sqlite3_txn_state). */
  #txnState(conn: Connection): number {
    return this.sqlite3.capi.sqlite3_txn_state(conn.db, 'main');
  }

  #refuseOpenTransactions(name: Tag, op: string): void {
    const open = [...this.#connections.values()].some((c) => c.name === name && this.#txnState(c) !== 0);
    if (open) throw new ScionError('ConcurrentWrite', `A transaction is open on "${name}": ${op} after it commits or rolls back.`, { name });
  }

  #requireRemote(op: string): void {
    if (!this.hasRemote) throw new ScionError('InvalidInput', `Cannot ${op}: this worker has no remote. Pass { remote: { presignUrl, token } } when opening Scion.`);
  }

  /** A cold clone's first request: page 1 and the B-tree interior pages, so point lookups then cost only their leaves. */
  async #prefetchHotFrames(graft: Graft): Promise<void> {
    try {
      await this.runtime.graftHydrate(graft.local, { hotOnly: true });
    } catch (e) {
      // Only a head start: reads fetch what they need anyway.
      logger.warn('could not prefetch the hot frames of {graft}: {message}', { graft: graft.local, message: (e as Error).message });
    }
  }

  #emit(e: ChangeEvent): void {
    try {
      this.#onChange(e);
    } catch (err) {
      logger.error('a change listener failed: {message}', { message: (err as Error).message });
    }
  }
}

/** Rows as objects keyed by column name (a repeated name keeps the last column's value). */
function rowObjects(set: ResultSet): Row[] {
  return set.rows.map((values) => Object.fromEntries(set.columns.map((c, i) => [c, values[i] as SqlValue])));
}

function busyTimeout(ms: number | undefined): number {
  if (ms === undefined) return DEFAULT_BUSY_TIMEOUT_MS;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new ScionError('InvalidInput', `busyTimeoutMs must be a number of milliseconds, 0 or more, not ${String(ms)}.`);
  return ms;
}

function batchSize(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new ScionError('InvalidInput', `An iteration's batch size must be an integer from 1 to 100,000, not ${String(n)}.`);
  return n;
}

function interrupted(why: StopReason, cause: unknown): ScionError {
  const reason = why.kind === 'timeout' ? `it ran past its timeoutMs (${why.ms} ms)` : 'it was cancelled (db.interrupt() or its AbortSignal)';
  return new ScionError('Interrupted', `SQLite stopped the statement: ${reason}. An autocommit statement committed nothing; an open transaction must be rolled back (db.transaction does that).`, {
    reason: why.kind,
  }, { cause });
}
