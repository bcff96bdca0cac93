import type { ErrorWire } from '../core/index.ts';
import type {
  AutosyncOptions, ChangeEvent, CursorStart, DatabaseInfo, DatabaseStatus, ExecResult, FetchResult, HydrateProgress, ImportFile, ImportResult, JobOptions, NetworkEvent, OpenOptions, PageMap,
  Progress, PullResult, PushResult, QueryResult, RebaseBase, RebaseStart, Row, SqlOptions, SqlParams, SqlValue, StatementInfo, StatsResult, SyncStatusEvent, TagInfo, Wire,
  WorkerConfig, WorkerInfo,
} from './types.ts';

/** A function passed from the client: through comlink it is a proxy whose calls return promises. */
export type Listener<E> = (e: E) => unknown;

/** Which volume a checkout reads: the graft's local commits, or the remote's. */
export type CheckoutVolume = 'local' | 'remote';

export interface DeleteResult {
  /** Grafts deleted (with their local volumes' commits and pages). */
  grafts: number;
}

/** What worker/entry.ts posts when the worker's modules fail to load. */
export interface WorkerLoadFailed {
  scionWorkerLoadFailed: {
    /** The URL of the entry script that failed to load its modules. */
    url: string;
    /** The error's name and message, e.g. SyntaxError: … does not provide an export named 'default'. */
    name: string;
    message: string;
  };
}

/**
 * The DB worker's API: worker/api.ts implements it, src/client calls it through comlink. Every method
 * answers with a Wire envelope (structured clone keeps `code` and `details`, which comlink's error path
 * would drop). Database calls name the connection by the handle `open` returned.
 */
export interface ScionWorkerApi {
  /** Boots SQLite, opens the stores (and the remote), registers the VFS. Once per worker. */
  init(config?: WorkerConfig): Promise<Wire<WorkerInfo>>;

  open(name: string, options?: OpenOptions): Promise<Wire<DatabaseInfo>>;
  close(handle: number): Promise<Wire<void>>;
  /** Runs SQL (several statements allowed); a `PRAGMA graft_*` must be the only statement. */
  exec(handle: number, sql: string, params?: SqlParams, options?: SqlOptions): Promise<Wire<ExecResult>>;
  /**
   * Runs SQL and returns the rows of its last statement that returns columns: as objects, or with
   * `options.rowMode` "array" as a ResultSet (column names, declared types, array rows).
   */
  query(handle: number, sql: string, params?: SqlParams, options?: SqlOptions): Promise<Wire<Row[] | QueryResult>>;
  /** Prepares one statement on the connection (kept until finalize or close); exec/query with the same text reuse it. */
  prepare(handle: number, sql: string): Promise<Wire<StatementInfo>>;
  /** The tables one statement reads (live queries re-run when a commit changes one of them). */
  readTables(handle: number, sql: string): Promise<Wire<string[]>>;
  finalize(handle: number, sql: string): Promise<Wire<void>>;
  /** Starts iterating a read-only statement in batches of `batch` rows. */
  iterate(handle: number, sql: string, params: SqlParams | undefined, batch: number, options?: SqlOptions): Promise<Wire<CursorStart>>;
  cursorNext(handle: number, cursor: string, batch: number, options?: SqlOptions): Promise<Wire<{ rows: SqlValue[][]; done: boolean }>>;
  cursorClose(handle: number, cursor: string): Promise<Wire<void>>;

  status(handle: number): Promise<Wire<DatabaseStatus>>;
  // Long operations: `job` names one for abortJob; `onProgress` hears its Progress events.
  push(handle: number, job?: JobOptions, onProgress?: Listener<Progress>): Promise<Wire<PushResult>>;
  pull(handle: number, job?: JobOptions, onProgress?: Listener<Progress>): Promise<Wire<PullResult>>;
  fetch(handle: number, job?: JobOptions, onProgress?: Listener<Progress>): Promise<Wire<FetchResult>>;
  hydrate(handle: number, job?: JobOptions, onProgress?: Listener<Progress>): Promise<Wire<HydrateProgress>>;
  /** Aborts the long operation named `job` (one not started yet starts aborted). */
  abortJob(job: string): Promise<Wire<void>>;
  fork(handle: number, options?: { name?: string }): Promise<Wire<{ name: string; graft: string; remote: string; previous: string }>>;
  clone(handle: number, remote?: string, job?: JobOptions, onProgress?: Listener<Progress>): Promise<Wire<DatabaseStatus>>;
  moveToNewRemote(handle: number, remote?: string): Promise<Wire<DatabaseStatus>>;
  checkout(handle: number, lsn: number, volume?: CheckoutVolume): Promise<Wire<DatabaseInfo>>;
  importFile(handle: number, file: ImportFile, job?: JobOptions, onProgress?: Listener<Progress>): Promise<Wire<ImportResult>>;
  exportFile(handle: number, job?: JobOptions, onProgress?: Listener<Progress>): Promise<Wire<Uint8Array>>;

  /** Fetches; if the database diverged, puts a scratch database at the remote head to replay on. */
  rebaseStart(handle: number): Promise<Wire<RebaseStart>>;
  /** Points the database at the replayed scratch graft and pushes it. ConcurrentWrite if it got local commits meanwhile. */
  rebaseFinish(handle: number, base: RebaseBase, counts: { replayed: number; dropped: number }): Promise<Wire<{ graft: string; pushed: boolean }>>;
  /** Discards the scratch database; the database stays diverged, `error` says why. */
  rebaseAbort(handle: number, error?: ErrorWire): Promise<Wire<void>>;

  tags(): Promise<Wire<TagInfo[]>>;
  stats(): Promise<Wire<StatsResult>>;
  /** Deletes a database and its local data. */
  deleteDatabase(name: string): Promise<Wire<DeleteResult>>;
  /** Deletes the grafts no database name points at (left by reset and clone). */
  deleteAbandoned(): Promise<Wire<DeleteResult>>;

  /** Calls `listener` after every change of the handle's database (commit, pull, new graft). Returns the subscription id. */
  subscribe(handle: number, listener: Listener<ChangeEvent>): Promise<Wire<number>>;
  subscribeSyncStatus(handle: number, listener: Listener<SyncStatusEvent>): Promise<Wire<number>>;
  unsubscribe(id: number): Promise<Wire<void>>;
  /** Calls `listener` after every request to the bucket (and every one refused while offline). Returns the subscription id. */
  subscribeNetwork(listener: Listener<NetworkEvent>): Promise<Wire<number>>;
  /**
   * Switches this worker offline (or back): every bucket request fails with RemoteUnavailable before it
   * is sent (reads of unfetched pages fail with PageNotLocal, pushes fail), and autosync pauses as when the
   * browser goes offline. For demos and tests; the real network state still arrives through setOnline.
   */
  setOffline(offline: boolean): Promise<Wire<void>>;
  /** Every page of the handle's snapshot (a checkout's own) by where its bytes are: held, fetched, missing, unpushed. */
  pageMap(handle: number): Promise<Wire<PageMap>>;
  /** Starts (or retunes) autosync for the handle's database, or stops it with `false`. */
  setAutosync(handle: number, options: AutosyncOptions | boolean): Promise<Wire<void>>;
  /** The page's view of the network (window online/offline events), which workers may not see. */
  setOnline(online: boolean): Promise<Wire<void>>;
  /** Closes every connection, stops autosync and closes the stores. */
  shutdown(): Promise<Wire<void>>;
}
