// The leader tab's side of multi-tab coordination: it owns the DB worker and serves every tab's calls
// (its own through direct calls, the others' through BroadcastChannel), in the order each tab sent them.
import { getLogger } from '@logtape/logtape';
import * as Comlink from 'comlink';
import { ScionError } from '../core/index.ts';
import type { DatabaseInfo, DatabaseStatus, TagInfo, Wire, ScionWorkerApi, WorkerInfo } from '../protocol/index.ts';
import { failed, unwrap } from '../protocol/index.ts';
import type { DatabaseLink } from './database.ts';
import {
  CONNECTIONLESS, isCallbackToken, type BeginResult, type Channel, type Claim, type ClaimOutcome, type Locks, type ToHost, type ToTab, tabNames,
} from './tab-protocol.ts';

const logger = getLogger(['scion', 'client', 'tabs']);

type Api = Comlink.Remote<ScionWorkerApi>;
type AnyCall = (...args: unknown[]) => Promise<Wire<unknown>>;

/** Only the leader starts and stops the worker. */
const HOST_ONLY = new Set(['init', 'shutdown']);

export interface HostHooks {
  /** Tests: return true to drop a message (a leader that dies after the work, before the answer). `request`: what a reply answers. */
  dropReply?(tab: string, message: ToTab, request: ToHost | undefined): boolean;
}

export interface HostOptions {
  id: string;
  /** The leader before this one (claims about its lost answers are judged against the stores as opened). */
  previous: string | undefined;
  api: Api;
  info: WorkerInfo;
  directory: string;
  locks: Locks;
  channel(name: string): Channel;
  hooks?: HostHooks | undefined;
}

interface Client {
  readonly tab: string;
  readonly deliver: (message: ToTab) => void;
  readonly handles: Set<number>;
  /** Subscription ids (worker-wide ones outlive the tab's connections, so they are dropped by id). */
  readonly subs: Set<number>;
  readonly watch: AbortController | undefined;
}

/** While a follower's autocommit write runs as BEGIN … COMMIT, other connections' calls on that database wait. */
interface Hold {
  readonly handle: number;
  readonly queue: { handle: number | undefined; run: () => void }[];
}

export class Host {
  readonly id: string;
  readonly previous: string | undefined;
  readonly info: WorkerInfo;
  readonly #api: Api;
  readonly #names: ReturnType<typeof tabNames>;
  readonly #locks: Locks;
  readonly #channelOf: (name: string) => Channel;
  readonly #hooks: HostHooks | undefined;
  /** Local LSN of every graft when this leader opened the stores, before it ran anything. */
  readonly #heads: ReadonlyMap<string, number>;
  readonly #inbox: Channel;
  readonly #clients = new Map<string, Client>();
  readonly #handles = new Map<number, { tab: string; name: string }>();
  readonly #holds = new Map<string, Hold>();
  readonly #running = new Set<Promise<unknown>>();
  #closing = false;

  private constructor(options: HostOptions, heads: ReadonlyMap<string, number>) {
    this.id = options.id;
    this.previous = options.previous;
    this.info = options.info;
    this.#api = options.api;
    this.#names = tabNames(options.directory);
    this.#locks = options.locks;
    this.#channelOf = options.channel;
    this.#hooks = options.hooks;
    this.#heads = heads;
    this.#inbox = options.channel(this.#names.host);
    this.#inbox.onmessage = (ev) => this.receive(ev.data as ToHost);
  }

  /** Records where every graft stands (for claims), then listens for the other tabs. */
  static async start(options: HostOptions): Promise<Host> {
    return new Host(options, await graftHeads(options.api));
  }

  /** The leader's own tab: answers arrive by direct call. */
  attachLocal(tab: string, deliver: (message: ToTab) => void): void {
    this.#clients.set(tab, { tab, deliver: (m) => queueMicrotask(() => deliver(m)), handles: new Set(), subs: new Set(), watch: undefined });
  }

  /**
   * The link of the Databases of a tab that led from the start (it leads until it closes, so no other
   * leader ever re-creates its state): each call goes straight to the worker — no message, no virtual
   * handle — waiting only behind a follower's hold on its database. `tab` must be attached (attachLocal).
   */
  ownLink(tab: string): DatabaseLink {
    const api = new Proxy({}, {
      get: (_, key) => {
        if (key === Comlink.releaseProxy) return () => undefined;
        if (typeof key !== 'string' || key === 'then') return undefined;
        return (...args: unknown[]) => this.#callOwn(tab, key, args);
      },
    }) as Comlink.Remote<ScionWorkerApi>;
    return { api, call: async <T>(request: Promise<Wire<T>>) => unwrap(await request), running: new Set() };
  }

  #callOwn(tab: string, method: string, args: unknown[]): Promise<Wire<unknown>> {
    const client = this.#clients.get(tab);
    if (this.#closing || !client) return Promise.resolve(failed(new ScionError('Closed', 'This Scion instance is closed. Open a new one.')));
    if (HOST_ONLY.has(method)) return Promise.resolve(failed(new ScionError('InvalidInput', `${method} belongs to the leader tab.`)));
    if (this.#holds.size === 0) return this.#invoke(client, method, args);
    const handle = CONNECTIONLESS.has(method) || typeof args[0] !== 'number' ? undefined : args[0];
    return new Promise((resolve) => this.#gate(handle, () => void this.#invoke(client, method, args).then(resolve)));
  }

  /** Serves one request. Synchronous up to the worker call, so calls reach the worker in arrival order. */
  receive(message: ToHost): void {
    if (this.#closing) return;
    if (message.t === 'hello') return this.#hello(message.from);
    if (message.to !== this.id) return; // meant for an earlier leader: its sender asks again
    const client = this.#clients.get(message.from);
    if (!client) return;
    switch (message.t) {
      case 'bye':
        void this.#forget(message.from);
        return;
      case 'resolve':
        return this.#reply(client, message, { ok: true, value: this.#judge(message.claim) });
      case 'call': {
        const handle = CONNECTIONLESS.has(message.method) || typeof message.args[0] !== 'number' ? undefined : message.args[0];
        return this.#gate(handle, () => this.#call(client, message));
      }
      case 'begin':
        return this.#gate(message.handle, () => this.#begin(client, message));
      case 'end':
        return this.#gate(message.handle, () => this.#end(client, message));
    }
  }

  /** Stops serving: waits for the calls under way (their answers still go out), then shuts the worker down. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#inbox.close();
    for (const client of this.#clients.values()) client.watch?.abort();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.allSettled([...this.#running]), new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
    clearTimeout(timer);
    try {
      // A worker stuck in SQL that nothing stops never answers: the caller terminates it after this.
      await Promise.race([this.#api.shutdown(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 3 s')), 3_000)))]);
    } catch (e) {
      logger.warn('the worker did not shut down cleanly: {message}', { message: String(e) });
    } finally {
      clearTimeout(timer);
    }
  }

  // ── Clients ─────────────────────────────────────────────────────────────────────────────

  #hello(tab: string): void {
    let client = this.#clients.get(tab);
    if (!client) {
      const channel = this.#channelOf(this.#names.inbox(tab));
      const watch = new AbortController();
      client = { tab, deliver: (m) => channel.postMessage(m), handles: new Set(), subs: new Set(), watch };
      this.#clients.set(tab, client);
      // Granted when the tab ends (closed, crashed, or Scion.close): its connections go, open transactions roll back.
      this.#locks.request(this.#names.tabLock(tab), { signal: watch.signal }, () => this.#forget(tab))
        .catch(() => undefined)
        .finally(() => channel.close());
    }
    this.#send(client, { t: 'welcome', from: this.id, info: this.info });
  }

  async #forget(tab: string): Promise<void> {
    const client = this.#clients.get(tab);
    if (!client || client.watch === undefined) return;
    this.#clients.delete(tab);
    client.watch.abort();
    for (const id of client.subs) await this.#track(this.#api.unsubscribe(id) as Promise<Wire<unknown>>);
    for (const handle of client.handles) {
      const conn = this.#handles.get(handle);
      this.#handles.delete(handle);
      await this.#track(this.#api.close(handle) as Promise<Wire<unknown>>);
      if (conn && this.#holds.get(conn.name)?.handle === handle) this.#release(conn.name);
    }
  }

  // ── Requests ────────────────────────────────────────────────────────────────────────────

  /** Runs `run` now, or after the hold another connection has on the same database. */
  #gate(handle: number | undefined, run: () => void): void {
    const name = handle === undefined ? undefined : this.#handles.get(handle)?.name;
    const hold = name === undefined ? undefined : this.#holds.get(name);
    if (hold && hold.handle !== handle) hold.queue.push({ handle, run });
    else run();
  }

  #release(name: string): void {
    const hold = this.#holds.get(name);
    if (!hold) return;
    this.#holds.delete(name);
    const queue = hold.queue;
    while (queue.length > 0) {
      const next = this.#holds.get(name);
      if (next) {
        // A queued begin took a new hold: the rest waits for that one.
        next.queue.push(...queue.splice(0));
        return;
      }
      (queue.shift() as Hold['queue'][number]).run();
    }
  }

  /**
   * The leader tab's own call, straight to the worker while no other tab is served: with no follower
   * there is no hold to wait for, and no message to make. Undefined once a follower is served (or for a
   * method only the host calls): the call goes through `receive` then.
   */
  direct(tab: string, method: string, args: unknown[]): Promise<Wire<unknown>> | undefined {
    const client = this.#clients.get(tab);
    if (this.#closing || !client || this.#clients.size > 1 || this.#holds.size > 0 || HOST_ONLY.has(method)) return undefined;
    return this.#invoke(client, method, args);
  }

  #call(client: Client, m: Extract<ToHost, { t: 'call' }>): void {
    if (HOST_ONLY.has(m.method)) {
      return this.#reply(client, m, failed(new ScionError('InvalidInput', `${m.method} is the leader tab's to call.`)));
    }
    void this.#invoke(client, m.method, m.args).then((wire) => this.#reply(client, m, wire));
  }

  /** Calls the worker for `client`, its callbacks sent back as callback messages; notes what the answer made. */
  #invoke(client: Client, method: string, args: unknown[]): Promise<Wire<unknown>> {
    const fn = (this.#api as unknown as Record<string, AnyCall>)[method] as AnyCall;
    const real = args.map((a) => (isCallbackToken(a) ? Comlink.proxy((...x: unknown[]) => this.#send(client, { t: 'callback', from: this.id, cb: a.scionCallback, args: x })) : a));
    return this.#track(fn(...real)).then((wire) => {
      if (wire.ok) this.#note(client, method, args, wire.value);
      return wire;
    });
  }

  /** Keeps the handle ↔ tab ↔ database maps in step with what the worker answered. */
  #note(client: Client, method: string, args: unknown[], value: unknown): void {
    if (method === 'open' || method === 'checkout') {
      const info = value as DatabaseInfo;
      this.#handles.set(info.handle, { tab: client.tab, name: info.name });
      client.handles.add(info.handle);
    } else if (method.startsWith('subscribe') && typeof value === 'number') {
      client.subs.add(value);
    } else if (method === 'unsubscribe') {
      client.subs.delete(args[0] as number);
    } else if (method === 'close') {
      const handle = args[0] as number;
      const conn = this.#handles.get(handle);
      this.#handles.delete(handle);
      client.handles.delete(handle);
      if (conn && this.#holds.get(conn.name)?.handle === handle) this.#release(conn.name);
    }
  }

  #begin(client: Client, m: Extract<ToHost, { t: 'begin' }>): void {
    const name = this.#handles.get(m.handle)?.name;
    const release = () => name !== undefined && this.#holds.get(name)?.handle === m.handle && this.#release(name);
    const api = this.#api as unknown as Record<string, AnyCall>;
    const run = async (): Promise<Wire<BeginResult>> => {
      const begun = await (api[m.method] as AnyCall)(m.handle, m.sql);
      // Held only once BEGIN has the write lock: while it waits for another connection's transaction, that
      // transaction's own statements must not queue behind it.
      if (begun.ok && m.hold && name !== undefined) this.#holds.set(name, { handle: m.handle, queue: this.#holds.get(name)?.queue ?? [] });
      if (!begun.ok) {
        release();
        // The app opened a transaction itself (an opaque text): run the statement as it is, untracked.
        if (m.first && begun.error.details?.transactionOpen === true) {
          const result = await (api[m.first.method] as AnyCall)(m.handle, m.first.sql, m.first.params, m.first.options);
          return { ok: true, value: { begun: undefined, lsn: 0, graft: '', result, untracked: true } };
        }
        return begun;
      }
      // A deferred BEGIN reads nothing yet: one read pins the snapshot the transaction will write on.
      if (!m.locks) await this.#api.query(m.handle, 'SELECT count(*) FROM sqlite_schema');
      const status = await this.#api.status(m.handle);
      if (!status.ok) {
        await this.#api.exec(m.handle, 'ROLLBACK');
        release();
        return status;
      }
      const result = m.first ? await (api[m.first.method] as AnyCall)(m.handle, m.first.sql, m.first.params, m.first.options) : undefined;
      return { ok: true, value: { begun: begun.value, lsn: lsnOf(status.value), graft: status.value.local, result } };
    };
    void this.#track(run()).then((wire) => this.#reply(client, m, wire));
  }

  #end(client: Client, m: Extract<ToHost, { t: 'end' }>): void {
    const name = this.#handles.get(m.handle)?.name;
    const api = this.#api as unknown as Record<string, AnyCall>;
    void this.#track((api[m.method] as AnyCall)(m.handle, m.sql)).then((wire) => {
      if (name !== undefined && this.#holds.get(name)?.handle === m.handle) this.#release(name);
      this.#reply(client, m, wire);
    });
  }

  /** A commit whose answer died with the previous leader: did it land? */
  #judge(claim: Claim): ClaimOutcome {
    if (claim.leader !== this.previous) return 'unknown';
    const head = this.#heads.get(claim.graft);
    if (head === undefined) return 'unknown';
    return head > claim.lsn ? 'committed' : 'absent';
  }

  #reply(client: Client, request: ToHost & { id: number }, wire: Wire<unknown>): void {
    this.#send(client, { t: 'reply', from: this.id, id: request.id, wire }, request);
  }

  #send(client: Client, message: ToTab, request?: ToHost): void {
    if (this.#clients.get(client.tab) !== client) return; // the tab has gone
    if (this.#hooks?.dropReply?.(client.tab, message, request)) return;
    try {
      client.deliver(message);
    } catch (e) {
      logger.warn('could not send to tab {tab}: {message}', { tab: client.tab, message: String(e) });
      // Not cloneable (a value the protocol does not know): the caller gets an error instead of a hang.
      if (message.t === 'reply') {
        try {
          client.deliver({ ...message, wire: failed(ScionError.from(e)) });
        } catch {
          // its channel is closed: nobody is waiting
        }
      }
    }
  }

  #track<T>(p: Promise<T>): Promise<T> {
    const guarded = p.catch((e: unknown) => failed(ScionError.from(e)) as T);
    this.#running.add(guarded);
    void guarded.finally(() => this.#running.delete(guarded));
    return guarded;
  }
}

function lsnOf(status: DatabaseStatus): number {
  return status.localLsn ?? 0;
}

/** Local LSN of every database's graft, read before anything runs on this leader. */
async function graftHeads(api: Api): Promise<Map<string, number>> {
  const heads = new Map<string, number>();
  const tags = await api.tags();
  if (!tags.ok) return heads;
  for (const tag of tags.value as TagInfo[]) {
    const opened = await api.open(tag.name, { create: false, autosync: false });
    if (!opened.ok) continue;
    const status = await api.status(opened.value.handle);
    await api.close(opened.value.handle);
    if (status.ok) heads.set(status.value.local, lsnOf(status.value));
  }
  return heads;
}
