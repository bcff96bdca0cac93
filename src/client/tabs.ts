// Multi-tab coordination. OPFS sync access handles are exclusive, so per origin and directory one tab —
// the leader, holder of the Web Lock "scion:<directory>" — runs the DB worker; every other tab waits in
// that lock's queue and meanwhile talks to the leader over BroadcastChannel (which cannot carry a
// MessagePort, hence a small RPC: request ids, tab ids, the worker's own Wire answers). When the leader
// tab ends, the lock passes to the next tab in the queue: it starts a worker (waiting with backoff until
// the old worker's OPFS handle is released), records where every graft stands, announces itself, and
// every tab re-creates its connections there and settles the calls that were under way (tab-link.ts,
// tab-handover.ts, tab-writes.ts).
import { getLogger } from '@logtape/logtape';
import * as Comlink from 'comlink';
import { backoffMs, ScionError } from '../core/index.ts';
import type { ScionWorkerApi, WorkerConfig, WorkerInfo } from '../protocol/index.ts';
import type { DatabaseLink } from './database.ts';
import { Host, type HostHooks } from './tab-host.ts';
import { TabLink } from './tab-link.ts';
import { watchWorker } from './worker-failure.ts';
import { tabNames, type Announcement, type Channel, type Locks, type ToTab } from './tab-protocol.ts';

const logger = getLogger(['scion', 'client', 'tabs']);

/** How the coordination reaches the platform (tests pass fakes). */
export interface TabDeps {
  locks: Locks;
  channel(name: string): Channel;
  startWorker(): Worker | MessagePort;
  /** Where the last leader's id is kept (localStorage in a page). */
  storage?: Pick<Storage, 'getItem' | 'setItem'> | undefined;
  newId?(): string;
  /** Waiting for the previous worker's OPFS handles: first delay, longest delay, give up after (ms). */
  storeRetry?: { firstMs: number; maxMs: number; giveUpMs: number } | undefined;
  /** How often a tab without a leader asks for one (ms). Default 250. */
  helloMs?: number;
  hooks?: HostHooks | undefined;
}

export type TabRole = 'leader' | 'follower';

const DEFAULT_RETRY = { firstMs: 25, maxMs: 500, giveUpMs: 20_000 };

/** The browser's Web Locks, BroadcastChannel and localStorage, or undefined where one is missing. */
export function browserTabDeps(startWorker: () => Worker): TabDeps | undefined {
  if (typeof navigator === 'undefined' || !navigator.locks || typeof BroadcastChannel === 'undefined') return undefined;
  let storage: Storage | undefined;
  try {
    storage = globalThis.localStorage;
  } catch {
    storage = undefined; // blocked (e.g. some privacy settings): claims across two leader changes become "unknown"
  }
  return { locks: navigator.locks, channel: (name) => new BroadcastChannel(name), startWorker, storage };
}

/** One Scion instance's place among the tabs: leader (runs the worker) or follower (calls the leader). */
export class TabCoordinator {
  readonly #tabLink: TabLink;
  /** Set when this tab led from the start: its Databases call the worker directly (Host.ownLink). */
  #ownLink: DatabaseLink | undefined;
  info: WorkerInfo | undefined;
  /** How long the last take-over took from the lock being granted to serving (ms); for diagnostics and tests. */
  lastTakeoverMs: number | undefined;
  readonly #config: WorkerConfig;
  readonly #deps: TabDeps;
  readonly #tab: string;
  readonly #names: ReturnType<typeof tabNames>;
  readonly #roleListeners = new Set<(role: TabRole) => void>();
  readonly #leaderAbort = new AbortController();
  #role: TabRole = 'follower';
  #leading = false;
  #host: Host | undefined;
  #worker: Worker | MessagePort | undefined;
  #inbox: Channel | undefined;
  #announce: Channel | undefined;
  #toHost: Channel | undefined;
  #releaseTab: (() => void) | undefined;
  #releaseLeader: (() => void) | undefined;
  #hello: ReturnType<typeof setInterval> | undefined;
  #contact: { resolve: () => void; reject: (e: unknown) => void; done: boolean } | undefined;
  #closed = false;

  private constructor(config: WorkerConfig, deps: TabDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#tab = deps.newId?.() ?? randomId();
    this.#names = tabNames(config.directory ?? 'scion');
    this.#tabLink = new TabLink(this.#tab);
  }

  /** Joins the tabs of `config.directory`: leads if no tab does, else follows the leader. */
  static async open(config: WorkerConfig, deps: TabDeps): Promise<TabCoordinator> {
    const c = new TabCoordinator(config, deps);
    try {
      await c.#start();
      return c;
    } catch (e) {
      await c.close();
      throw e;
    }
  }

  /** What this instance's Databases call through, fixed once open resolves: the host's own link if it led from the start, else the tab link. */
  get link(): DatabaseLink {
    return this.#ownLink ?? this.#tabLink;
  }

  get role(): TabRole {
    return this.#role;
  }

  onRoleChange(listener: (role: TabRole) => void): () => void {
    this.#roleListeners.add(listener);
    return () => this.#roleListeners.delete(listener);
  }

  /** Leaves the tabs: a follower's connections close on the leader; a leader shuts its worker down and passes the lock on. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#hello);
    const leader = this.#tabLink.leader;
    this.#tabLink.stop(new ScionError('Closed', 'This Scion instance is closed. Open a new one.'));
    this.#contact?.reject(new ScionError('Closed', 'Scion was closed while opening.'));
    try {
      if (this.#host) {
        await this.#host.close();
        endWorker(this.#worker);
      } else if (leader !== undefined) {
        this.#toHost?.postMessage({ t: 'bye', from: this.#tab, to: leader });
      }
    } finally {
      this.#leaderAbort.abort();
      this.#releaseLeader?.();
      for (const ch of [this.#inbox, this.#announce, this.#toHost]) ch?.close();
      this.#releaseTab?.();
    }
  }

  async #start(): Promise<void> {
    const { locks, channel } = this.#deps;
    this.#releaseTab = await holdLock(locks, this.#names.tabLock(this.#tab));
    this.#inbox = channel(this.#names.inbox(this.#tab));
    this.#inbox.onmessage = (ev) => this.#onInbox(ev.data as ToTab);
    this.#announce = channel(this.#names.announce);
    this.#announce.onmessage = (ev) => this.#onAnnounce(ev.data as Announcement);
    this.#toHost = channel(this.#names.host);
    const contact = new Promise<void>((resolve, reject) => (this.#contact = { resolve, reject, done: false }));
    // Queued for the tab's life: granted at once if no tab leads, else when the leader (and any tab ahead) ends.
    locks.request(this.#names.leaderLock, { signal: this.#leaderAbort.signal }, () => this.#lead())
      .catch((e: unknown) => {
        if (!this.#closed) logger.error('the leader lock failed: {message}', { message: String(e) });
      });
    this.#sayHello();
    this.#hello = setInterval(() => {
      if (!this.#leading && this.#tabLink.leader === undefined) this.#sayHello();
    }, this.#deps.helloMs ?? 250);
    await contact;
  }

  /** Holds the leader lock until close: runs the worker and serves every tab. */
  async #lead(): Promise<void> {
    if (this.#closed) return;
    this.#leading = true;
    clearInterval(this.#hello);
    const granted = performance.now();
    const previousLeader = this.#tabLink.leader;
    // The tab we followed is gone: what it was doing for us is settled once our own worker runs.
    this.#tabLink.leaderLost();
    this.#toHost?.close();
    this.#toHost = undefined;
    let host: Host;
    try {
      host = await this.#startHost(previousLeader);
    } catch (e) {
      const err = ScionError.from(e);
      logger.error('this tab could not take over the Scion worker: {message}', { message: err.message });
      endWorker(this.#worker);
      if (this.#contact?.done === false) this.#contact.reject(err);
      else this.#tabLink.stop(err);
      return; // releases the lock: another tab may try
    }
    if (this.#closed) {
      await host.close();
      endWorker(this.#worker);
      return;
    }
    this.#host = host;
    host.attachLocal(this.#tab, (m) => this.#tabLink.receive(m));
    this.#tabLink.connect({ leader: host.id, local: true, send: (m) => host.receive(m), direct: (method, args) => host.direct(this.#tab, method, args) });
    if (this.#contact?.done === false) this.#ownLink = host.ownLink(this.#tab);
    this.info ??= host.info;
    this.lastTakeoverMs = Math.round(performance.now() - granted);
    this.#setRole('leader');
    this.#announce?.postMessage({ t: 'leader-up', leader: host.id } satisfies Announcement);
    if (previousLeader !== undefined) logger.info('this tab leads now ({ms} ms after the lock)', { ms: this.lastTakeoverMs });
    this.#madeContact();
    await new Promise<void>((resolve) => (this.#releaseLeader = resolve));
  }

  async #startHost(previousLeader: string | undefined): Promise<Host> {
    const storage = this.#deps.storage;
    const stored = safeGet(storage, this.#names.lastLeader);
    const previous = stored ?? previousLeader;
    const id = `${Math.max(generation(stored), generation(previousLeader)) + 1}.${this.#deps.newId?.() ?? randomId()}`;
    const worker = this.#deps.startWorker();
    this.#worker = worker;
    const api = Comlink.wrap<ScionWorkerApi>(worker);
    const info = await initWithRetry(api, worker, this.#config, this.#deps.storeRetry ?? DEFAULT_RETRY, () => this.#closed);
    const host = await Host.start({
      id, previous, api, info, directory: this.#config.directory ?? 'scion', locks: this.#deps.locks, channel: this.#deps.channel, hooks: this.#deps.hooks,
    });
    safeSet(storage, this.#names.lastLeader, id);
    return host;
  }

  #onInbox(message: ToTab): void {
    if (message.t !== 'welcome') return this.#tabLink.receive(message);
    if (this.#leading || this.#closed) return;
    // An answer from a leader older than the one we follow (it was on its way when that leader died).
    if (generation(message.from) < generation(this.#tabLink.leader)) return;
    const toHost = this.#toHost;
    this.#tabLink.connect({ leader: message.from, local: false, send: (m) => toHost?.postMessage(m) });
    this.info ??= message.info;
    this.#madeContact();
  }

  #onAnnounce(message: Announcement): void {
    if (message.t !== 'leader-up' || this.#leading || this.#closed) return;
    if (message.leader === this.#tabLink.leader || generation(message.leader) < generation(this.#tabLink.leader)) return;
    this.#tabLink.leaderLost();
    this.#sayHello();
  }

  #sayHello(): void {
    this.#toHost?.postMessage({ t: 'hello', from: this.#tab });
  }

  #madeContact(): void {
    if (this.#contact && !this.#contact.done) {
      this.#contact.done = true;
      this.#contact.resolve();
    }
  }

  #setRole(role: TabRole): void {
    if (this.#role === role) return;
    this.#role = role;
    for (const l of [...this.#roleListeners]) {
      try {
        l(role);
      } catch (e) {
        logger.warn('a role listener threw: {message}', { message: String(e) });
      }
    }
  }
}

/** `init`, again and again while the directory is still held by the previous leader's worker (Forbidden). */
async function initWithRetry(
  api: Comlink.Remote<ScionWorkerApi>, worker: Worker | MessagePort, config: WorkerConfig, retry: { firstMs: number; maxMs: number; giveUpMs: number }, cancelled: () => boolean,
): Promise<WorkerInfo> {
  const watch = watchWorker(worker);
  const { failed } = watch;
  const started = performance.now();
  let delay = retry.firstMs;
  try {
    for (let attempt = 1; ; attempt++) {
      const wire = await Promise.race([api.init(config), failed]);
      if (wire.ok) {
        if (attempt > 1) logger.info('the store opened after {attempt} attempts ({ms} ms)', { attempt, ms: Math.round(performance.now() - started) });
        return wire.value;
      }
      const err = ScionError.fromWire(wire.error);
      if (err.code !== 'Forbidden' || cancelled() || performance.now() - started + delay > retry.giveUpMs) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = backoffMs({ ...retry, jitter: 0 }, attempt, 0);
    }
  } finally {
    watch.stop();
  }
}

/** Acquires a Web Lock and keeps it until the returned function is called. */
function holdLock(locks: Locks, name: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    locks.request(name, {}, () => new Promise<void>((release) => resolve(() => release()))).catch(reject);
  });
}

function endWorker(worker: Worker | MessagePort | undefined): void {
  if (!worker) return;
  if ('terminate' in worker) worker.terminate();
  else worker.close();
}

/** Leader ids are "<generation>.<random>"; each leader's generation is one more than the last it knew of. */
function generation(leader: string | undefined | null): number {
  const n = leader ? Number.parseInt(leader, 10) : 0;
  return Number.isFinite(n) ? n : 0;
}

function randomId(): string {
  return globalThis.crypto?.randomUUID?.() ?? Math.random().toString(36).slice(2) + Date.now().toString(36);
}

function safeGet(storage: TabDeps['storage'], key: string): string | undefined {
  try {
    return storage?.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

function safeSet(storage: TabDeps['storage'], key: string, value: string): void {
  try {
    storage?.setItem(key, value);
  } catch {
    // Without it a claim across two leader changes is judged "unknown": an error, never a wrong answer.
  }
}
