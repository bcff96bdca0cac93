// A follower tab's side of multi-tab coordination: the DatabaseLink that Scion and Database use when the
// worker belongs to another tab (and still once this tab took over; a tab that led from the start uses
// Host.ownLink instead). It routes each call by what it is, keeps its order per
// connection, and records what a new leader must re-create. The jobs it hands on: tab-transport.ts (the
// line to the leader of the moment), tab-handover.ts (re-creating this tab's state on a new leader) and
// tab-writes.ts (writes and transactions that survive a leader change; see README "Several tabs").
import { getLogger } from '@logtape/logtape';
import * as Comlink from 'comlink';
import { classifySql, ScionError } from '../core/index.ts';
import type { ChangeEvent, DatabaseInfo, OpenOptions, Wire, ScionWorkerApi } from '../protocol/index.ts';
import { failed, unwrap } from '../protocol/index.ts';
import type { CancelToken } from './call-limits.ts';
import type { DatabaseLink } from './database.ts';
import { advance, Handover, type Conn, type Sub, type TabState } from './tab-handover.ts';
import { CONNECTIONLESS, type ToTab } from './tab-protocol.ts';
import { LEADER_LOST, LeaderLine, type Transport } from './tab-transport.ts';
import { WriteReplay } from './tab-writes.ts';

const logger = getLogger(['scion', 'client', 'tabs']);

type Mode =
  | { op: 'plain'; session: boolean }
  | { op: 'opaque' }
  | { op: 'auto' }
  | { op: 'begin'; locks: boolean }
  | { op: 'stmt' }
  | { op: 'end'; commit: boolean };

/** Methods whose answer is state on the leader (re-made by the next leader only if recorded in time). */
const STATEFUL = new Set(['open', 'checkout', 'subscribe', 'subscribeSyncStatus', 'setAutosync']);

export class TabLink implements DatabaseLink {
  readonly api: Comlink.Remote<ScionWorkerApi>;
  readonly running = new Set<CancelToken>();
  readonly #line: LeaderLine;
  readonly #writes: WriteReplay<Conn>;
  readonly #handover: Handover;
  readonly #state: TabState = { conns: new Map(), globalSubs: new Map(), setters: new Map() };
  /** Handles and subscription ids given to Database: far above the worker's own small numbers. */
  #nextVirtual = 1_000_001;
  readonly #subIds = new Map<number, { conn: Conn | undefined; sub: Sub }>();
  readonly #callbacks = new Map<number, { fn: (...args: unknown[]) => unknown; conn: Conn | undefined; method: string }>();
  #nextCallback = 1;

  constructor(tab: string) {
    this.#line = new LeaderLine(tab);
    this.#writes = new WriteReplay<Conn>(this.#line, (conn, method, rest) => this.#plain(conn, method, rest, () => undefined, false));
    this.#handover = new Handover(this.#line, this.#writes, this.#state, (token, event) => this.#callback(token, [event]));
    this.api = new Proxy({}, {
      get: (_, key) => {
        if (key === Comlink.releaseProxy) return () => undefined;
        if (typeof key !== 'string' || key === 'then') return undefined;
        return (...args: unknown[]) => this.request(key, args);
      },
    }) as Comlink.Remote<ScionWorkerApi>;
  }

  /** The leader this tab talks to now. */
  get leader(): string | undefined {
    return this.#line.leader;
  }

  async call<T>(request: Promise<Wire<T>>): Promise<T> {
    return unwrap(await request);
  }

  // ── Leaders (called by the coordinator) ─────────────────────────────────────────────────

  /** A leader answered (or this tab now leads): re-create this tab's state there, then let calls through. */
  connect(transport: Transport): void {
    const epoch = this.#line.connect(transport);
    if (epoch !== undefined) void this.#handover.reestablish(epoch);
  }

  /** The leader is gone (another took the lock, or this tab did): calls under way wait for the next one. */
  leaderLost(): void {
    this.#line.leaderLost();
  }

  /** Answers and callbacks from the leader. */
  receive(message: ToTab): void {
    if (message.from !== this.#line.leader) return;
    if (message.t === 'reply') this.#line.reply(message.id, message.wire);
    else if (message.t === 'callback') this.#callback(message.cb, message.args);
  }

  /** Every later call fails with `error` (Closed after Scion.close, or why no leader could start). */
  stop(error: ScionError): void {
    this.#line.stop(error);
  }

  // ── Requests ────────────────────────────────────────────────────────────────────────────

  /** What `api.<method>(...args)` does: the ScionWorkerApi call, made on the current leader. */
  request(method: string, args: unknown[]): Promise<Wire<unknown>> {
    const run = async (): Promise<Wire<unknown>> => {
      const stopped = this.#line.stopped;
      if (stopped) throw stopped;
      if (CONNECTIONLESS.has(method) || typeof args[0] !== 'number') return this.#connectionless(method, args);
      const conn = this.#state.conns.get(args[0] as number);
      if (!conn || conn.closed) throw new ScionError('Closed', `Database handle ${String(args[0])} is closed. Open the database again.`);
      return this.#enqueue(conn, method, args.slice(1));
    };
    return run().catch((e: unknown) => failed(ScionError.from(e)));
  }

  async #connectionless(method: string, args: unknown[]): Promise<Wire<unknown>> {
    if (method === 'init' || method === 'shutdown') throw new ScionError('InvalidInput', `${method} belongs to the leader tab.`);
    if (method === 'unsubscribe') return this.#unsubscribe(args[0] as number);
    const tokens: number[] = [];
    const out = args.map((a) => (typeof a === 'function' ? this.#token(a as (...x: unknown[]) => unknown, undefined, method, tokens) : a));
    const subscribes = method.startsWith('subscribe');
    if (method.startsWith('set')) this.#state.setters.set(method, out);
    try {
      for (;;) {
        const epoch = await this.#line.whenReady();
        let wire: Wire<unknown>;
        try {
          wire = await this.#line.rpc({ t: 'call', method, args: out }, epoch);
        } catch (e) {
          if (e === LEADER_LOST) continue;
          throw e;
        }
        if (!wire.ok) return wire;
        if ((method === 'open' || subscribes) && epoch !== this.#line.epoch) continue; // made on a leader that is gone
        if (method === 'open') {
          const options = { ...((args[1] ?? {}) as OpenOptions) };
          delete options.clone; // the database exists now; it may have moved to another remote since
          return { ok: true, value: this.#addConn(wire.value as DatabaseInfo, { kind: 'open', options }) };
        }
        if (subscribes && typeof wire.value === 'number') {
          const id = this.#nextVirtual++;
          const sub: Sub = { method, token: tokens[0] as number, real: wire.value, args: out };
          this.#state.globalSubs.set(id, sub);
          this.#subIds.set(id, { conn: undefined, sub });
          tokens.length = 0; // kept
          return { ok: true, value: id };
        }
        return wire;
      }
    } finally {
      for (const t of tokens) this.#callbacks.delete(t);
    }
  }

  async #unsubscribe(id: number): Promise<Wire<unknown>> {
    const found = this.#subIds.get(id);
    if (!found) return { ok: true, value: undefined };
    this.#subIds.delete(id);
    this.#state.globalSubs.delete(id);
    found.conn?.subs.delete(id);
    this.#callbacks.delete(found.sub.token);
    const epoch = await this.#line.whenReady();
    if (found.sub.real === undefined) return { ok: true, value: undefined };
    try {
      return await this.#line.rpc({ t: 'call', method: 'unsubscribe', args: [found.sub.real] }, epoch);
    } catch (e) {
      if (e !== LEADER_LOST) throw e;
      return { ok: true, value: undefined }; // it went with its leader
    }
  }

  /**
   * Calls of one connection keep their order. Plain calls and a transaction's statements are sent
   * without waiting for the previous answer; a tracked write, BEGIN and COMMIT/ROLLBACK wait for every
   * earlier call to finish and hold later ones until they finish.
   */
  #enqueue(conn: Conn, method: string, rest: unknown[]): Promise<Wire<unknown>> {
    const prevSent = conn.sentTail;
    const prevDone = conn.doneTail;
    let markSent!: () => void;
    conn.sentTail = new Promise<void>((resolve) => (markSent = resolve));
    const done = (async () => {
      try {
        await prevSent;
        const mode = this.#mode(conn, method, rest);
        const blocking = mode.op === 'auto' || mode.op === 'begin' || mode.op === 'end';
        if (blocking) await prevDone;
        return await this.#run(conn, mode, method, rest, blocking ? () => undefined : markSent);
      } finally {
        markSent();
      }
    })();
    conn.doneTail = Promise.all([prevDone, done.catch(() => undefined)]).then(() => undefined);
    return done;
  }

  #mode(conn: Conn, method: string, rest: unknown[]): Mode {
    if (this.#line.local || conn.readOnly) return { op: 'plain', session: false };
    if ((method !== 'exec' && method !== 'query') || typeof rest[0] !== 'string') return { op: 'plain', session: false };
    const kind = classifySql(rest[0]);
    if (conn.txn) {
      if (kind.kind === 'commit') return { op: 'end', commit: true };
      if (kind.kind === 'rollback') return { op: 'end', commit: false };
      return { op: 'stmt' };
    }
    switch (kind.kind) {
      case 'read':
        return { op: 'plain', session: false };
      case 'idempotent':
        return { op: 'plain', session: kind.session };
      case 'write':
        return { op: 'auto' };
      case 'begin':
        return { op: 'begin', locks: kind.locks };
      default:
        return { op: 'opaque' };
    }
  }

  #run(conn: Conn, mode: Mode, method: string, rest: unknown[], markSent: () => void): Promise<Wire<unknown>> {
    switch (mode.op) {
      case 'plain':
        return this.#plain(conn, method, rest, markSent, mode.session);
      case 'opaque':
        return this.#writes.opaque(conn, method, rest, markSent);
      case 'auto':
        return this.#writes.auto(conn, method as 'exec' | 'query', rest);
      case 'begin':
        return this.#writes.begin(conn, method as 'exec' | 'query', rest, mode.locks);
      case 'stmt':
        return this.#writes.statement(conn, method, rest, markSent);
      case 'end':
        return this.#writes.end(conn, method as 'exec' | 'query', rest, mode.commit);
    }
  }

  /** A call that is safe to make again: made again on the next leader if its answer is lost. */
  async #plain(conn: Conn, method: string, rest: unknown[], markSent: () => void, session: boolean): Promise<Wire<unknown>> {
    const tokens: number[] = [];
    const out = rest.map((a) => (typeof a === 'function' ? this.#token(a as (...x: unknown[]) => unknown, conn, method, tokens) : a));
    try {
      for (;;) {
        const epoch = await this.#line.whenReady();
        if (conn.broken) return conn.broken;
        const p = this.#line.rpc({ t: 'call', method, args: [conn.real, ...out] }, epoch);
        markSent();
        let wire: Wire<unknown>;
        try {
          wire = await p;
        } catch (e) {
          if (e === LEADER_LOST) continue;
          throw e;
        }
        if (wire.ok && epoch !== this.#line.epoch && STATEFUL.has(method)) continue;
        if (wire.ok) return this.#after(conn, method, rest, out, wire, session, tokens);
        return wire;
      }
    } finally {
      if (method !== 'subscribe' && method !== 'subscribeSyncStatus') for (const t of tokens) this.#callbacks.delete(t);
    }
  }

  /** Records what a new leader must re-create, and gives Database virtual ids. */
  #after(conn: Conn, method: string, rest: unknown[], out: unknown[], wire: Wire<unknown> & { ok: true }, session: boolean, tokens: number[]): Wire<unknown> {
    switch (method) {
      case 'checkout':
        return { ok: true, value: this.#addConn(wire.value as DatabaseInfo, { kind: 'checkout', parent: conn.vh, lsn: rest[0], volume: rest[1] }) };
      case 'subscribe':
      case 'subscribeSyncStatus': {
        const id = this.#nextVirtual++;
        const sub: Sub = { method, token: tokens[0] as number, real: wire.value as number };
        conn.subs.set(id, sub);
        this.#subIds.set(id, { conn, sub });
        return { ok: true, value: id };
      }
      case 'close':
        conn.closed = true;
        this.#state.conns.delete(conn.vh);
        for (const [id, sub] of conn.subs) {
          this.#subIds.delete(id);
          this.#callbacks.delete(sub.token);
        }
        return wire;
      case 'setAutosync':
        conn.autosync = out[0];
        return wire;
      default:
        if (session) conn.settings.push({ method, rest });
        return wire;
    }
  }

  // ── Plumbing ────────────────────────────────────────────────────────────────────────────

  #addConn(info: DatabaseInfo, origin: Conn['origin']): DatabaseInfo {
    const vh = this.#nextVirtual++;
    this.#state.conns.set(vh, {
      vh, name: info.name, readOnly: info.readOnly, origin, real: info.handle, broken: undefined, closed: false, settings: [], subs: new Map(),
      autosync: undefined, txn: undefined, baseline: undefined, sentTail: Promise.resolve(), doneTail: Promise.resolve(),
    });
    return { ...info, handle: vh };
  }

  #token(fn: (...args: unknown[]) => unknown, conn: Conn | undefined, method: string, tokens: number[]): { scionCallback: number } {
    const id = this.#nextCallback++;
    this.#callbacks.set(id, { fn, conn, method });
    tokens.push(id);
    return { scionCallback: id };
  }

  /** Calls a listener of this tab (the leader called back, or a new leader's catch-up). */
  #callback(token: number, args: unknown[]): void {
    const cb = this.#callbacks.get(token);
    if (!cb) return;
    if (cb.method === 'subscribe' && cb.conn) cb.conn.baseline = advance(cb.conn.baseline, args[0] as ChangeEvent);
    try {
      const r = cb.fn(...args) as Promise<unknown> | undefined;
      if (r && typeof r.then === 'function') r.then(undefined, () => undefined);
    } catch (e) {
      logger.warn('a listener threw: {message}', { message: String(e) });
    }
  }
}
