// A tab's side of multi-tab coordination: the DatabaseLink that Scion and Database use when the worker
// belongs to a leader (another tab, or this one). It keeps what a new leader needs to take over — the
// connections each Database opened, their listeners, autosync, connection settings, and the statements
// of an open transaction — and, when the leader changes, re-creates them there and settles every call
// that was under way: reads run again, a write either is known to have committed or runs again, and an
// open transaction is replayed (see README "Several tabs").
import { getLogger } from '@logtape/logtape';
import * as Comlink from 'comlink';
import { classifySql, ScionError } from '../core/index.ts';
import type { ChangeEvent, DatabaseInfo, DatabaseStatus, OpenOptions, Wire, ScionWorkerApi } from '../protocol/index.ts';
import { failed, unwrap } from '../protocol/index.ts';
import type { CancelToken } from './call-limits.ts';
import type { DatabaseLink } from './database.ts';
import { sameValue } from './same-value.ts';
import { CONNECTIONLESS, type BeginResult, type Claim, type ClaimOutcome, type ToHost, type ToTab } from './tab-protocol.ts';

const logger = getLogger(['scion', 'client', 'tabs']);

/** How requests reach the current leader: direct calls (this tab leads) or its BroadcastChannel. */
export interface Transport {
  readonly leader: string;
  readonly local: boolean;
  send(message: ToHost): void;
}

/** Rejects every request under way when the leader changes; never leaves this module. */
const LEADER_LOST: unique symbol = Symbol('leader lost');

type Body = ToHost extends infer M ? (M extends { id: number } ? Omit<M, 'from' | 'to' | 'id'> : never) : never;

interface Sub {
  readonly method: string;
  readonly token: number;
  real: number | undefined;
  /** For a worker-wide subscription: its arguments (the callback as a token). */
  readonly args?: unknown[];
}

/** A transaction opened by this tab, kept so it can be replayed on a new leader. */
interface Txn {
  leader: string;
  graft: string;
  lsn: number;
  readonly method: 'exec' | 'query';
  readonly sql: string;
  readonly locks: boolean;
  /** Every statement since BEGIN, with the answer this tab saw. */
  readonly log: { method: string; rest: unknown[]; wire: Wire<unknown> }[];
  /** COMMIT or ROLLBACK is under way: a new leader must not replay the transaction by itself. */
  ending: boolean;
  aborted: ScionError | undefined;
}

interface Conn {
  readonly vh: number;
  readonly name: string;
  readonly readOnly: boolean;
  readonly origin: { kind: 'open'; options: OpenOptions } | { kind: 'checkout'; parent: number; lsn: unknown; volume: unknown };
  real: number | undefined;
  broken: Wire<never> | undefined;
  closed: boolean;
  readonly settings: { method: string; rest: unknown[] }[];
  readonly subs: Map<number, Sub>;
  autosync: unknown;
  txn: Txn | undefined;
  /** The last graft and local LSN its change listeners heard of (to tell them what they missed). */
  baseline: { graft: string; lsn: number | undefined } | undefined;
  sentTail: Promise<void>;
  doneTail: Promise<void>;
}

type Mode =
  | { op: 'plain'; session: boolean }
  | { op: 'opaque' }
  | { op: 'auto' }
  | { op: 'begin'; locks: boolean }
  | { op: 'stmt' }
  | { op: 'end'; commit: boolean };

/** Methods whose answer is state on the leader (re-made by the next leader only if recorded in time). */
const STATEFUL = new Set(['open', 'checkout', 'subscribe', 'subscribeSyncStatus', 'setAutosync']);

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
  settled: boolean;
}

function deferred(): Deferred {
  const d = { settled: false } as Deferred;
  d.promise = new Promise<void>((resolve, reject) => {
    d.resolve = () => {
      d.settled = true;
      resolve();
    };
    d.reject = (e) => {
      d.settled = true;
      reject(e);
    };
  });
  d.promise.catch(() => undefined);
  return d;
}

export class TabLink implements DatabaseLink {
  readonly api: Comlink.Remote<ScionWorkerApi>;
  readonly running = new Set<CancelToken>();
  readonly #tab: string;
  #transport: Transport | undefined;
  #ready = deferred();
  #epoch = 0;
  #nextId = 1;
  readonly #inflight = new Map<number, { resolve: (w: Wire<unknown>) => void; reject: (e: unknown) => void }>();
  /** Handles and subscription ids given to Database: far above the worker's own small numbers. */
  #nextVirtual = 1_000_001;
  readonly #conns = new Map<number, Conn>();
  readonly #subIds = new Map<number, { conn: Conn | undefined; sub: Sub }>();
  /** Subscriptions of the whole worker (subscribeNetwork): re-made on a new leader. */
  readonly #globalSubs = new Map<number, Sub>();
  /** The last call of each worker-wide setter (setOnline, setOffline): made again on a new leader. */
  readonly #setters = new Map<string, unknown[]>();
  readonly #callbacks = new Map<number, { fn: (...args: unknown[]) => unknown; conn: Conn | undefined; method: string }>();
  #nextCallback = 1;
  #stopped: ScionError | undefined;

  constructor(tab: string) {
    this.#tab = tab;
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
    return this.#transport?.leader;
  }

  async call<T>(request: Promise<Wire<T>>): Promise<T> {
    return unwrap(await request);
  }

  // ── Leaders (called by the coordinator) ─────────────────────────────────────────────────

  /** A leader answered (or this tab now leads): re-create this tab's state there, then let calls through. */
  connect(transport: Transport): void {
    if (this.#stopped || this.#transport?.leader === transport.leader) return;
    this.#lose();
    this.#transport = transport;
    void this.#reestablish(this.#epoch);
  }

  /** The leader is gone (another took the lock, or this tab did): calls under way wait for the next one. */
  leaderLost(): void {
    if (this.#transport === undefined) return;
    this.#lose();
    this.#transport = undefined;
  }

  /** Answers and callbacks from the leader. */
  receive(message: ToTab): void {
    if (message.from !== this.#transport?.leader) return;
    if (message.t === 'reply') {
      const p = this.#inflight.get(message.id);
      if (!p) return;
      this.#inflight.delete(message.id);
      p.resolve(message.wire);
    } else if (message.t === 'callback') {
      const cb = this.#callbacks.get(message.cb);
      if (!cb) return;
      if (cb.method === 'subscribe' && cb.conn) cb.conn.baseline = advance(cb.conn.baseline, message.args[0] as ChangeEvent);
      try {
        const r = cb.fn(...message.args) as Promise<unknown> | undefined;
        if (r && typeof r.then === 'function') r.then(undefined, () => undefined);
      } catch (e) {
        logger.warn('a listener threw: {message}', { message: String(e) });
      }
    }
  }

  /** Every later call fails with `error` (Closed after Scion.close, or why no leader could start). */
  stop(error: ScionError): void {
    if (this.#stopped) return;
    this.#stopped = error;
    this.#lose();
    this.#ready.reject(error);
  }

  // ── Requests ────────────────────────────────────────────────────────────────────────────

  /** What `api.<method>(...args)` does: the ScionWorkerApi call, made on the current leader. */
  request(method: string, args: unknown[]): Promise<Wire<unknown>> {
    const run = async (): Promise<Wire<unknown>> => {
      if (this.#stopped) throw this.#stopped;
      if (CONNECTIONLESS.has(method) || typeof args[0] !== 'number') return this.#connectionless(method, args);
      const conn = this.#conns.get(args[0] as number);
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
    if (method.startsWith('set')) this.#setters.set(method, out);
    try {
      for (;;) {
        const epoch = await this.#whenReady();
        let wire: Wire<unknown>;
        try {
          wire = await this.#rpc({ t: 'call', method, args: out }, epoch);
        } catch (e) {
          if (e === LEADER_LOST) continue;
          throw e;
        }
        if (!wire.ok) return wire;
        if ((method === 'open' || subscribes) && epoch !== this.#epoch) continue; // made on a leader that is gone
        if (method === 'open') {
          const options = { ...((args[1] ?? {}) as OpenOptions) };
          delete options.clone; // the database exists now; it may have moved to another remote since
          return { ok: true, value: this.#addConn(wire.value as DatabaseInfo, { kind: 'open', options }) };
        }
        if (subscribes && typeof wire.value === 'number') {
          const id = this.#nextVirtual++;
          const sub: Sub = { method, token: tokens[0] as number, real: wire.value, args: out };
          this.#globalSubs.set(id, sub);
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
    this.#globalSubs.delete(id);
    found.conn?.subs.delete(id);
    this.#callbacks.delete(found.sub.token);
    const epoch = await this.#whenReady();
    if (found.sub.real === undefined) return { ok: true, value: undefined };
    try {
      return await this.#rpc({ t: 'call', method: 'unsubscribe', args: [found.sub.real] }, epoch);
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
    if (this.#transport?.local || conn.readOnly) return { op: 'plain', session: false };
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
        return this.#opaque(conn, method, rest, markSent);
      case 'auto':
        return this.#auto(conn, method as 'exec' | 'query', rest);
      case 'begin':
        return this.#begin(conn, method as 'exec' | 'query', rest, mode.locks);
      case 'stmt':
        return this.#statement(conn, method, rest, markSent);
      case 'end':
        return this.#end(conn, method as 'exec' | 'query', rest, mode.commit);
    }
  }

  /** A call that is safe to make again: made again on the next leader if its answer is lost. */
  async #plain(conn: Conn, method: string, rest: unknown[], markSent: () => void, session: boolean): Promise<Wire<unknown>> {
    const tokens: number[] = [];
    const out = rest.map((a) => (typeof a === 'function' ? this.#token(a as (...x: unknown[]) => unknown, conn, method, tokens) : a));
    try {
      for (;;) {
        const epoch = await this.#whenReady();
        if (conn.broken) return conn.broken;
        const p = this.#rpc({ t: 'call', method, args: [conn.real, ...out] }, epoch);
        markSent();
        let wire: Wire<unknown>;
        try {
          wire = await p;
        } catch (e) {
          if (e === LEADER_LOST) continue;
          throw e;
        }
        if (wire.ok && epoch !== this.#epoch && STATEFUL.has(method)) continue;
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
        this.#conns.delete(conn.vh);
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

  /** Transaction control the link cannot follow: if the answer is lost, so is the knowledge of what happened. */
  async #opaque(conn: Conn, method: string, rest: unknown[], markSent: () => void): Promise<Wire<unknown>> {
    const epoch = await this.#whenReady();
    if (conn.broken) return conn.broken;
    const p = this.#rpc({ t: 'call', method, args: [conn.real, ...rest] }, epoch);
    markSent();
    try {
      return await p;
    } catch (e) {
      if (e === LEADER_LOST) return unknownOutcome();
      throw e;
    }
  }

  /**
   * An autocommit write from a follower runs as BEGIN IMMEDIATE, the statement, COMMIT — in two
   * requests, so this tab knows the LSN the transaction started at before COMMIT can run. If the leader
   * dies with COMMIT under way, the next leader tells whether the graft was past that LSN when it took
   * over: the write committed (its answer is the one already received) or it runs again.
   */
  async #auto(conn: Conn, method: 'exec' | 'query', rest: unknown[]): Promise<Wire<unknown>> {
    for (;;) {
      const epoch = await this.#whenReady();
      if (conn.broken) return conn.broken;
      if (this.#transport?.local) return this.#plain(conn, method, rest, () => undefined, false);
      const leader = this.#transport?.leader as string;
      let begun: Wire<BeginResult>;
      try {
        begun = (await this.#rpc({
          t: 'begin', handle: conn.real as number, method: 'exec', sql: 'BEGIN IMMEDIATE', locks: true, hold: true,
          first: { method, sql: rest[0] as string, params: rest[1] as never, options: rest[2] as never },
        }, epoch)) as Wire<BeginResult>;
      } catch (e) {
        if (e === LEADER_LOST) continue; // COMMIT was never sent: nothing committed
        throw e;
      }
      if (!begun.ok) return begun;
      const { result, untracked, graft, lsn } = begun.value;
      if (untracked) return result as Wire<unknown>;
      // A failed text changed nothing, however many statements it has (as in one tab, where a script runs in a savepoint).
      const commit = (result as Wire<unknown>).ok;
      let ended: Wire<unknown>;
      try {
        ended = await this.#rpc({ t: 'end', handle: conn.real as number, method: 'exec', sql: commit ? 'COMMIT' : 'ROLLBACK' }, epoch);
      } catch (e) {
        if (e !== LEADER_LOST) throw e;
        if (!commit) return result as Wire<unknown>;
        const outcome = await this.#judge({ leader, graft, lsn });
        if (outcome === 'committed') return result as Wire<unknown>;
        if (outcome === 'unknown') return unknownOutcome();
        continue;
      }
      if (!ended.ok) {
        await this.#rpc({ t: 'call', method: 'exec', args: [conn.real, 'ROLLBACK'] }, epoch).catch(() => undefined);
        return ended;
      }
      return result as Wire<unknown>;
    }
  }

  /** BEGIN of an explicit transaction (db.transaction, or the app's own BEGIN): remembered for replay. */
  async #begin(conn: Conn, method: 'exec' | 'query', rest: unknown[], locks: boolean): Promise<Wire<unknown>> {
    const sql = rest[0] as string;
    for (;;) {
      const epoch = await this.#whenReady();
      if (conn.broken) return conn.broken;
      if (this.#transport?.local) return this.#plain(conn, method, rest, () => undefined, false);
      const leader = this.#transport?.leader as string;
      let begun: Wire<BeginResult>;
      try {
        begun = (await this.#rpc({ t: 'begin', handle: conn.real as number, method, sql, locks, hold: false }, epoch)) as Wire<BeginResult>;
      } catch (e) {
        if (e === LEADER_LOST) continue; // an open transaction dies with its leader: begin again
        throw e;
      }
      if (!begun.ok) return begun;
      conn.txn = { leader, graft: begun.value.graft, lsn: begun.value.lsn, method, sql, locks, log: [], ending: false, aborted: undefined };
      return { ok: true, value: begun.value.begun };
    }
  }

  /** A statement inside an explicit transaction: logged with its answer, for replay. */
  async #statement(conn: Conn, method: string, rest: unknown[], markSent: () => void): Promise<Wire<unknown>> {
    const txn = conn.txn as Txn;
    for (;;) {
      const epoch = await this.#whenReady();
      if (txn.aborted) return failed(txn.aborted);
      if (conn.broken) return conn.broken;
      const tracked = conn.txn === txn && !this.#transport?.local;
      const p = this.#rpc({ t: 'call', method, args: [conn.real, ...rest] }, epoch);
      markSent();
      try {
        const wire = await p;
        if (tracked) txn.log.push({ method, rest, wire });
        return wire;
      } catch (e) {
        if (e === LEADER_LOST) continue; // the new leader replays the log, then this runs again
        throw e;
      }
    }
  }

  /** COMMIT or ROLLBACK of an explicit transaction. A COMMIT whose answer is lost is judged like an autocommit write's. */
  async #end(conn: Conn, method: 'exec' | 'query', rest: unknown[], commit: boolean): Promise<Wire<unknown>> {
    const txn = conn.txn as Txn;
    const empty: Wire<unknown> = { ok: true, value: method === 'query' ? [] : { changes: 0, lastInsertRowid: 0 } };
    let claim: Claim | undefined;
    for (;;) {
      const epoch = await this.#whenReady();
      if (txn.aborted) {
        if (conn.txn === txn) conn.txn = undefined;
        return commit ? failed(txn.aborted) : empty;
      }
      if (conn.broken) return conn.broken;
      try {
        if (claim) {
          const outcome = await this.#judgeOn(claim, epoch);
          if (outcome !== 'absent') {
            if (conn.txn === txn) conn.txn = undefined;
            return outcome === 'committed' ? empty : unknownOutcome();
          }
          // It did not commit: run the transaction again on this leader, then COMMIT again.
          claim = undefined;
          txn.ending = false;
          await this.#replay(conn, txn, epoch);
          continue;
        }
        if (conn.txn !== txn || this.#transport?.local) {
          // This tab leads now: the replayed transaction is a plain one on its own worker.
          if (conn.txn === txn) conn.txn = undefined;
          return await this.#plain(conn, method, rest, () => undefined, false);
        }
        txn.ending = true;
        const sent: Claim = { leader: txn.leader, graft: txn.graft, lsn: txn.lsn };
        let wire: Wire<unknown>;
        try {
          wire = await this.#rpc({ t: 'end', handle: conn.real as number, method, sql: rest[0] as string }, epoch);
        } catch (e) {
          if (e === LEADER_LOST) {
            if (!commit) {
              // The transaction died with its leader: rolled back either way.
              if (conn.txn === txn) conn.txn = undefined;
              return empty;
            }
            claim = sent;
          }
          throw e;
        }
        txn.ending = false;
        // After a failed COMMIT the transaction may still be open: the app's ROLLBACK ends it.
        if ((wire.ok || !commit) && conn.txn === txn) conn.txn = undefined;
        return wire;
      } catch (e) {
        if (e === LEADER_LOST) continue;
        throw e;
      }
    }
  }

  /** Runs the transaction's BEGIN and logged statements again; a different answer aborts it (ConcurrentWrite). */
  async #replay(conn: Conn, txn: Txn, epoch: number): Promise<void> {
    const begun = (await this.#rpc({ t: 'begin', handle: conn.real as number, method: txn.method, sql: txn.sql, locks: txn.locks, hold: false }, epoch)) as Wire<BeginResult>;
    if (!begun.ok) {
      txn.aborted = replayFailed(`BEGIN failed: ${begun.error.message}`);
      return;
    }
    txn.leader = this.#transport?.leader as string;
    txn.graft = begun.value.graft;
    txn.lsn = begun.value.lsn;
    for (const entry of txn.log) {
      const wire = await this.#rpc({ t: 'call', method: entry.method, args: [conn.real, ...entry.rest] }, epoch);
      if (!sameWire(wire, entry.wire)) {
        await this.#rpc({ t: 'call', method: 'exec', args: [conn.real, 'ROLLBACK'] }, epoch);
        txn.aborted = replayFailed('a statement answered differently the second time (another tab wrote in between)');
        return;
      }
    }
  }

  /** Asks the current leader about a claim, through as many leader changes as it takes. */
  async #judge(claim: Claim): Promise<ClaimOutcome> {
    for (;;) {
      const epoch = await this.#whenReady();
      try {
        return await this.#judgeOn(claim, epoch);
      } catch (e) {
        if (e !== LEADER_LOST) throw e;
      }
    }
  }

  async #judgeOn(claim: Claim, epoch: number): Promise<ClaimOutcome> {
    const wire = await this.#rpc({ t: 'resolve', claim }, epoch);
    return wire.ok ? (wire.value as ClaimOutcome) : 'unknown';
  }

  // ── Re-creating this tab's state on a new leader ────────────────────────────────────────

  async #reestablish(epoch: number): Promise<void> {
    try {
      for (const conn of [...this.#conns.values()]) {
        if (!conn.closed) await this.#reopen(conn, epoch);
      }
      for (const [method, args] of this.#setters) await this.#rpc({ t: 'call', method, args }, epoch);
      for (const sub of this.#globalSubs.values()) {
        const r = await this.#rpc({ t: 'call', method: sub.method, args: sub.args ?? [] }, epoch);
        sub.real = r.ok ? (r.value as number) : undefined;
      }
      if (epoch !== this.#epoch) return;
      this.#ready.resolve();
      void this.#catchUp(epoch);
    } catch (e) {
      if (e === LEADER_LOST) return; // a newer leader took over meanwhile; its own pass runs
      logger.error('could not re-create this tab\'s connections on the new leader: {message}', { message: String(e) });
      if (epoch === this.#epoch) this.#ready.resolve();
    }
  }

  async #reopen(conn: Conn, epoch: number): Promise<void> {
    const opened = await this.#openOn(conn, epoch);
    if (!opened.ok) {
      conn.real = undefined;
      conn.broken = opened;
      return;
    }
    conn.real = opened.value.handle;
    conn.broken = undefined;
    for (const s of conn.settings) await this.#rpc({ t: 'call', method: s.method, args: [conn.real, ...s.rest] }, epoch);
    for (const sub of conn.subs.values()) {
      const r = await this.#rpc({ t: 'call', method: sub.method, args: [conn.real, { scionCallback: sub.token }] }, epoch);
      sub.real = r.ok ? (r.value as number) : undefined;
    }
    if (conn.autosync !== undefined) await this.#rpc({ t: 'call', method: 'setAutosync', args: [conn.real, conn.autosync] }, epoch);
    const txn = conn.txn;
    if (txn && !txn.ending && !txn.aborted) {
      await this.#replay(conn, txn, epoch);
      if (this.#transport?.local) conn.txn = undefined; // from now on, a plain transaction on this tab's worker
    }
  }

  async #openOn(conn: Conn, epoch: number): Promise<Wire<DatabaseInfo>> {
    if (conn.origin.kind === 'open') {
      return (await this.#rpc({ t: 'call', method: 'open', args: [conn.name, conn.origin.options] }, epoch)) as Wire<DatabaseInfo>;
    }
    const parent = this.#conns.get(conn.origin.parent);
    if (parent && !parent.closed && parent.real !== undefined) {
      return (await this.#rpc({ t: 'call', method: 'checkout', args: [parent.real, conn.origin.lsn, conn.origin.volume] }, epoch)) as Wire<DatabaseInfo>;
    }
    // The database it was checked out from is closed: check out through a connection of its own.
    const temp = (await this.#rpc({ t: 'call', method: 'open', args: [conn.name, { create: false, autosync: false }] }, epoch)) as Wire<DatabaseInfo>;
    if (!temp.ok) return temp;
    const info = (await this.#rpc({ t: 'call', method: 'checkout', args: [temp.value.handle, conn.origin.lsn, conn.origin.volume] }, epoch)) as Wire<DatabaseInfo>;
    await this.#rpc({ t: 'call', method: 'close', args: [temp.value.handle] }, epoch);
    return info;
  }

  /** Change listeners may have missed commits between the leaders: tell them where the database is now. */
  async #catchUp(epoch: number): Promise<void> {
    for (const conn of this.#conns.values()) {
      const listeners = [...conn.subs.values()].filter((s) => s.method === 'subscribe');
      if (conn.closed || conn.real === undefined || listeners.length === 0) continue;
      try {
        const status = await this.#rpc({ t: 'call', method: 'status', args: [conn.real] }, epoch);
        if (!status.ok) continue;
        const { local, localLsn } = status.value as DatabaseStatus;
        const before = conn.baseline;
        if (before && before.graft === local && before.lsn === localLsn) continue;
        const event: ChangeEvent = { name: conn.name, reason: before && before.graft !== local ? 'graft' : 'commit', graft: local, lsn: localLsn };
        for (const s of listeners) {
          this.receive({ t: 'callback', from: this.#transport?.leader as string, cb: s.token, args: [event] });
        }
      } catch (e) {
        if (e === LEADER_LOST) return;
      }
    }
  }

  // ── Plumbing ────────────────────────────────────────────────────────────────────────────

  #addConn(info: DatabaseInfo, origin: Conn['origin']): DatabaseInfo {
    const vh = this.#nextVirtual++;
    this.#conns.set(vh, {
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

  /** Resolves with the epoch once a leader is connected and this tab's state is re-created on it. */
  async #whenReady(): Promise<number> {
    for (;;) {
      if (this.#stopped) throw this.#stopped;
      const ready = this.#ready;
      await ready.promise;
      if (ready === this.#ready && !this.#stopped) return this.#epoch;
    }
  }

  #rpc(body: Body, epoch: number): Promise<Wire<unknown>> {
    const transport = this.#transport;
    if (!transport || epoch !== this.#epoch) return Promise.reject(LEADER_LOST);
    const id = this.#nextId++;
    return new Promise<Wire<unknown>>((resolve, reject) => {
      this.#inflight.set(id, { resolve, reject });
      try {
        transport.send({ ...body, from: this.#tab, to: transport.leader, id } as ToHost);
      } catch (e) {
        // Not cloneable: answered here, as the worker would answer a bad argument.
        this.#inflight.delete(id);
        resolve(failed(new ScionError('InvalidInput', `This call cannot be sent to the leader tab: ${(e as Error).message}`)));
      }
    });
  }

  #lose(): void {
    this.#epoch++;
    if (this.#ready.settled && !this.#stopped) this.#ready = deferred();
    const lost = [...this.#inflight.values()];
    this.#inflight.clear();
    for (const p of lost) p.reject(this.#stopped ?? LEADER_LOST);
  }
}

function advance(before: Conn['baseline'], e: ChangeEvent | undefined): Conn['baseline'] {
  if (!e || typeof e !== 'object') return before;
  if (e.reason === 'commit') return { graft: e.graft, lsn: e.lsn };
  if (e.reason === 'graft') return { graft: e.graft, lsn: undefined };
  return before;
}

function unknownOutcome(): Wire<never> {
  return failed(new ScionError(
    'OutcomeUnknown',
    'The tab that ran the database closed while this write was under way, and whether it committed cannot be told (the next leader closed too, or the SQL controls transactions itself). Check the data before running it again.',
  ));
}

function replayFailed(why: string): ScionError {
  return new ScionError(
    'ConcurrentWrite',
    `The tab that ran the database closed during this transaction and it could not be carried over to the next one (${why}). It was rolled back: retry it.`,
    { replayed: false },
  );
}

/** Same answer: equal values, or errors with the same code and message. */
function sameWire(a: Wire<unknown>, b: Wire<unknown>): boolean {
  if (a.ok !== b.ok) return false;
  if (!a.ok || !b.ok) return !a.ok && !b.ok && a.error.code === b.error.code && a.error.message === b.error.message;
  return sameValue(a.value, b.value);
}

