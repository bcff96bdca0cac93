// Main thread of e2e/pages/tabs.html (e2e/multitab.e2e.ts): one Scion instance per page on a shared
// OPFS directory, so the pages of a browser context elect a leader and share its DB worker. Writers run
// inside the page (so they keep going while the test closes another page); each acknowledged row is
// reported to the test through `window.scionAck` when the test exposes it.
import { isScionError, Scion, type ChangeEvent, type Database, type ScionRole, type Statement } from '../../src/client/index.ts';
import { outcome, sleep, type Outcome } from './outcome.ts';

export type { Outcome } from './outcome.ts';

interface Writer {
  acked: string[];
  errors: { uid: string; code?: string; message: string }[];
  /** Longest wait for one write (ms): a leader change shows here. */
  maxMs: number;
  slowest: string | undefined;
  done: boolean;
}

declare global {
  interface Window {
    scionTabs: typeof api;
    /** Exposed by the test (page.exposeFunction) to hear about each acknowledged row as it happens. */
    scionAck?: (uid: string) => Promise<void>;
  }
}

let scion: Scion | undefined;
let db: Database | undefined;
let pusher: { stop: boolean; pushes: number; errors: string[]; done: Promise<void> } | undefined;
const config = fetch('/scion-config.json').then((r) => r.json() as Promise<{ presignUrl: string; token: string }>);
const changes: ChangeEvent[] = [];
const roles: { role: ScionRole; at: number }[] = [];
const writers = new Map<string, Writer>();

function must(): Database {
  if (!db) throw new Error('open first');
  return db;
}



/** Bank transfers of one page: what resolved, what was retried (ConcurrentWrite: nothing committed), what failed otherwise. */
interface Transfers {
  acked: string[];
  retries: number;
  errors: { id: string; code?: string; message: string }[];
  done: boolean;
}
const transfers = new Map<string, Transfers>();
const background = new Map<string, { done: boolean; ms: number; seen?: number; outcome?: Outcome<unknown> }>();
const statements = new Map<string, Statement>();
const watches = new Map<string, { deliveries: unknown[]; errors: string[] }>();

const api = {
  open: (directory: string, name: string, options: { remote?: boolean } = {}) =>
    outcome(async () => {
      const { presignUrl, token } = await config;
      scion = await Scion.open({ directory, ...(options.remote ? { remote: { presignUrl, token } } : {}) });
      scion.onRoleChange((role) => roles.push({ role, at: Date.now() }));
      db = await scion.open(name);
      db.onChange((e) => changes.push(e));
      return { role: scion.role, info: scion.info };
    }),

  role: () => scion?.role,
  roles: () => roles,

  exec: (sql: string, params?: unknown[]) => outcome(() => must().exec(sql, params as never)),
  query: (sql: string, params?: unknown[]) => outcome(() => must().query(sql, params as never)),
  queryArrays: (sql: string, params?: unknown[]) => outcome(() => must().query(sql, params as never, { rowMode: 'array' })),
  status: () => outcome(() => must().status()),

  prepare: (key: string, sql: string) =>
    outcome(async () => {
      const stmt = await must().prepare(sql);
      statements.set(key, stmt);
      return { columns: stmt.columns, declaredTypes: stmt.declaredTypes, readOnly: stmt.readOnly };
    }),
  statement: (key: string, method: 'all' | 'get' | 'run', params?: unknown[]) =>
    outcome(async () => {
      const stmt = statements.get(key);
      if (!stmt) throw new Error(`no statement ${key}`);
      return stmt[method](params as never);
    }),

  /** Starts a live query; its deliveries land in `watched(id)`. */
  watch: (id: string, sql: string) => {
    const w = { deliveries: [] as unknown[], errors: [] as string[] };
    watches.set(id, w);
    must().watch(sql, [], (rows) => void w.deliveries.push(rows), { onError: (e) => void w.errors.push(String(e)) });
  },
  watched: (id: string) => watches.get(id),

  /** Starts iterating `sql` in batches of `batchSize`, sleeping `pauseMs` per row; the rows seen and the outcome land in `background(id)`. */
  startIterate: (id: string, sql: string, batchSize: number, pauseMs: number) => {
    const started = performance.now();
    const entry: { done: boolean; ms: number; seen: number; outcome?: Outcome<unknown> } = { done: false, ms: 0, seen: 0 };
    background.set(id, entry);
    void outcome(async () => {
      for await (const _ of must().iterate(sql, [], { batchSize })) {
        entry.seen++;
        await sleep(pauseMs);
      }
      return entry.seen;
    }).then((o) => {
      entry.outcome = o;
      entry.ms = Math.round(performance.now() - started);
      entry.done = true;
    });
  },
  push: () => outcome(() => must().push()),

  /** Change events so far: how many, and the LSNs of the commits among them. */
  changes: () => ({ count: changes.length, commitLsns: changes.filter((e) => e.reason === 'commit').map((e) => e.lsn as number) }),

  /** Starts inserting `count` rows `${prefix}${i}`, one autocommit INSERT each, `pauseMs` apart; returns at once. */
  startWriter: (prefix: string, count: number, pauseMs: number) => {
    const w: Writer = { acked: [], errors: [], maxMs: 0, slowest: undefined, done: false };
    writers.set(prefix, w);
    void (async () => {
      for (let i = 0; i < count; i++) {
        const uid = `${prefix}${i}`;
        const started = performance.now();
        try {
          await must().exec('INSERT INTO t(uid, tab) VALUES (?, ?)', [uid, prefix]);
          w.acked.push(uid);
          void window.scionAck?.(uid).catch(() => undefined);
        } catch (e) {
          w.errors.push({ uid, message: (e as Error).message, ...(isScionError(e) ? { code: e.code } : {}) });
        }
        const ms = performance.now() - started;
        if (ms > w.maxMs) {
          w.maxMs = Math.round(ms);
          w.slowest = uid;
        }
        await sleep(pauseMs);
      }
      w.done = true;
    })();
  },

  /**
   * Starts one transaction of `count` INSERTs `${prefix}${i}`, `pauseMs` apart inside it (so another page
   * can close meanwhile); the outcome lands in the writer's state.
   */
  startTransaction: (prefix: string, count: number, pauseMs: number) => {
    const w: Writer = { acked: [], errors: [], maxMs: 0, slowest: undefined, done: false };
    writers.set(prefix, w);
    const started = performance.now();
    void must()
      .transaction(async (tx) => {
        for (let i = 0; i < count; i++) {
          await tx.exec('INSERT INTO t(uid, tab) VALUES (?, ?)', [`${prefix}${i}`, prefix]);
          await sleep(pauseMs);
        }
      })
      .then(
        () => {
          for (let i = 0; i < count; i++) w.acked.push(`${prefix}${i}`);
        },
        (e: unknown) => w.errors.push({ uid: prefix, message: (e as Error).message, ...(isScionError(e) ? { code: e.code } : {}) }),
      )
      .finally(() => {
        w.maxMs = Math.round(performance.now() - started);
        w.done = true;
      });
  },

  writer: (prefix: string) => writers.get(prefix),

  /**
   * Starts `count` bank transfers `${prefix}${i}`, each one db.transaction(): read two balances, move an
   * amount, record the transfer. A ConcurrentWrite is retried (it committed nothing); returns at once.
   */
  startTransfers: (prefix: string, count: number, accounts: number) => {
    const t: Transfers = { acked: [], retries: 0, errors: [], done: false };
    transfers.set(prefix, t);
    void (async () => {
      for (let i = 0; i < count; i++) {
        const id = `${prefix}${i}`;
        const from = 1 + Math.floor(Math.random() * accounts);
        const to = 1 + ((from + Math.floor(Math.random() * (accounts - 1))) % accounts);
        for (;;) {
          try {
            await must().transaction(async (tx) => {
              const [a] = await tx.query<{ balance: number }>('SELECT balance FROM account WHERE id = ?', [from]);
              await tx.query('SELECT balance FROM account WHERE id = ?', [to]);
              const amount = Math.min(a?.balance ?? 0, 1 + Math.floor(Math.random() * 50));
              await sleep(Math.random() * 20);
              await tx.exec('UPDATE account SET balance = balance - ? WHERE id = ?', [amount, from]);
              await tx.exec('UPDATE account SET balance = balance + ? WHERE id = ?', [amount, to]);
              await tx.exec('INSERT INTO transfer(id, amount) VALUES (?, ?)', [id, amount]);
            });
            t.acked.push(id);
            void window.scionAck?.(id).catch(() => undefined);
            break;
          } catch (e) {
            if (isScionError(e, 'ConcurrentWrite')) {
              t.retries++;
              await sleep(Math.random() * 10);
              continue;
            }
            t.errors.push({ id, message: (e as Error).message, ...(isScionError(e) ? { code: e.code } : {}) });
            break;
          }
        }
        await sleep(Math.random() * 20);
      }
      t.done = true;
    })();
  },

  transfers: (prefix: string) => transfers.get(prefix),

  /** Starts a query without waiting for it; its outcome and duration land in `background(id)`. */
  startQuery: (id: string, sql: string) => {
    const started = performance.now();
    const entry: { done: boolean; ms: number; outcome?: Outcome<unknown> } = { done: false, ms: 0 };
    background.set(id, entry);
    void outcome(() => must().query(sql)).then((o) => {
      entry.outcome = o;
      entry.ms = Math.round(performance.now() - started);
      entry.done = true;
    });
  },

  background: (id: string) => background.get(id),

  interrupt: () => must().interrupt(),

  /** Pushes the database every `intervalMs` until stopPusher. */
  startPusher: (intervalMs: number) => {
    const p = { stop: false, pushes: 0, errors: [] as string[], done: Promise.resolve() };
    p.done = (async () => {
      while (!p.stop) {
        try {
          if ((await must().push()).outcome === 'pushed') p.pushes++;
        } catch (e) {
          p.errors.push(`${isScionError(e) ? e.code : 'Error'}: ${(e as Error).message}`);
        }
        await sleep(intervalMs);
      }
    })();
    pusher = p;
  },

  stopPusher: async () => {
    if (!pusher) return undefined;
    pusher.stop = true;
    await pusher.done;
    return { pushes: pusher.pushes, errors: pusher.errors };
  },

  close: () => outcome(async () => scion?.close()),
};

window.scionTabs = api;
