import * as Comlink from 'comlink';
import { ScionError } from '../core/index.ts';
import type { OpenOptions, StatsResult, TagInfo, Wire, WorkerApi, WorkerConfig, WorkerInfo } from '../../worker/index.ts';
import { Database, type DatabaseLink } from './database.ts';
import { unwrap } from './wire.ts';

export interface ScionOptions extends WorkerConfig {
  /**
   * The DB worker to talk to. Default: a new dedicated module worker running worker/db-worker.ts
   * (ended by `close()`). Pass a Worker or a MessagePort to share one (e.g. a leader tab's).
   */
  worker?: Worker | MessagePort;
}

/**
 * One DB worker: SQLite on Scion volumes, stored in OPFS (or memory) and synced through presigned
 * URLs. Open it once per page and storage directory (OPFS files are exclusive: a second worker on the
 * same directory fails with Forbidden).
 * @example
 * const scion = await Scion.open({ remote: { presignUrl, token } });
 * const db = await scion.open('notes');
 * await db.exec('CREATE TABLE IF NOT EXISTS note(id INTEGER PRIMARY KEY, body TEXT)');
 * await db.push();
 */
export class Scion {
  readonly info: WorkerInfo;
  readonly #api: Comlink.Remote<WorkerApi>;
  readonly #link: DatabaseLink;
  readonly #worker: Worker | undefined;
  readonly #detach: () => void;
  #closed = false;

  private constructor(api: Comlink.Remote<WorkerApi>, link: DatabaseLink, info: WorkerInfo, worker: Worker | undefined, detach: () => void) {
    this.#api = api;
    this.#link = link;
    this.info = info;
    this.#worker = worker;
    this.#detach = detach;
  }

  /** Starts (or connects to) a DB worker and initializes it. Throws what init throws (InvalidInput, Forbidden for a held OPFS directory). */
  static async open(options: ScionOptions = {}): Promise<Scion> {
    const { worker: given, ...config } = options;
    const owned = given ? undefined : new Worker(new URL('../../worker/db-worker.ts', import.meta.url), { type: 'module', name: 'scion-db' });
    const worker = (given ?? owned) as Worker | MessagePort;
    const api = Comlink.wrap<WorkerApi>(worker);
    let fail!: (e: Error) => void;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    failed.catch(() => undefined); // observed only by calls racing it
    const onError = (ev: Event) => fail(new ScionError('Internal', `The Scion DB worker failed: ${(ev as ErrorEvent).message || 'it could not load or threw outside a call'}.`));
    worker.addEventListener('error', onError);
    const link: DatabaseLink = { api, call: async <T>(request: Promise<Wire<T>>) => unwrap(await Promise.race([request, failed])) };
    const detach = forwardNetworkState(api);
    try {
      const info = await link.call(api.init(config));
      return new Scion(api, link, info, owned, () => {
        detach();
        worker.removeEventListener('error', onError);
      });
    } catch (e) {
      detach();
      api[Comlink.releaseProxy]();
      owned?.terminate();
      throw e;
    }
  }

  /**
   * Opens a database by name (1–128 of A–Z a–z 0–9 . _ -): an existing one, a new empty one, or with
   * `clone` a new one cloned from that remote volume id. Each call is a connection of its own.
   * Throws TagNotFound with `{ create: false }`, InvalidInput for a bad name.
   */
  async open(name: string, options: OpenOptions = {}): Promise<Database> {
    this.#checkOpen();
    return new Database(this.#link, await this.#link.call(this.#api.open(name, options)));
  }

  /** Every database with its graft, remote volume and sync state. */
  async tags(): Promise<TagInfo[]> {
    this.#checkOpen();
    return this.#link.call(this.#api.tags());
  }

  /** Counters: the VFS's reads and misses, and the frames and bytes fetched from the remote. */
  async stats(): Promise<StatsResult> {
    this.#checkOpen();
    return this.#link.call(this.#api.stats());
  }

  /** Closes every database of this worker, stops autosync, releases the stores, and ends the worker it started. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#link.call(this.#api.shutdown());
    } finally {
      this.#detach();
      this.#api[Comlink.releaseProxy]();
      this.#worker?.terminate();
    }
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  #checkOpen(): void {
    if (this.#closed) throw new ScionError('Closed', 'This Scion instance is closed. Open a new one.');
  }
}

/** The page's online/offline events, forwarded to the worker (autosync pauses offline). */
function forwardNetworkState(api: Comlink.Remote<WorkerApi>): () => void {
  if (typeof window === 'undefined' || typeof navigator === 'undefined') return () => undefined;
  const send = () => void api.setOnline(navigator.onLine).catch(() => undefined);
  window.addEventListener('online', send);
  window.addEventListener('offline', send);
  send();
  return () => {
    window.removeEventListener('online', send);
    window.removeEventListener('offline', send);
  };
}

const shared = new Map<string, Promise<Scion>>();

/**
 * Opens database `name` on a Scion worker shared by every call with the same storage, directory and
 * remote (started on first use).
 * @example const db = await openDatabase('notes', { remote: { presignUrl, token }, autosync: true });
 */
export async function openDatabase(name: string, options: ScionOptions & OpenOptions = {}): Promise<Database> {
  const { create, clone, autosync, ...scionOptions } = options;
  const open: OpenOptions = { ...(create !== undefined ? { create } : {}), ...(clone !== undefined ? { clone } : {}), ...(autosync !== undefined ? { autosync } : {}) };
  if (scionOptions.worker) return (await Scion.open(scionOptions)).open(name, open);
  const key = JSON.stringify([scionOptions.storage ?? 'opfs', scionOptions.directory ?? 'scion', scionOptions.remote ?? null]);
  let scion = shared.get(key);
  if (!scion || (await scion.catch(() => undefined))?.isClosed) {
    scion = Scion.open(scionOptions);
    shared.set(key, scion);
    scion.catch(() => shared.delete(key));
  }
  return (await scion).open(name, open);
}
