// A follower's writes, made so that a leader change settles each one: an autocommit write either is known
// to have committed or runs again, an open transaction is replayed on the next leader, and a write whose
// fate cannot be told fails with OutcomeUnknown (see README "Several tabs").
import { ScionError } from '../core/index.ts';
import type { Wire } from '../protocol/index.ts';
import { failed } from '../protocol/index.ts';
import { sameValue } from './same-value.ts';
import type { BeginResult, Claim, ClaimOutcome } from './tab-protocol.ts';
import { LEADER_LOST, type Body, type LeaderLine } from './tab-transport.ts';

/** A transaction opened by this tab, kept so it can be replayed on a new leader. */
export interface Txn {
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

/** What write replay needs of a connection: its handle on the leader, and its open transaction. */
export interface WritingConn {
  readonly real: number | undefined;
  readonly broken: Wire<never> | undefined;
  txn: Txn | undefined;
}

/** Runs a call as a plain one (this tab leads: nothing to track). */
export type PlainCall<C> = (conn: C, method: string, rest: unknown[]) => Promise<Wire<unknown>>;

export class WriteReplay<C extends WritingConn> {
  readonly #line: LeaderLine;
  readonly #plain: PlainCall<C>;

  constructor(line: LeaderLine, plain: PlainCall<C>) {
    this.#line = line;
    this.#plain = plain;
  }

  /** Transaction control the link cannot follow: if the answer is lost, so is the knowledge of what happened. */
  async opaque(conn: C, method: string, rest: unknown[], markSent: () => void): Promise<Wire<unknown>> {
    const epoch = await this.#line.whenReady();
    if (conn.broken) return conn.broken;
    const p = this.#line.rpc({ t: 'call', method, args: [conn.real, ...rest] }, epoch);
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
  async auto(conn: C, method: 'exec' | 'query', rest: unknown[]): Promise<Wire<unknown>> {
    for (;;) {
      const at = await this.#open(conn, method, rest, (handle) => ({
        t: 'begin', handle, method: 'exec', sql: 'BEGIN IMMEDIATE', locks: true, hold: true,
        first: { method, sql: rest[0] as string, params: rest[1] as never, options: rest[2] as never },
      }));
      if ('wire' in at) return at.wire;
      const { epoch, leader } = at;
      const { result, untracked, graft, lsn } = at.begun;
      if (untracked) return result as Wire<unknown>;
      // A failed text changed nothing, however many statements it has (as in one tab, where a script runs in a savepoint).
      const commit = (result as Wire<unknown>).ok;
      let ended: Wire<unknown>;
      try {
        ended = await this.#line.rpc({ t: 'end', handle: conn.real as number, method: 'exec', sql: commit ? 'COMMIT' : 'ROLLBACK' }, epoch);
      } catch (e) {
        if (e !== LEADER_LOST) throw e;
        if (!commit) return result as Wire<unknown>;
        const outcome = await this.#judge({ leader, graft, lsn });
        if (outcome === 'committed') return result as Wire<unknown>;
        if (outcome === 'unknown') return unknownOutcome();
        continue;
      }
      if (!ended.ok) {
        await this.#line.rpc({ t: 'call', method: 'exec', args: [conn.real, 'ROLLBACK'] }, epoch).catch(() => undefined);
        return ended;
      }
      return result as Wire<unknown>;
    }
  }

  /** BEGIN of an explicit transaction (db.transaction, or the app's own BEGIN): remembered for replay. */
  async begin(conn: C, method: 'exec' | 'query', rest: unknown[], locks: boolean): Promise<Wire<unknown>> {
    const sql = rest[0] as string;
    const at = await this.#open(conn, method, rest, (handle) => ({ t: 'begin', handle, method, sql, locks, hold: false }));
    if ('wire' in at) return at.wire;
    conn.txn = { leader: at.leader, graft: at.begun.graft, lsn: at.begun.lsn, method, sql, locks, log: [], ending: false, aborted: undefined };
    return { ok: true, value: at.begun.begun };
  }

  /** A statement inside an explicit transaction: logged with its answer, for replay. */
  async statement(conn: C, method: string, rest: unknown[], markSent: () => void): Promise<Wire<unknown>> {
    const txn = conn.txn as Txn;
    for (;;) {
      const epoch = await this.#line.whenReady();
      if (txn.aborted) return failed(txn.aborted);
      if (conn.broken) return conn.broken;
      const tracked = conn.txn === txn && !this.#line.local;
      const p = this.#line.rpc({ t: 'call', method, args: [conn.real, ...rest] }, epoch);
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
  async end(conn: C, method: 'exec' | 'query', rest: unknown[], commit: boolean): Promise<Wire<unknown>> {
    const txn = conn.txn as Txn;
    const empty: Wire<unknown> = { ok: true, value: method === 'query' ? [] : { changes: 0, lastInsertRowid: 0 } };
    let claim: Claim | undefined;
    for (;;) {
      const epoch = await this.#line.whenReady();
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
          await this.replay(conn, txn, epoch);
          continue;
        }
        if (conn.txn !== txn || this.#line.local) {
          // This tab leads now: the replayed transaction is a plain one on its own worker.
          if (conn.txn === txn) conn.txn = undefined;
          return await this.#plain(conn, method, rest);
        }
        txn.ending = true;
        const sent: Claim = { leader: txn.leader, graft: txn.graft, lsn: txn.lsn };
        let wire: Wire<unknown>;
        try {
          wire = await this.#line.rpc({ t: 'end', handle: conn.real as number, method, sql: rest[0] as string }, epoch);
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
  async replay(conn: C, txn: Txn, epoch: number): Promise<void> {
    const begun = (await this.#line.rpc({ t: 'begin', handle: conn.real as number, method: txn.method, sql: txn.sql, locks: txn.locks, hold: false }, epoch)) as Wire<BeginResult>;
    if (!begun.ok) {
      txn.aborted = replayFailed(`BEGIN failed: ${begun.error.message}`);
      return;
    }
    txn.leader = this.#line.leader as string;
    txn.graft = begun.value.graft;
    txn.lsn = begun.value.lsn;
    for (const entry of txn.log) {
      const wire = await this.#line.rpc({ t: 'call', method: entry.method, args: [conn.real, ...entry.rest] }, epoch);
      if (!sameWire(wire, entry.wire)) {
        await this.#line.rpc({ t: 'call', method: 'exec', args: [conn.real, 'ROLLBACK'] }, epoch);
        txn.aborted = replayFailed('a statement answered differently the second time (another tab wrote in between)');
        return;
      }
    }
  }

  /**
   * BEGIN on the current leader (on the connection's handle there), sent again on the next one if that
   * leader is lost (an open transaction dies with its leader). Or the answer itself if there is nothing to track: a broken connection, or this tab leads.
   */
  async #open(conn: C, method: string, rest: unknown[], request: (handle: number) => Extract<Body, { t: 'begin' }>): Promise<{ epoch: number; leader: string; begun: BeginResult } | { wire: Wire<unknown> }> {
    for (;;) {
      const epoch = await this.#line.whenReady();
      if (conn.broken) return { wire: conn.broken };
      if (this.#line.local) return { wire: await this.#plain(conn, method, rest) };
      const leader = this.#line.leader as string;
      let begun: Wire<BeginResult>;
      try {
        begun = (await this.#line.rpc(request(conn.real as number), epoch)) as Wire<BeginResult>;
      } catch (e) {
        if (e === LEADER_LOST) continue;
        throw e;
      }
      if (!begun.ok) return { wire: begun };
      return { epoch, leader, begun: begun.value };
    }
  }

  /** Asks the current leader about a claim, through as many leader changes as it takes. */
  async #judge(claim: Claim): Promise<ClaimOutcome> {
    for (;;) {
      const epoch = await this.#line.whenReady();
      try {
        return await this.#judgeOn(claim, epoch);
      } catch (e) {
        if (e !== LEADER_LOST) throw e;
      }
    }
  }

  async #judgeOn(claim: Claim, epoch: number): Promise<ClaimOutcome> {
    const wire = await this.#line.rpc({ t: 'resolve', claim }, epoch);
    return wire.ok ? (wire.value as ClaimOutcome) : 'unknown';
  }
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
