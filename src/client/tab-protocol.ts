// Messages between the tabs of one origin that share a Scion directory (see tabs.ts). They travel on
// BroadcastChannels, which structured-clone them: plain data only; a listener function crosses as a
// callback id. Every worker answer keeps its Wire envelope, so error codes and details survive.
import type { SqlOptions, SqlParams, Wire, WorkerInfo } from '../protocol/index.ts';

/** Channel and lock names of one directory. */
export function tabNames(directory: string) {
  const base = `scion:${directory}`;
  return {
    /** Web Lock held by the leader for its life; every other tab waits in its queue. */
    leaderLock: base,
    /** Web Lock each tab (each Scion instance) holds for its life: the leader learns of a tab's end by queueing on it. */
    tabLock: (tab: string) => `${base}:tab:${tab}`,
    /** Requests to the leader (only the leader listens). */
    host: `${base}:host`,
    /** Answers and callbacks to one tab. */
    inbox: (tab: string) => `${base}:inbox:${tab}`,
    /** Leader announcements, heard by every tab. */
    announce: `${base}:leader`,
    /** localStorage key: the id of the last leader that started, so its successor can judge claims about it. */
    lastLeader: `${base}:last-leader`,
  };
}

/**
 * A commit whose answer was lost with its leader: the transaction held the write lock from local LSN
 * `lsn` of graft `graft` under leader `leader`, so it committed if and only if that graft was past `lsn`
 * when the next leader opened the stores.
 */
export interface Claim {
  leader: string;
  graft: string;
  lsn: number;
}

export type ClaimOutcome = 'committed' | 'absent' | 'unknown';

/** A statement run right after BEGIN, in the same request (an autocommit write as a tracked transaction). */
export interface FirstStatement {
  method: 'exec' | 'query';
  sql: string;
  params?: SqlParams | undefined;
  options?: SqlOptions | undefined;
}

/** The answer to `begin`: where the transaction started, and the first statement's answer. */
export interface BeginResult {
  /** The BEGIN statement's own answer value (what exec or query returns for it). */
  begun: unknown;
  lsn: number;
  graft: string;
  /** With `first`: its answer (the transaction stays open either way; the client ends it). */
  result?: Wire<unknown> | undefined;
  /** A transaction was open already (the app's own BEGIN in an opaque text): `first` ran untracked, nothing to end. */
  untracked?: boolean | undefined;
}

/** Requests: `from` is the sender's tab id, `to` the leader it is meant for (others drop it). */
export type ToHost =
  | { t: 'hello'; from: string }
  | { t: 'bye'; from: string; to: string }
  /** A ScionWorkerApi method (handles already the leader's). */
  | { t: 'call'; from: string; to: string; id: number; method: string; args: unknown[] }
  /** BEGIN on `handle`, then the graft's LSN; `hold`: no other connection's request on the database runs until `end`. */
  | { t: 'begin'; from: string; to: string; id: number; handle: number; method: 'exec' | 'query'; sql: string; locks: boolean; hold: boolean; first?: FirstStatement | undefined }
  /** COMMIT or ROLLBACK on `handle`; releases the hold. */
  | { t: 'end'; from: string; to: string; id: number; handle: number; method: 'exec' | 'query'; sql: string }
  | { t: 'resolve'; from: string; to: string; id: number; claim: Claim };

export type ToTab =
  | { t: 'welcome'; from: string; info: WorkerInfo }
  | { t: 'reply'; from: string; id: number; wire: Wire<unknown> }
  | { t: 'callback'; from: string; cb: number; args: unknown[] };

export type Announcement = { t: 'leader-up'; leader: string };

/**
 * ScionWorkerApi methods whose first argument is not a connection handle. Every other method names its
 * connection first (a method added to ScionWorkerApi whose first argument is not a handle must be listed here).
 */
export const CONNECTIONLESS: ReadonlySet<string> = new Set(['init', 'open', 'tags', 'stats', 'deleteDatabase', 'deleteAbandoned', 'unsubscribe', 'setOnline', 'shutdown']);

/** Marks a listener argument sent as an id; the leader calls back with `{ t: 'callback', cb }`. */
export interface CallbackToken {
  scionCallback: number;
}

export function isCallbackToken(x: unknown): x is CallbackToken {
  return typeof x === 'object' && x !== null && typeof (x as CallbackToken).scionCallback === 'number';
}

/** The parts of BroadcastChannel the coordination uses (tests substitute an in-process bus). */
export interface Channel {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((ev: MessageEvent) => void) | null;
}

/** The parts of LockManager used (tests substitute a fake). */
export interface Locks {
  request<T>(name: string, options: LockOptions, callback: (lock: Lock | null) => Promise<T> | T): Promise<T>;
}
