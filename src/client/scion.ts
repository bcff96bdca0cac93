import * as Comlink from 'comlink';
import { ScionError } from '../core/index.ts';
import type { DeleteResult, NetworkEvent, OpenOptions, StatsResult, TagInfo, Wire, ScionWorkerApi, WorkerConfig, WorkerInfo } from '../protocol/index.ts';
import { unwrap } from '../protocol/index.ts';
import { Database, Listeners, type DatabaseLink } from './database.ts';
import { withAbsolutePresignUrl } from './presign-url.ts';
import { browserTabDeps, TabCoordinator, type TabDeps, type TabRole } from './tabs.ts';
import { startModuleWorker, watchWorker } from './worker-failure.ts';

export interface ScionOptions extends WorkerConfig {
  /**
   * The DB worker to talk to. Default: a new dedicated module worker running worker/entry.ts (`scion-db/worker`)
   * (ended by `close()`). Pass a Worker or a MessagePort to share one (no multi-tab coordination then).
   */
  worker?: Worker | MessagePort;
  /**
   * Where the DB worker script is, for bundlers that do not handle `new Worker(new URL(…, import.meta.url))`
   * (esbuild): the URL of the file your build makes from `scion-db/worker`. Default: the one the package
   * names, which Vite and webpack 5 resolve. Unlike `worker`, tabs still share one worker.
   */
  workerUrl?: string | URL;
  /**
   * Share the database with the other tabs of this origin that open the same `directory` (default
   * true for OPFS storage). One tab, the leader, runs the DB worker; the others call it, and take over
   * when it closes. `false`: this instance starts its own worker, and fails with `Forbidden` if another
   * tab holds the directory.
   */
  multiTab?: boolean;
  /**
   * Ask the browser to keep this origin's storage under pressure (`navigator.storage.persist()`),
   * so OPFS and IndexedDB are not evicted while unpushed commits live only here. The browser may
   * say no (see `persisted`); push often either way.
   */
  persist?: boolean;
}

/** `single`: this instance has a worker of its own; `leader`: it runs the worker for every tab; `follower`: it calls the leader tab's. */
export type ScionRole = 'single' | TabRole;

/** What a Scion instance runs on: its own worker, or the tabs' shared one. */
interface Backend {
  readonly api: Comlink.Remote<ScionWorkerApi>;
  readonly link: DatabaseLink;
  readonly info: WorkerInfo;
  readonly role: ScionRole;
  onRoleChange(listener: (role: ScionRole) => void): () => void;
  close(): Promise<void>;
}

/**
 * SQLite on Scion volumes, stored in OPFS (or memory) and synced through presigned URLs, in a DB
 * worker. Open it once per page and directory; the tabs of an origin that open the same directory
 * share one worker (see `role`).
 * @example
 * const scion = await Scion.open({ remote: { presignUrl, token } });
 * const db = await scion.open('notes');
 * await db.exec('CREATE TABLE IF NOT EXISTS note(id INTEGER PRIMARY KEY, body TEXT)');
 * await db.push();
 */
export class Scion {
  readonly info: WorkerInfo;
  readonly #api: Comlink.Remote<ScionWorkerApi>;
  readonly #link: DatabaseLink;
  readonly #backend: Backend;
  readonly #network: Listeners<NetworkEvent>;
  /** Whether the browser granted persistent storage when `persist: true` asked; undefined if not asked or unsupported. */
  readonly persisted: boolean | undefined;
  #closed = false;
  /** Rejects when close() is called: open transactions of this instance's Databases roll back. */
  readonly #closing: { promise: Promise<never>; reject: (e: ScionError) => void };

  private constructor(backend: Backend, persisted: boolean | undefined) {
    let reject!: (e: ScionError) => void;
    const promise = new Promise<never>((_, r) => (reject = r));
    promise.catch(() => undefined);
    this.#closing = { promise, reject };
    this.persisted = persisted;
    this.#backend = backend;
    this.#api = backend.api;
    this.#link = backend.link;
    this.info = backend.info;
    this.#network = new Listeners((fn) => this.#link.call(this.#api.subscribeNetwork(fn)));
  }

  /**
   * Starts a DB worker and initializes it, or joins the tab that runs one for this directory. Throws
   * what init throws (InvalidInput; Forbidden for an OPFS directory held without coordination).
   * `tabDeps` is for tests (fake locks and channels).
   */
  static async open(options: ScionOptions = {}, tabDeps?: TabDeps): Promise<Scion> {
    const { worker, workerUrl, multiTab, persist, ...given } = options;
    const start = () => startDbWorker(workerUrl);
    const config = withAbsolutePresignUrl(given);
    const persisted = persist ? await requestPersistence() : undefined;
    if (!worker && multiTab !== false && (tabDeps || (config.storage ?? 'opfs') === 'opfs')) {
      const deps = tabDeps ?? browserTabDeps(start);
      if (deps) return new Scion(await openShared(config, deps), persisted);
    }
    return new Scion(await openOwn(config, worker, start), persisted);
  }

  /** `single`, `leader` or `follower` (a follower becomes the leader when the leader tab closes). */
  get role(): ScionRole {
    return this.#backend.role;
  }

  /** Calls `listener` when this instance's role changes (a follower taking over). Returns the unsubscribe function. */
  onRoleChange(listener: (role: ScionRole) => void): () => void {
    return this.#backend.onRoleChange(listener);
  }

  /**
   * Opens a database by name (1–128 of A–Z a–z 0–9 . _ -): an existing one, a new empty one, or with
   * `clone` a new one cloned from that remote volume id. Each call is a connection of its own.
   * Throws TagNotFound with `{ create: false }`, InvalidInput for a bad name.
   */
  async open(name: string, options: OpenOptions = {}): Promise<Database> {
    this.#checkOpen();
    return new Database(this.#link, await this.#link.call(this.#api.open(name, options)), this.#closing.promise);
  }

  /** Every database with its graft, remote volume and sync state. */
  async tags(): Promise<TagInfo[]> {
    this.#checkOpen();
    return this.#link.call(this.#api.tags());
  }

  /**
   * Deletes database `name` and its local data: its graft, every name pointing at it, its pages and
   * commits (the remote is never touched). The store's files shrink in the background. Throws
   * TagNotFound, or InvalidInput while a connection on it is open.
   */
  async delete(name: string): Promise<DeleteResult> {
    this.#checkOpen();
    return this.#link.call(this.#api.deleteDatabase(name));
  }

  /**
   * Deletes the grafts no database name points at — what `clone` and a reset leave behind — with
   * their local data, and with it any changes they never pushed. Grafts an open connection or
   * checkout uses stay.
   */
  async deleteAbandoned(): Promise<DeleteResult> {
    this.#checkOpen();
    return this.#link.call(this.#api.deleteAbandoned());
  }

  /** Counters: the VFS's reads and misses, and the frames and bytes fetched from the remote. */
  async stats(): Promise<StatsResult> {
    this.#checkOpen();
    return this.#link.call(this.#api.stats());
  }

  /** Calls `listener` after every request to the bucket (method, key, status, bytes, ms). Returns the unsubscribe function. */
  onNetwork(listener: (e: NetworkEvent) => void): () => void {
    this.#checkOpen();
    return this.#network.add(listener);
  }

  /** Switches the worker offline (every bucket request fails before it is sent) or back online. For demos and tests. */
  async setOffline(offline: boolean): Promise<void> {
    this.#checkOpen();
    return this.#link.call(this.#api.setOffline(offline));
  }

  /**
   * Closes this instance's databases: SQL under way is interrupted first. With a worker of its own (or
   * as the leader): stops autosync, releases the stores and ends the worker — a waiting tab then takes
   * over. Always resolves: a worker that does not answer within a few seconds is terminated.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.reject(new ScionError('Closed', 'This Scion instance was closed.'));
    for (const token of this.#link.running) token.cancel();
    await this.#backend.close();
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  #checkOpen(): void {
    if (this.#closed) throw new ScionError('Closed', 'This Scion instance is closed. Open a new one.');
  }
}

/** navigator.storage.persist() where the page has it; undefined where it does not. */
async function requestPersistence(): Promise<boolean | undefined> {
  if (typeof navigator === 'undefined' || typeof navigator.storage?.persist !== 'function') return undefined;
  try {
    return await navigator.storage.persist();
  } catch {
    return false;
  }
}

/** How long close() waits for the worker to shut down before it terminates it. */
const SHUTDOWN_WAIT_MS = 3_000;

function startDbWorker(url: string | URL | undefined): Worker {
  if (url !== undefined) return startModuleWorker(url, 'scion-db');
  return new Worker(new URL('../../worker/entry.ts', import.meta.url), { type: 'module', name: 'scion-db' });
}

/** A worker of this instance's own (started here, or given). */
async function openOwn(config: WorkerConfig, given: Worker | MessagePort | undefined, start: () => Worker): Promise<Backend> {
  const owned = given ? undefined : start();
  const worker = (given ?? owned) as Worker | MessagePort;
  const api = Comlink.wrap<ScionWorkerApi>(worker);
  const watch = watchWorker(worker);
  const { failed } = watch;
  const link: DatabaseLink = { api, call: async <T>(request: Promise<Wire<T>>) => unwrap(await Promise.race([request, failed])), running: new Set() };
  const detach = forwardNetworkState(api);
  try {
    const info = await link.call(api.init(config));
    return {
      api, link, info, role: 'single', onRoleChange: () => () => undefined,
      close: async () => {
        try {
          // SQL that nothing stops keeps the worker from answering: then it is terminated (below).
          await Promise.race([link.call(api.shutdown()), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_WAIT_MS))]);
        } finally {
          detach();
          watch.stop();
          api[Comlink.releaseProxy]();
          owned?.terminate();
        }
      },
    };
  } catch (e) {
    detach();
    watch.stop();
    api[Comlink.releaseProxy]();
    owned?.terminate();
    throw e;
  }
}

/** The worker of the tabs that share `config.directory` (this tab's, if it leads). */
async function openShared(config: WorkerConfig, deps: TabDeps): Promise<Backend> {
  const tabs = await TabCoordinator.open(config, deps);
  const link = tabs.link;
  const detach = forwardNetworkState(link.api);
  return {
    api: link.api,
    link,
    info: tabs.info as WorkerInfo,
    get role() {
      return tabs.role;
    },
    onRoleChange: (listener) => tabs.onRoleChange(listener),
    close: async () => {
      detach();
      await tabs.close();
    },
  };
}

/** The page's online/offline events, forwarded to the worker (autosync pauses offline). */
function forwardNetworkState(api: Comlink.Remote<ScionWorkerApi>): () => void {
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
  const { create, clone, shared: isShared, autosync, ...scionOptions } = options;
  const open: OpenOptions = {
    ...(create !== undefined ? { create } : {}), ...(clone !== undefined ? { clone } : {}), ...(isShared !== undefined ? { shared: isShared } : {}), ...(autosync !== undefined ? { autosync } : {}),
  };
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
