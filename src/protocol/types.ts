// The worker ↔ client protocol: plain, structured-clone-safe data. src/client imports these as types only.
import type { ErrorWire, LSN, VolumeId } from '../core/index.ts';

/** Every worker answer: a value, or the error as data (comlink's own error path drops `code` and `details`). */
export type Wire<T> = { ok: true; value: T } | { ok: false; error: ErrorWire };

/** Sent once, in `init`, before any database is opened. */
export interface WorkerConfig {
  /** `opfs` (default): pages in OPFS, catalog in IndexedDB, durable. `memory`: gone when the worker ends. */
  storage?: 'opfs' | 'memory';
  /** OPFS directory and IndexedDB catalog name. Default "scion". One worker per directory (OPFS handles are exclusive). */
  directory?: string;
  /** The bucket, through the presign service. Without it the databases are local-only. */
  remote?: { presignUrl: string; token: string };
  /** Default autosync for every database opened with a remote (off unless given). */
  autosync?: AutosyncOptions | boolean;
  /**
   * Open a damaged local store by keeping its intact part (commits after the damage are lost; what
   * was pushed can be pulled again). Without it a damaged store fails init with Corrupt.
   */
  salvage?: boolean;
}

/** What the local store reported while it opened. Torn tails are writes never acknowledged: nothing was lost. */
export type StoreEvent =
  | { kind: 'torn-tail-dropped'; bytes: number; reason: string }
  | { kind: 'salvaged'; reason: string; journalBytesLost: number; pagesLost: number };

export interface WorkerInfo {
  /** Scion's version. */
  scion: string;
  /** SQLite's library version, e.g. "3.54.1". */
  sqlite: string;
  storage: 'opfs' | 'memory';
  hasRemote: boolean;
  /** What the local store reported while opening (empty when it was closed cleanly). */
  storeEvents: StoreEvent[];
}

/** A bound parameter value. Booleans bind as 0/1, undefined as NULL. */
export type SqlParam = string | number | bigint | boolean | null | undefined | Uint8Array;
/** Positional (`?`, `?1`) as an array, or named (`:name`, `@name`, `$name`) as an object; keys may omit the prefix. */
export type SqlParams = readonly SqlParam[] | Readonly<Record<string, SqlParam>>;
/** A value SQLite returns: INTEGER beyond 2^53 arrives as bigint, BLOB as Uint8Array. */
export type SqlValue = string | number | bigint | Uint8Array | null;
/** A result row as an object: column name → value (of columns sharing a name, the last one's value). */
export type Row = Record<string, SqlValue>;

/** A result with its rows as arrays, in column order: nothing is lost when column names repeat. */
export interface ResultSet {
  /** Column names as SQLite gives them (`AS` aliases, else the expression or column name). */
  columns: string[];
  /** Each column's declared type (`INTEGER`, `TEXT`, …) when it is a table column, else null. */
  declaredTypes: (string | null)[];
  rows: SqlValue[][];
}

/** `query(…, { rowMode: 'array' })`: the ResultSet, and what the call changed (as exec reports it). */
export interface QueryResult extends ResultSet, ExecResult {}

/** What `prepare` learns about its statement. */
export interface StatementInfo {
  columns: string[];
  declaredTypes: (string | null)[];
  /** True if it writes nothing (sqlite3_stmt_readonly). */
  readOnly: boolean;
  parameterCount: number;
}

/** The first batch of an iteration; `cursor` names the rest (undefined: there is no more). */
export interface CursorStart extends ResultSet {
  cursor: string | undefined;
}

/** Limits of one exec/query call in the worker. */
export interface SqlOptions {
  /** Most milliseconds SQLite may spend running the call; past it the call fails with Interrupted. */
  timeoutMs?: number | undefined;
  /** A blob: URL the client revokes to cancel the call (see worker/interrupt.ts). */
  cancel?: string | undefined;
  /** `query` only: rows as objects keyed by column name (default), or a ResultSet of arrays. */
  rowMode?: 'object' | 'array' | undefined;
  /** Return at most this many rows of a read-only statement (it stops stepping there). */
  maxRows?: number | undefined;
}

export interface ExecResult {
  /** Rows changed by this call's INSERT/UPDATE/DELETE statements (not by triggers); 0 when it changed none. */
  changes: number;
  /** Rowid of the last insert on this connection. */
  lastInsertRowid: number | bigint;
}

export interface OpenOptions {
  /** Create the database if its name is unknown. Default true. */
  create?: boolean;
  /** A new database is cloned from this remote volume id (used only when the name is new). */
  clone?: string;
  /**
   * The database is the one shared under this name in the bucket (`names/{name}`): a new one clones
   * the volume the name points at, or creates the name for a fresh volume. Not with `clone`.
   */
  shared?: boolean;
  /** Autosync for this database; overrides the worker's default. */
  autosync?: AutosyncOptions | boolean;
  /**
   * How long a write (a BEGIN IMMEDIATE, an autocommit write) on this connection waits for another
   * connection's write transaction to end, in turn behind earlier writers, before failing with
   * ConcurrentWrite having run nothing. Default 5,000 ms; 0 fails at once.
   */
  busyTimeoutMs?: number;
}

export interface DatabaseInfo {
  /** Handle of the connection in the worker; every later call names it. */
  handle: number;
  name: string;
  readOnly: boolean;
  /** For a checkout: the LSN it is pinned to. */
  checkout?: { volume: 'local' | 'remote'; lsn: number } | undefined;
}

/** `status()`: the graft's sync state (JSON-safe) plus the database's size. */
export interface DatabaseStatus extends GraftStatus {
  name: string;
  /** Pages in the latest snapshot (4096 bytes each). */
  pageCount: number;
  hasRemote: boolean;
}

/** Where a graft stands against its remote, as data (JSON-safe). */
export interface GraftStatus {
  readonly local: VolumeId;
  readonly remote: VolumeId;
  /** Newest local LSN, if any local commit exists. */
  readonly localLsn: LSN | undefined;
  /** Local LSNs ≤ this have been pushed. */
  readonly localWatermark: LSN | undefined;
  /** The remote LSN the graft is attached to (its sync point). */
  readonly remoteLsn: LSN | undefined;
  /** Newest remote LSN fetched so far; ≥ remoteLsn. */
  readonly remoteLatest: LSN | undefined;
  /** Local commits not yet pushed. */
  readonly ahead: number;
  /** Fetched remote commits not yet pulled. */
  readonly behind: number;
  readonly state: 'in-sync' | 'ahead' | 'behind' | 'diverged';
  /** A push whose outcome is not yet known; resolved by the next push or pull. */
  readonly pendingPush: { readonly local: LSN; readonly remote: LSN } | undefined;
}

/** How a push ended. Divergence is an outcome, not an error: the caller chooses the way out. */
export type PushResult =
  | { readonly outcome: 'pushed'; readonly remoteLsn: LSN; readonly localLsn: LSN; readonly pages: number; readonly bytes: number }
  | { readonly outcome: 'up-to-date' }
  | { readonly outcome: 'diverged'; readonly ahead: number; readonly behind: number; readonly waysOut: readonly ('reset' | 'fork')[]; readonly message?: string | undefined };

/** How a pull ended; divergence is an outcome, as for a push. */
export type PullResult =
  | { readonly outcome: 'pulled'; readonly from: LSN | undefined; readonly to: LSN }
  | { readonly outcome: 'up-to-date' }
  | { readonly outcome: 'diverged'; readonly ahead: number; readonly behind: number; readonly waysOut: readonly ('reset' | 'fork')[]; readonly message?: string | undefined };

/** A hydration's progress: frames fetched so far of those the snapshot needs. */
export interface HydrateProgress {
  readonly framesDone: number;
  readonly framesTotal: number;
  readonly bytes: number;
}

/** Counters of the remote since the runtime opened, exposed for tests, benchmarks and the demo. */
export interface ReadStats {
  /** Reads the VFS asked for that were not local. */
  pagesMissed: number;
  framesFetched: number;
  pagesFetched: number;
  /** Every byte downloaded from the bucket: frames, commit records, latest hints. */
  bytesFetched: number;
  /** Every byte uploaded: segments, commit records, latest hints. */
  bytesUploaded: number;
  /** Bucket requests made (reads, pushes, pulls, hydration, recovery, GC). */
  requests: number;
}

/** Counters of the VFS since it was installed. */
export interface VfsStats {
  /** xRead calls on database files. */
  readonly xReads: number;
  /** Pages SQLite read from the volume. */
  readonly pagesRead: number;
  /** Of those, pages that were not held locally and were fetched (each one ranged GET). */
  readonly pagesMissed: number;
  /** Pages the read oracle asked to fetch ahead of misses (whole frames are fetched, up to that many pages). */
  readonly readAheadPages: number;
}

export interface FetchResult {
  /** Newest remote LSN known after the fetch (undefined: the remote volume has no commits). */
  remoteLatest: number | undefined;
}

/**
 * A plain SQLite file as the worker takes it. A Blob or File is read a run of pages at a time (a
 * structured clone of a Blob copies no bytes), so the worker never holds the whole file; a
 * Uint8Array or ArrayBuffer arrives whole (copied by postMessage).
 */
export type ImportFile = Uint8Array | ArrayBuffer | Blob;

export interface ImportResult {
  /** Pages written (4096 bytes each). */
  pages: number;
  /** Page size of the file that was imported: anything but 4096 was rewritten to 4096 first. */
  sourcePageSize: number;
  /** Local LSN of the commit that holds the imported content. */
  lsn: number;
}

/** Why a database's content changed. */
export interface ChangeEvent {
  name: string;
  /** `commit`: a local commit (any connection); `pull`: remote commits were pulled; `graft`: the name now points at another graft (clone, reset, fork). */
  reason: 'commit' | 'pull' | 'graft';
  /** The graft (its local volume id) the name points at now. */
  graft: string;
  /** Local LSN for `commit`, remote LSN for `pull`. */
  lsn?: number | undefined;
  /**
   * For `commit`: the tables (lower case) whose rows it changed. Undefined when anything may have changed:
   * a pull, a move to another graft, an import, a schema change.
   */
  tables?: string[] | undefined;
}

export interface AutosyncOptions {
  /** Sync this often while idle. Default 30,000 ms. */
  intervalMs?: number;
  /** Sync this soon after a local commit. Default 1,000 ms. */
  afterCommitMs?: number;
  /** First retry delay after a failure, doubled per failure up to maxBackoffMs. Default 1,000 ms. */
  minBackoffMs?: number;
  /** Default 60,000 ms. */
  maxBackoffMs?: number;
}

export type SyncState = 'idle' | 'syncing' | 'offline' | 'diverged' | 'error' | 'stopped' | 'rebasing' | 'rebased';

/** Autosync's progress, sent to `onSyncStatus` listeners. */
export interface SyncStatusEvent {
  name: string;
  state: SyncState;
  /** Epoch ms of this event. */
  at: number;
  /** When the next attempt is due (epoch ms), if one is scheduled. */
  nextAt?: number | undefined;
  /** Consecutive failures so far (0 after a success). */
  failures: number;
  /** What the last sync did. */
  pulled?: boolean | undefined;
  pushed?: boolean | undefined;
  /** The failure behind `error` (and `offline` when it came from the network); for `diverged` after a rebase stopped, why. */
  error?: ErrorWire | undefined;
  /** `rebased`: pending transactions re-run on the remote head, and those the app's onConflict dropped. */
  replayed?: number | undefined;
  dropped?: number | undefined;
}

/** The database's graft when a rebase started: it finishes only if the graft is still there. */
export interface RebaseBase {
  graft: string;
  localLsn: number;
}

/** What `rebaseStart` found: nothing to do, or a scratch database (by name) at the remote head to replay on. */
export type RebaseStart =
  | { needed: false; state: 'in-sync' | 'ahead' | 'behind' | 'diverged' }
  | {
    needed: true;
    /** The database to replay on, at the remote head (`remoteLsn`). */
    scratch: string;
    base: RebaseBase;
    /** Local commits not pushed: each must carry an intent. */
    ahead: number;
    remoteLsn: number;
    /** The remote LSN the local commits were made on (absent: never synced). Intents there were pushed. */
    syncLsn?: number;
  };

export interface StatsResult {
  vfs: VfsStats;
  remote: ReadStats;
}

/** A row of `tags()` and `PRAGMA graft_tags`. */
export interface TagInfo {
  name: string;
  graft: string;
  remote: string;
  state: GraftStatus['state'];
}

/** One request to the bucket as `scion.onNetwork` reports it (also each call refused while switched offline). */
export interface NetworkEvent {
  method: string;
  /** The object's key in the bucket layout: `volumes/{vid}/log/{lsn}`, `volumes/{vid}/segments/{sid}`, `volumes/{vid}/latest` (format 1: `segments/{sid}`). */
  key: string;
  /** HTTP status; 0 when no answer came (network down, or refused by `setOffline`). */
  status: number;
  /** Body bytes received (GET) or sent (PUT). */
  bytes: number;
  ms: number;
  /** A blocking read: a SQLite page miss fetching its frame with synchronous XHR. */
  sync: boolean;
  /** Refused inside the worker because the device is switched offline; nothing was sent. */
  offline: boolean;
  /** Epoch ms when it ended. */
  at: number;
}

/**
 * Where a page's bytes are. `local`: held, written or pushed here (or fetched before this worker started);
 * `cached`: held, fetched from the bucket by this worker; `missing`: not held, a read fetches its frame
 * (offline: PageNotLocal); `unpushed`: written by a local commit not pushed yet; `empty`: never written (zeros).
 */
export type PageMapState = 'empty' | 'local' | 'cached' | 'missing' | 'unpushed';

/** `db.pageMap()`: every page of the database's snapshot (a checkout's own) by state. */
export interface PageMap {
  /** Pages in the snapshot (4096 bytes each). */
  pageCount: number;
  /** One code per page (index 0 is page 1): an index into `legend`. */
  states: Uint8Array;
  /** LSN of the commit holding each page, 0 for `empty`: a local LSN for `unpushed`, else a remote one. */
  lsns: Uint32Array;
  legend: PageMapState[];
  counts: Record<PageMapState, number>;
}

/**
 * Where a long job is, reported as it goes. `done` and `total` count the phase's own unit: commit
 * records (`fetch-log`), frames (`download`), bytes (`upload`), pages (`read`, `write`); `total` is
 * undefined where it is not known ahead. `bytes`: bytes moved over the network (or written) so far.
 */
export interface JobProgress {
  readonly phase: ProgressPhase;
  readonly done: number;
  readonly total: number | undefined;
  readonly bytes: number;
}

/** `commit`: the remote commit object is being written (a push); `done`: the job finished. */
export type ProgressPhase = 'fetch-log' | 'download' | 'upload' | 'commit' | 'read' | 'write' | 'done';

export type LongOperation = 'push' | 'pull' | 'fetch' | 'hydrate' | 'clone' | 'export' | 'import';

/** What a long operation reports while it runs (see JobProgress for the units of `done` and `total`). */
export interface Progress extends JobProgress {
  readonly operation: LongOperation;
}

/**
 * A long operation's options as they travel to the worker: `job` names it for `abortJob`; `cancel` is a
 * blob: URL the client revokes on abort, which synchronous work (the import's integrity check) polls.
 */
export interface JobOptions {
  readonly job?: string | undefined;
  readonly cancel?: string | undefined;
}
