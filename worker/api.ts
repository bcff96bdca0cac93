// The DB worker's implementation of ScionWorkerApi (src/protocol): exposed by comlink in entry.ts,
// called directly in tests.
import { getLogger } from '@logtape/logtape';
import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { releaseProxy, transfer } from 'comlink';
import { ScionError, type ErrorWire } from '../src/core/index.ts';
import { IdbCatalog, MemoryCatalog, MemoryStore, OpfsStore, type Catalog, type LocalStore } from '../src/local/index.ts';
import { S3Remote, type Remote, type RemoteRequestEvent } from '../src/remote/index.ts';
import { Runtime } from '../src/runtime/index.ts';
import { installScionVfs, planSqliteFrames, SCION_VERSION } from '../src/vfs/index.ts';
import { Autosync, SYSTEM_CLOCK, type Clock, type NetworkState } from './autosync.ts';
import { isBlobUrlRevoked, type CancelCheck } from './interrupt.ts';
import { deleteAbandoned, deleteDatabase } from './delete-database.ts';
import { nameDamagedDatabases } from './store-damage.ts';
import { BrowserNetwork } from './network.ts';
import { LongOperations, type OperationContext } from './long-operations.ts';
import { OfflineRemote } from './offline-remote.ts';
import { runPragma } from './pragmas.ts';
import type {
  AutosyncOptions, ChangeEvent, CheckoutVolume, DatabaseInfo, DeleteResult, JobOptions, Listener, LongOperation, Progress, ScionWorkerApi, HydrateProgress, PullResult, PushResult, DatabaseStatus, ExecResult, FetchResult, ImportFile, ImportResult, NetworkEvent, OpenOptions, PageMap, QueryResult, RebaseBase, RebaseStart, ResultSet, Row, SqlParams,
  SqlOptions, SqlValue, StatementInfo, CursorStart, StatsResult, StoreEvent, SyncStatusEvent, TagInfo, Wire, WorkerConfig, WorkerInfo,
} from '../src/protocol/index.ts';
import { failed } from '../src/protocol/index.ts';
import { Rebases } from './rebase.ts';
import { Session, type Connection } from './session.ts';
import { parseGraftPragma } from './sql-text.ts';

const logger = getLogger(['scion', 'worker']);

/** How the worker reaches the platform; tests replace the parts Node lacks (OPFS, IndexedDB, the bucket). */
export interface WorkerDeps {
  /** Boots SQLite: `sqlite3InitModule()` (the browser build in the worker, the Node build in tests). */
  loadSqlite(): Promise<Sqlite3Static>;
  /** Default: OpfsStore + IdbCatalog for `opfs`, MemoryStore + MemoryCatalog for `memory`. */
  openStores?(config: WorkerConfig): Promise<{ store: LocalStore; catalog: Catalog }>;
  /** Default: an S3Remote through the presign service when `config.remote` is given. `onRequest` feeds `subscribeNetwork`. */
  makeRemote?(config: WorkerConfig, onRequest: (e: RemoteRequestEvent) => void): Remote | undefined;
  /** Default: navigator.onLine and the online/offline events, plus what `setOnline` reports. */
  network?: NetworkState & { set?(online: boolean): void };
  clock?: Clock;
  /** The VFS name to register; default "scion" (or "scion-2", … if taken in this SQLite instance). */
  vfsName?: string;
  /** How a cancelled call is recognised; default: its blob: URL was revoked (worker/interrupt.ts). */
  isCancelled?: CancelCheck;
}

interface Subscription<E> {
  readonly handle: number;
  readonly listener: Listener<E>;
}

export class WorkerApi implements ScionWorkerApi {
  readonly #deps: WorkerDeps;
  #session: Session | undefined;
  #rebases: Rebases | undefined;
  #config: WorkerConfig = {};
  #network: (NetworkState & { set?(online: boolean): void }) | undefined;
  readonly #changeSubs = new Map<number, Subscription<ChangeEvent>>();
  readonly #syncSubs = new Map<number, Subscription<SyncStatusEvent>>();
  /** Worker-wide (handle 0): every request to the bucket. */
  readonly #networkSubs = new Map<number, Subscription<NetworkEvent>>();
  /** Keys of the objects frames were fetched from since init: their held pages are "cached" in page maps. */
  readonly #fetchedSegments = new Set<string>();
  #remote: OfflineRemote | undefined;
  /** One autosync loop per database name, kept while any handle on it wants it. */
  readonly #autosyncs = new Map<string, { loop: Autosync; handles: Map<number, AutosyncOptions> }>();
  #nextSub = 1;
  readonly #operations = new LongOperations((token) => (this.#deps.isCancelled ?? isBlobUrlRevoked)(token));
  #sqlite: Promise<Sqlite3Static> | undefined;

  constructor(deps: WorkerDeps) {
    this.#deps = deps;
  }

  /** Boots SQLite, opens the stores (and the remote), registers the VFS. Once per worker. */
  async init(config: WorkerConfig = {}): Promise<Wire<WorkerInfo>> {
    return wire(async () => {
      if (this.#session) throw new ScionError('InvalidInput', 'This worker is initialized already; start another worker for another configuration.');
      const storage = config.storage ?? 'opfs';
      if (storage !== 'opfs' && storage !== 'memory') throw new ScionError('InvalidInput', `storage must be "opfs" or "memory", not ${JSON.stringify(storage)}.`);
      // Kept across attempts: a new leader tab retries init while the old worker's OPFS handle is released.
      this.#sqlite ??= this.#deps.loadSqlite();
      const loaded = this.#sqlite.catch((e: unknown) => {
        this.#sqlite = undefined;
        throw e;
      });
      const storeEvents: StoreEvent[] = [];
      // The stores open while the wasm instantiates: neither waits for the other.
      const opened = (this.#deps.openStores ?? ((c: WorkerConfig) => defaultStores(c, storeEvents)))(config);
      const [sqlite3, { store, catalog }] = await bothOrNeither(loaded, opened, () => {}, (s) => {
        s.store.closeSync();
        s.catalog.close();
      });
      const inner = (this.#deps.makeRemote ?? defaultRemote)(config, (e) => this.#onRequest(e, false));
      const remote = inner && new OfflineRemote(inner, (e) => this.#onRequest(e, true));
      this.#remote = remote;
      const runtime = await Runtime.open({ store, catalog, remote, planFrames: planSqliteFrames, autoGc: { everyCommits: 256 } });
      const vfs = installScionVfs(sqlite3, runtime, { name: this.#deps.vfsName ?? freeVfsName(sqlite3) });
      this.#config = { ...config, storage };
      this.#network = this.#deps.network ?? new BrowserNetwork();
      this.#session = new Session({ sqlite3, runtime, vfs, hasRemote: remote !== undefined, isCancelled: this.#deps.isCancelled ?? isBlobUrlRevoked }, (e) => this.#onChange(e));
      this.#rebases = new Rebases(this.#session);
      return { scion: SCION_VERSION, sqlite: sqlite3.version.libVersion, storage, hasRemote: remote !== undefined, storeEvents };
    });
  }

  // ── Connections and SQL ─────────────────────────────────────────────────────────────────

  async open(name: string, options: OpenOptions = {}): Promise<Wire<DatabaseInfo>> {
    return wire(async () => {
      const info = await this.#mustSession().open(name, options);
      const autosync = options.autosync ?? this.#config.autosync;
      if (autosync && this.#mustSession().hasRemote) this.#startAutosync(info.handle, info.name, autosync === true ? {} : autosync);
      return info;
    });
  }

  async close(handle: number): Promise<Wire<void>> {
    return wire(() => {
      const session = this.#mustSession();
      const conn = session.mustGetConnection(handle);
      this.#stopAutosync(handle, conn.name);
      for (const subs of [this.#changeSubs, this.#syncSubs] as Map<number, Subscription<unknown>>[]) {
        for (const [id, sub] of subs) if (sub.handle === handle) this.#drop(subs, id);
      }
      session.close(handle);
    });
  }

  /** Runs SQL (several statements allowed); a `PRAGMA graft_*` must be the only statement. */
  async exec(handle: number, sql: string, params?: SqlParams, options?: SqlOptions): Promise<Wire<ExecResult>> {
    return wire(async () => {
      const session = this.#mustSession();
      const conn = session.mustGetConnection(handle);
      const pragma = parseGraftPragma(mustString(sql));
      if (pragma) {
        await runPragma(session, conn, pragma);
        return { changes: 0, lastInsertRowid: 0 };
      }
      return session.exec(conn, sql, params, options);
    });
  }

  /**
   * Runs SQL and returns the rows of its last statement that returns columns: as objects, or with
   * `options.rowMode` "array" as a ResultSet (column names, declared types, array rows).
   */
  async query(handle: number, sql: string, params?: SqlParams, options?: SqlOptions): Promise<Wire<Row[] | QueryResult>> {
    return wire(async () => {
      const session = this.#mustSession();
      const conn = session.mustGetConnection(handle);
      const rowMode = options?.rowMode ?? 'object';
      if (rowMode !== 'object' && rowMode !== 'array') throw new ScionError('InvalidInput', `rowMode must be "object" or "array", not ${JSON.stringify(rowMode)}.`);
      const pragma = parseGraftPragma(mustString(sql));
      if (pragma) {
        const rows = await runPragma(session, conn, pragma);
        return rowMode === 'array' ? { ...resultSetOf(rows), changes: 0, lastInsertRowid: 0 } : rows;
      }
      return rowMode === 'array' ? session.queryRows(conn, sql, params, options) : session.query(conn, sql, params, options);
    });
  }

  /** Prepares one statement on the connection (kept until finalize or close); exec/query with the same text reuse it. */
  async prepare(handle: number, sql: string): Promise<Wire<StatementInfo>> {
    return this.#withConn(handle, (s, c) => {
      if (parseGraftPragma(mustString(sql))) throw new ScionError('InvalidInput', 'A graft_* pragma cannot be prepared; run it with exec() or query().');
      return s.prepare(c, sql);
    });
  }

  /** The tables one statement reads (live queries re-run when a commit changes one of them). */
  async readTables(handle: number, sql: string): Promise<Wire<string[]>> {
    return this.#withConn(handle, (s, c) => {
      if (parseGraftPragma(mustString(sql))) throw new ScionError('InvalidInput', 'A graft_* pragma cannot be watched; poll it with query().');
      return s.readTables(c, sql);
    });
  }

  async finalize(handle: number, sql: string): Promise<Wire<void>> {
    return this.#withConn(handle, (s, c) => s.finalize(c, mustString(sql)));
  }

  /** Starts iterating a read-only statement in batches of `batch` rows. */
  async iterate(handle: number, sql: string, params: SqlParams | undefined, batch: number, options?: SqlOptions): Promise<Wire<CursorStart>> {
    return this.#withConn(handle, (s, c) => {
      if (parseGraftPragma(mustString(sql))) throw new ScionError('InvalidInput', 'A graft_* pragma cannot be iterated; run it with query().');
      return s.iterate(c, sql, params, batch, options);
    });
  }

  async cursorNext(handle: number, cursor: string, batch: number, options?: SqlOptions): Promise<Wire<{ rows: SqlValue[][]; done: boolean }>> {
    return this.#withConn(handle, (s, c) => s.cursorNext(c, cursor, batch, options));
  }

  async cursorClose(handle: number, cursor: string): Promise<Wire<void>> {
    return this.#withConn(handle, (s, c) => s.cursorClose(c, cursor));
  }

  // ── Graft operations ────────────────────────────────────────────────────────────────────

  async status(handle: number): Promise<Wire<DatabaseStatus>> {
    return this.#withConn(handle, (s, c) => s.status(c));
  }

  // Long operations: `job` names one for abortJob; `onProgress` hears its Progress events.

  async push(handle: number, job?: JobOptions, onProgress?: Listener<Progress>): Promise<Wire<PushResult>> {
    return this.#long(handle, 'push', job, onProgress, (s, c, op) => s.push(c, op));
  }

  async pull(handle: number, job?: JobOptions, onProgress?: Listener<Progress>): Promise<Wire<PullResult>> {
    return this.#long(handle, 'pull', job, onProgress, (s, c, op) => s.pull(c, op));
  }

  async fetch(handle: number, job?: JobOptions, onProgress?: Listener<Progress>): Promise<Wire<FetchResult>> {
    return this.#long(handle, 'fetch', job, onProgress, (s, c, op) => s.fetch(c, op));
  }

  async hydrate(handle: number, job?: JobOptions, onProgress?: Listener<Progress>): Promise<Wire<HydrateProgress>> {
    return this.#long(handle, 'hydrate', job, onProgress, (s, c, op) => s.hydrate(c, op));
  }

  /** Aborts the long operation named `job` (one not started yet starts aborted). */
  async abortJob(job: string): Promise<Wire<void>> {
    return wire(() => this.#operations.abort(mustString(job)));
  }

  async fork(handle: number, options: { name?: string } = {}): Promise<Wire<{ name: string; graft: string; remote: string; previous: string }>> {
    return this.#withConn(handle, (s, c) => s.fork(c, options));
  }

  async clone(handle: number, remote?: string, job?: JobOptions, onProgress?: Listener<Progress>): Promise<Wire<DatabaseStatus>> {
    return this.#long(handle, 'clone', job, onProgress, (s, c, op) => s.clone(c, remote, op));
  }

  async moveToNewRemote(handle: number, remote?: string): Promise<Wire<DatabaseStatus>> {
    return this.#withConn(handle, (s, c) => s.moveToNewRemote(c, remote));
  }

  async checkout(handle: number, lsn: number, volume: CheckoutVolume = 'local'): Promise<Wire<DatabaseInfo>> {
    return this.#withConn(handle, (s, c) => s.checkout(c, lsn, volume));
  }

  async importFile(handle: number, file: ImportFile, job?: JobOptions, onProgress?: Listener<Progress>): Promise<Wire<ImportResult>> {
    return this.#long(handle, 'import', job, onProgress, (s, c, op) => s.importFile(c, file, op));
  }

  async exportFile(handle: number, job?: JobOptions, onProgress?: Listener<Progress>): Promise<Wire<Uint8Array>> {
    const result = await this.#long(handle, 'export', job, onProgress, (s, c, op) => s.exportFile(c, op));
    return result.ok ? transfer(result, [result.value.buffer]) : result;
  }

  // ── Rebase (the client replays; worker/rebase.ts) ─────────────────────────────────────

  /** Fetches; if the database diverged, puts a scratch database at the remote head to replay on. */
  async rebaseStart(handle: number): Promise<Wire<RebaseStart>> {
    return this.#withConn(handle, async (_, c) => {
      const start = await (this.#rebases as Rebases).start(c);
      if (start.needed) this.#syncEvent(c.name, { state: 'rebasing' });
      return start;
    });
  }

  /** Points the database at the replayed scratch graft and pushes it. ConcurrentWrite if it got local commits meanwhile. */
  async rebaseFinish(handle: number, base: RebaseBase, counts: { replayed: number; dropped: number }): Promise<Wire<{ graft: string; pushed: boolean }>> {
    return this.#withConn(handle, async (_, c) => {
      const done = await (this.#rebases as Rebases).finish(c, base);
      this.#syncEvent(c.name, { state: 'rebased', replayed: counts.replayed, dropped: counts.dropped, pushed: done.push?.outcome === 'pushed' });
      return { graft: done.graft, pushed: done.push?.outcome === 'pushed' };
    });
  }

  /** Discards the scratch database; the database stays diverged, `error` says why. */
  async rebaseAbort(handle: number, error?: ErrorWire): Promise<Wire<void>> {
    return this.#withConn(handle, async (_, c) => {
      await (this.#rebases as Rebases).abort(c);
      this.#syncEvent(c.name, { state: 'diverged', ...(error ? { error } : {}) });
    });
  }

  async tags(): Promise<Wire<TagInfo[]>> {
    return wire(() => this.#mustSession().tags());
  }

  async stats(): Promise<Wire<StatsResult>> {
    return wire(() => this.#mustSession().stats());
  }

  /** Deletes a database and its local data (see delete-database.ts). */
  async deleteDatabase(name: string): Promise<Wire<DeleteResult>> {
    return wire(() => deleteDatabase(this.#mustSession(), name));
  }

  /** Deletes the grafts no database name points at (left by reset and clone). */
  async deleteAbandoned(): Promise<Wire<DeleteResult>> {
    return wire(() => deleteAbandoned(this.#mustSession()));
  }

  // ── Events and autosync ─────────────────────────────────────────────────────────────────

  /** Calls `listener` after every change of the handle's database (commit, pull, new graft). Returns the subscription id. */
  async subscribe(handle: number, listener: Listener<ChangeEvent>): Promise<Wire<number>> {
    return this.#withConn(handle, (_, c) => this.#add(this.#changeSubs, c.handle, listener));
  }

  async subscribeSyncStatus(handle: number, listener: Listener<SyncStatusEvent>): Promise<Wire<number>> {
    return this.#withConn(handle, (_, c) => this.#add(this.#syncSubs, c.handle, listener));
  }

  async unsubscribe(id: number): Promise<Wire<void>> {
    return wire(() => {
      this.#drop(this.#changeSubs, id);
      this.#drop(this.#syncSubs, id);
      this.#drop(this.#networkSubs, id);
    });
  }

  /** Calls `listener` after every request to the bucket (and every one refused while offline). Returns the subscription id. */
  async subscribeNetwork(listener: Listener<NetworkEvent>): Promise<Wire<number>> {
    return wire(() => {
      this.#mustSession();
      return this.#add(this.#networkSubs, 0, listener);
    });
  }

  /**
   * Switches this worker offline (or back): every bucket request fails with RemoteUnavailable before it
   * is sent (reads of unfetched pages fail with PageNotLocal, pushes fail), and autosync pauses as when the
   * browser goes offline. For demos and tests; the real network state still arrives through setOnline.
   */
  async setOffline(offline: boolean): Promise<Wire<void>> {
    return wire(() => {
      this.#mustSession();
      if (this.#remote) this.#remote.offline = offline === true;
      this.#network?.set?.(offline !== true);
    });
  }

  /** Every page of the handle's snapshot (a checkout's own) by where its bytes are: held, fetched, missing, unpushed. */
  async pageMap(handle: number): Promise<Wire<PageMap>> {
    const result = await this.#withConn(handle, (s, c) => s.pageMap(c, this.#fetchedSegments));
    return result.ok ? transfer(result, [result.value.states.buffer, result.value.lsns.buffer]) : result;
  }

  /** Starts (or retunes) autosync for the handle's database, or stops it with `false`. */
  async setAutosync(handle: number, options: AutosyncOptions | boolean): Promise<Wire<void>> {
    return this.#withConn(handle, (s, c) => {
      if (options === false) return this.#stopAutosync(handle, c.name);
      if (!s.hasRemote) throw new ScionError('InvalidInput', 'Autosync needs a remote: pass { remote: { presignUrl, token } } when opening Scion.');
      this.#startAutosync(handle, c.name, options === true ? {} : options);
    });
  }

  /** The page's view of the network (window online/offline events), which workers may not see. */
  async setOnline(online: boolean): Promise<Wire<void>> {
    return wire(() => this.#network?.set?.(online));
  }

  /** Closes every connection, stops autosync and closes the stores. */
  async shutdown(): Promise<Wire<void>> {
    return wire(() => {
      for (const { loop } of this.#autosyncs.values()) loop.stop();
      this.#autosyncs.clear();
      for (const subs of [this.#changeSubs, this.#syncSubs, this.#networkSubs] as Map<number, Subscription<unknown>>[]) for (const id of [...subs.keys()]) this.#drop(subs, id);
      this.#session?.closeAll();
      this.#session?.runtime.close();
      this.#session = undefined;
    });
  }

  // ── Internals ───────────────────────────────────────────────────────────────────────────

  #mustSession(): Session {
    if (!this.#session) throw new ScionError('Closed', 'The worker is not initialized (call init first) or was shut down.');
    return this.#session;
  }

  #withConn<T>(handle: number, fn: (session: Session, conn: Connection) => T | Promise<T>): Promise<Wire<T>> {
    return wire(() => {
      const session = this.#mustSession();
      return fn(session, session.mustGetConnection(handle));
    });
  }

  #long<T>(handle: number, operation: LongOperation, job: JobOptions | undefined, onProgress: Listener<Progress> | undefined, fn: (session: Session, conn: Connection, op: OperationContext) => Promise<T>): Promise<Wire<T>> {
    const report = typeof onProgress === 'function' ? onProgress : undefined;
    return this.#withConn(handle, (s, c) => this.#operations.run(operation, job, report, (op) => fn(s, c, op)));
  }

  #add<E>(subs: Map<number, Subscription<E>>, handle: number, listener: Listener<E>): number {
    if (typeof listener !== 'function') throw new ScionError('InvalidInput', 'The listener must be a function (through comlink: wrapped in Comlink.proxy).');
    const id = this.#nextSub++;
    subs.set(id, { handle, listener });
    return id;
  }

  #drop<E>(subs: Map<number, Subscription<E>>, id: number): void {
    const sub = subs.get(id);
    if (!sub) return;
    subs.delete(id);
    (sub.listener as { [releaseProxy]?: () => void })[releaseProxy]?.();
  }

  #onChange(e: ChangeEvent): void {
    if (e.reason === 'commit') this.#autosyncs.get(e.name)?.loop.poke();
    this.#fanOut(this.#changeSubs, e.name, e);
  }

  #onRequest(e: RemoteRequestEvent, offline: boolean): void {
    const key = e.key;
    // Frames are read from segment objects (volumes/{vid}/segments/{sid}, format 1's segments/{sid}) or,
    // ranged (206), from the commit object that carries them inline.
    const frames = /(?:^|\/)segments\/([0-9a-z]+)$/.test(key) || e.status === 206;
    if (e.method === 'GET' && (e.status === 200 || e.status === 206) && frames) this.#fetchedSegments.add(key);
    if (this.#networkSubs.size === 0) return;
    const event: NetworkEvent = { method: e.method, key, status: e.status, bytes: e.bytes, ms: e.ms, sync: e.sync, offline, at: Date.now() };
    for (const sub of this.#networkSubs.values()) call(sub.listener, event);
  }

  #fanOut<E>(subs: Map<number, Subscription<E>>, name: string, e: E): void {
    const handles = new Set(this.#session?.handlesOf(name) ?? []);
    for (const sub of subs.values()) if (handles.has(sub.handle)) call(sub.listener, e);
  }

  #syncEvent(name: string, e: Omit<SyncStatusEvent, 'name' | 'at' | 'failures'>): void {
    this.#fanOut(this.#syncSubs, name, { name, at: (this.#deps.clock ?? SYSTEM_CLOCK).now(), failures: 0, ...e });
  }

  #startAutosync(handle: number, name: string, options: AutosyncOptions): void {
    const existing = this.#autosyncs.get(name);
    if (existing) {
      existing.handles.set(handle, options);
      existing.loop.update(options);
      return;
    }
    const session = this.#mustSession();
    const loop = new Autosync(name, options, {
      sync: () => session.syncRound(name),
      network: this.#network as NetworkState,
      ...(this.#deps.clock ? { clock: this.#deps.clock } : {}),
      emit: (e) => this.#fanOut(this.#syncSubs, name, e),
    });
    this.#autosyncs.set(name, { loop, handles: new Map([[handle, options]]) });
    loop.start();
  }

  #stopAutosync(handle: number, name: string): void {
    const entry = this.#autosyncs.get(name);
    if (!entry?.handles.delete(handle)) return;
    if (entry.handles.size > 0) return entry.loop.update([...entry.handles.values()].at(-1) as AutosyncOptions);
    // Tell the handle's listeners before they are dropped.
    entry.loop.stop();
    this.#autosyncs.delete(name);
  }
}

/** Runs `fn` and answers with its value, or with the error as data. */
export async function wire<T>(fn: () => T | Promise<T>): Promise<Wire<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    const err = ScionError.from(e);
    if (err.code === 'Internal') logger.error('{message}', { message: err.message, stack: (e as Error)?.stack });
    return failed(err);
  }
}

/** Calls a listener (maybe a comlink proxy) without letting its failure reach the caller. */
function call<E>(listener: Listener<E>, e: E): void {
  try {
    const r = listener(e) as Promise<unknown> | undefined;
    if (r && typeof r.then === 'function') r.then(undefined, (err: unknown) => logger.warn('a listener failed: {message}', { message: String(err) }));
  } catch (err) {
    logger.warn('a listener failed: {message}', { message: String(err) });
  }
}

function mustString(sql: unknown): string {
  if (typeof sql !== 'string') throw new ScionError('InvalidInput', `SQL must be a string, not ${typeof sql}.`);
  return sql;
}

/** Awaits both at once; if either fails, what the other opened is closed again (an OPFS handle must not leak). */
async function bothOrNeither<A, B>(a: Promise<A>, b: Promise<B>, closeA: (a: A) => void, closeB: (b: B) => void): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'fulfilled' && rb.status === 'fulfilled') return [ra.value, rb.value];
  if (ra.status === 'fulfilled') closeA(ra.value);
  if (rb.status === 'fulfilled') closeB(rb.value);
  throw ra.status === 'rejected' ? ra.reason : (rb as PromiseRejectedResult).reason;
}

async function defaultStores(config: WorkerConfig, events: StoreEvent[]): Promise<{ store: LocalStore; catalog: Catalog }> {
  if (config.storage === 'memory') return { store: MemoryStore.open(), catalog: new MemoryCatalog() };
  const directory = config.directory ?? 'scion';
  // The catalog (IndexedDB) opens beside the store (OPFS).
  const catalog = IdbCatalog.open(directory);
  const store = OpfsStore.open({
    directory,
    salvage: config.salvage === true,
    onTailDropped: ({ bytes, reason }) => events.push({ kind: 'torn-tail-dropped', bytes, reason }),
    onSalvaged: (info) => {
      events.push({ kind: 'salvaged', ...info });
      logger.warn('the local store was salvaged: {reason} ({journalBytesLost} journal bytes, {pagesLost} pages lost)', { ...info });
    },
  }).catch(async (e: unknown) => {
    throw await nameDamagedDatabases(e, () => catalog);
  });
  const [opened, idb] = await bothOrNeither(store, catalog, (s) => s.closeSync(), (c) => c.close());
  return { store: opened, catalog: idb };
}

function defaultRemote(config: WorkerConfig, onRequest: (e: RemoteRequestEvent) => void): Remote | undefined {
  if (!config.remote) return undefined;
  const { presignUrl, token } = config.remote;
  if (typeof presignUrl !== 'string' || !/^https?:\/\//.test(presignUrl)) {
    throw new ScionError('InvalidInput', `remote.presignUrl must be an http(s) URL (the client resolves a relative one against the page), not ${JSON.stringify(presignUrl)}.`);
  }
  return new S3Remote({ presign: { endpoint: presignUrl, token }, onRequest });
}

/** "scion", or the first "scion-N" not registered yet in this SQLite instance (tests run several workers in one). */
/** A pragma's object rows as a result set (its columns: the first row's keys). */
function resultSetOf(rows: Row[]): ResultSet {
  const columns = Object.keys(rows[0] ?? {});
  return { columns, declaredTypes: columns.map(() => null), rows: rows.map((r) => columns.map((c) => r[c] ?? null)) };
}

function freeVfsName(sqlite3: Sqlite3Static): string {
  let name = 'scion';
  for (let n = 2; sqlite3.capi.sqlite3_vfs_find(name); n++) name = `scion-${n}`;
  return name;
}
