// What a new leader needs to take over a tab's work, and the pass that re-creates it there: the
// connections each Database opened, their settings, listeners and autosync, the worker-wide setters and
// subscriptions, and an open transaction (replayed by tab-writes.ts).
import { getLogger } from '@logtape/logtape';
import type { ChangeEvent, DatabaseInfo, DatabaseStatus, OpenOptions, Wire } from '../protocol/index.ts';
import { LEADER_LOST, type LeaderLine } from './tab-transport.ts';
import type { WriteReplay, WritingConn } from './tab-writes.ts';

const logger = getLogger(['scion', 'client', 'tabs']);

export interface Sub {
  readonly method: string;
  readonly token: number;
  real: number | undefined;
  /** For a worker-wide subscription: its arguments (the callback as a token). */
  readonly args?: unknown[];
}

/** A connection a Database opened through this tab, as a new leader must re-create it. */
export interface Conn extends WritingConn {
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
  /** The last graft and local LSN its change listeners heard of (to tell them what they missed). */
  baseline: { graft: string; lsn: number | undefined } | undefined;
  sentTail: Promise<void>;
  doneTail: Promise<void>;
}

/** Everything this tab made on the leader that outlives one call. */
export interface TabState {
  /** By the virtual handle Database holds. */
  readonly conns: Map<number, Conn>;
  /** Subscriptions of the whole worker (subscribeNetwork), by the id Database holds. */
  readonly globalSubs: Map<number, Sub>;
  /** The last call of each worker-wide setter (setOnline, setOffline). */
  readonly setters: Map<string, unknown[]>;
}

export class Handover {
  readonly #line: LeaderLine;
  readonly #writes: WriteReplay<Conn>;
  readonly #state: TabState;
  readonly #notify: (token: number, event: ChangeEvent) => void;

  /** `notify` calls a change listener as if the leader had (to tell it what it missed). */
  constructor(line: LeaderLine, writes: WriteReplay<Conn>, state: TabState, notify: (token: number, event: ChangeEvent) => void) {
    this.#line = line;
    this.#writes = writes;
    this.#state = state;
    this.#notify = notify;
  }

  /** Re-creates this tab's state on the leader of `epoch`, then lets calls through. */
  async reestablish(epoch: number): Promise<void> {
    try {
      for (const conn of [...this.#state.conns.values()]) {
        if (!conn.closed) await this.#reopen(conn, epoch);
      }
      for (const [method, args] of this.#state.setters) await this.#line.rpc({ t: 'call', method, args }, epoch);
      for (const sub of this.#state.globalSubs.values()) {
        const r = await this.#line.rpc({ t: 'call', method: sub.method, args: sub.args ?? [] }, epoch);
        sub.real = r.ok ? (r.value as number) : undefined;
      }
      if (!this.#line.open(epoch)) return;
      void this.#catchUp(epoch);
    } catch (e) {
      if (e === LEADER_LOST) return; // a newer leader took over meanwhile; its own pass runs
      logger.error('could not re-create this tab\'s connections on the new leader: {message}', { message: String(e) });
      this.#line.open(epoch);
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
    for (const s of conn.settings) await this.#line.rpc({ t: 'call', method: s.method, args: [conn.real, ...s.rest] }, epoch);
    for (const sub of conn.subs.values()) {
      const r = await this.#line.rpc({ t: 'call', method: sub.method, args: [conn.real, { scionCallback: sub.token }] }, epoch);
      sub.real = r.ok ? (r.value as number) : undefined;
    }
    if (conn.autosync !== undefined) await this.#line.rpc({ t: 'call', method: 'setAutosync', args: [conn.real, conn.autosync] }, epoch);
    const txn = conn.txn;
    if (txn && !txn.ending && !txn.aborted) {
      await this.#writes.replay(conn, txn, epoch);
      if (this.#line.local) conn.txn = undefined; // from now on, a plain transaction on this tab's worker
    }
  }

  async #openOn(conn: Conn, epoch: number): Promise<Wire<DatabaseInfo>> {
    const rpc = (method: string, args: unknown[]) => this.#line.rpc({ t: 'call', method, args }, epoch) as Promise<Wire<DatabaseInfo>>;
    if (conn.origin.kind === 'open') return rpc('open', [conn.name, conn.origin.options]);
    const parent = this.#state.conns.get(conn.origin.parent);
    if (parent && !parent.closed && parent.real !== undefined) return rpc('checkout', [parent.real, conn.origin.lsn, conn.origin.volume]);
    // The database it was checked out from is closed: check out through a connection of its own.
    const temp = await rpc('open', [conn.name, { create: false, autosync: false }]);
    if (!temp.ok) return temp;
    const info = await rpc('checkout', [temp.value.handle, conn.origin.lsn, conn.origin.volume]);
    await rpc('close', [temp.value.handle]);
    return info;
  }

  /** Change listeners may have missed commits between the leaders: tell them where the database is now. */
  async #catchUp(epoch: number): Promise<void> {
    for (const conn of this.#state.conns.values()) {
      const listeners = [...conn.subs.values()].filter((s) => s.method === 'subscribe');
      if (conn.closed || conn.real === undefined || listeners.length === 0) continue;
      try {
        const status = await this.#line.rpc({ t: 'call', method: 'status', args: [conn.real] }, epoch);
        if (!status.ok) continue;
        const { local, localLsn } = status.value as DatabaseStatus;
        const before = conn.baseline;
        if (before && before.graft === local && before.lsn === localLsn) continue;
        const event: ChangeEvent = { name: conn.name, reason: before && before.graft !== local ? 'graft' : 'commit', graft: local, lsn: localLsn };
        for (const s of listeners) this.#notify(s.token, event);
      } catch (e) {
        if (e === LEADER_LOST) return;
      }
    }
  }
}

/** Where a change event leaves a connection's listeners. */
export function advance(before: Conn['baseline'], e: ChangeEvent | undefined): Conn['baseline'] {
  if (!e || typeof e !== 'object') return before;
  if (e.reason === 'commit') return { graft: e.graft, lsn: e.lsn };
  if (e.reason === 'graft') return { graft: e.graft, lsn: undefined };
  return before;
}
