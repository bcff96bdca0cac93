// What a benchmark target is: one way of running SQLite in the browser (a VFS, a loading strategy). Every peer,
// and Scion, implements BenchTarget; bench/targets/index.ts lists them by name. A target runs in a dedicated
// worker that lives for one job, so "cold" means cold and peak memory is the job's own.
import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import type { ScriptDb } from '../speed-suite.ts';

/** The SQL surface the workloads use: sqlite-wasm's oo1 database (Scion's VFS runs under the same build). */
export type Db = Database;

/** HTTP traffic a remote open caused, from `openRemote` on. */
export interface Traffic {
  requests: number;
  bytes: number;
  /** Time blocked on the network, where the target can tell (kept in the JSON, not the table). */
  waitMs?: number;
  /** Round trips to a presign service (not the bucket), where the target has one (kept in the JSON). */
  presignRequests?: number;
  /** Bytes of the presign service's answers (fetch only; kept in the JSON). */
  presignBytes?: number;
  /** Requests (bucket and presign service) that ran one after another (report.ts `sequentialRoundTrips`). */
  roundTrips?: number;
  /** Bucket requests per object kind, where the target can tell (kept in the JSON). */
  byKind?: { commit: number; latest: number; segment: number };
  /** Each request's kind and span (performance.now() ms), where the target can tell: where the time went. */
  spans?: { kind: string; start: number; end: number }[];
}

/** A measured number from a target's own workload (push/pull): one per run, reported like the others. */
export interface ExtraSample {
  /** Report group, e.g. `push/pull`; its reference target is set in bench/report.ts REFERENCE_TARGETS. */
  group: string;
  workload: string;
  /** Usually the target's name; a target may also report its own reference row (e.g. `raw presigned PUT`). */
  target: string;
  unit: string;
  value: number;
  requests?: number;
  roundTrips?: number;
  bytes?: number;
  /** Context kept in the JSON only (e.g. presign round trips, segment bytes). */
  detail?: Record<string, number | null>;
}

/** The network a remote workload runs over: loopback, or a bench/netem-proxy.ts profile (bench/serve.ts). */
export interface BenchNetworkRef {
  name: string;
  /** This network's presign service; the URLs it signs reach the bucket over the same network. */
  presignUrl: string;
}

/** Sizes of the target-only workloads (bench/config.ts). */
export interface ExtraOptions {
  /** Changed pages per timed push. */
  pushPages: readonly number[];
}

/** Where the dataset lives, as the worker sees it. */
export interface RemoteDataset {
  /** Range-capable URL of the database file over `network`; a fresh cache-busting query per job. */
  url: string;
  bytes: number;
  network: BenchNetworkRef;
}

/**
 * One way to run SQLite. All methods are optional except `name`: a target takes part in the workloads whose
 * methods it has. Timed methods include all the target's own setup (VFS install, handle pools, catalogs): the
 * worker has only initialised sqlite-wasm before them. Untimed `prepare*` methods run in an earlier worker, so
 * whatever they leave must outlive it (OPFS, a bucket).
 */
export interface BenchTarget {
  readonly name: string;

  /** Local OLTP (timed around the workload, not the open): a new, empty, writable database `dbName`. */
  open?(dbName: string): Promise<Db>;

  /** The speed suite on a target that is not sqlite-wasm's oo1 (wa-sqlite): a new, empty database. Targets with
   * `open` run the suite through it. */
  openScript?(dbName: string): Promise<ScriptDb>;

  /** Untimed: store the dataset `bytes` as the local database `dbName`, for `openExisting`. */
  prepareExisting?(dbName: string, bytes: Uint8Array): Promise<void>;
  /**
   * As prepareExisting, from the downloaded file as a Blob (the browser holds its bytes, not the worker).
   * A target that has it is given the Blob instead of the bytes.
   */
  prepareExistingFile?(dbName: string, file: Blob): Promise<void>;
  /** Timed, open-to-first-query: open the database `prepareExisting` left, in a new worker. */
  openExisting?(dbName: string): Promise<Db>;
  /** Bytes the target keeps in OPFS for what `prepareExisting` left. */
  existingBytes?(): Promise<number>;
  /** The first push of the database `prepareExisting` left, to the bench bucket (loopback), in a new worker. */
  pushExisting?(dbName: string): Promise<PushedExisting>;

  /** Untimed, once before the cold reads: publish the dataset where `openRemote` reads it (e.g. push a volume). */
  prepareRemote?(dataset: RemoteDataset): Promise<void>;
  /** Timed, cold read: open the remote dataset with empty caches; traffic is counted from here. */
  openRemote?(dataset: RemoteDataset): Promise<Db>;
  /** Requests and bytes since the last `openRemote`. Required with `openRemote`. */
  traffic?(): Traffic;

  /**
   * Storage over time: the database `dbName` at a fixed place, new (`fresh`) or as an earlier worker left
   * it. `keptBytes` is what the target holds in OPFS for it; `settle` waits for background upkeep.
   */
  openKept?(dbName: string, fresh: boolean): Promise<Db>;
  keptBytes?(): Promise<number>;
  settle?(): Promise<void>;

  /** Target-only workloads (Scion: push/pull) over `network`. Called once per run and network, in its own worker. */
  runExtra?(run: number, network: BenchNetworkRef, options: ExtraOptions): Promise<ExtraSample[]>;

  /** Called before the job's worker ends: release handles (OPFS) so the next worker can take them. */
  dispose?(): Promise<void>;
  /** Called once after all runs: delete what the target stored (OPFS files, bucket objects). */
  cleanup?(): Promise<void>;
}

/** What `pushExisting` measured: the push alone is timed; OPFS bytes before it and after it (upkeep settled). */
export interface PushedExisting {
  ms: number;
  pages: number;
  /** Bytes of segment the push uploaded (compressed frames). */
  uploadedBytes: number;
  opfsBefore: number;
  opfsAfter: number;
}

/** Bytes of every file under an OPFS directory (what the directory costs the origin's quota). */
export async function opfsDirectoryBytes(name: string): Promise<number> {
  let dir: FileSystemDirectoryHandle;
  try {
    dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(name);
  } catch (e) {
    if ((e as Error).name === 'NotFoundError') return 0;
    throw e;
  }
  const walk = async (d: FileSystemDirectoryHandle): Promise<number> => {
    let total = 0;
    for await (const [, h] of (d as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
      total += h.kind === 'file' ? (await (h as FileSystemFileHandle).getFile()).size : await walk(h as FileSystemDirectoryHandle);
    }
    return total;
  };
  return walk(dir);
}

/** Builds a target in a fresh worker. Must be cheap and do no I/O: open* methods are timed, this is not. */
export type TargetFactory = (sqlite3: Sqlite3Static) => BenchTarget;
