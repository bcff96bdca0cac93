// Main thread of e2e/pages/sql.html: Scion's public client API, driven by e2e/sql-*.e2e.ts through
// `window.scionSql`. Results and errors cross page.evaluate as plain data (codes kept).
import { Database, Scion, type ChangeEvent, type OpenOptions, type ScionOptions, type SyncStatusEvent } from '../../src/client/index.ts';
import { makePlainSqliteFile, plainSqliteQueries } from '../scenarios/plain-sqlite.ts';
import { outcome, type Outcome as SqlOutcome } from './outcome.ts';

export type { Outcome as SqlOutcome } from './outcome.ts';

export interface SqlOpenOptions extends OpenOptions {
  /** `bucket`: the dev stack's presign service (from /scion-config.json); `unreachable`: a presign URL nothing listens on. */
  remote?: 'bucket' | 'unreachable';
  storage?: 'opfs' | 'memory';
  directory?: string;
  /** A bearer token instead of the dev stack's (e.g. `scion-dev-name:<name>`, a grant for one shared name). */
  token?: string;
  /** Passed to Scion.open: ask for persistent storage. */
  persist?: boolean;
}

interface Slot {
  scion: Scion;
  db: Database;
  changes: ChangeEvent[];
  syncEvents: SyncStatusEvent[];
  conflicts?: { intent: unknown; message: string; attempt: number }[];
}

/** The last file made by makePlainFile, to compare exports with. */
let plainFile: Uint8Array | undefined;

const slots = new Map<string, Slot>();
const background = new Map<string, { done: boolean; ms: number; outcome?: SqlOutcome<unknown> }>();
const config = fetch('/scion-config.json').then((r) => r.json() as Promise<{ presignUrl: string; token: string }>);

function slot(label: string): Slot {
  const s = slots.get(label);
  if (!s) throw new Error(`No database "${label}" is open on this page`);
  return s;
}


const api = {
  /** Starts a Scion worker for `label` (one per label) and opens database `name` on it; collects its change events. */
  open: (label: string, name: string, options: SqlOpenOptions = {}) =>
    outcome(async () => {
      const { remote, storage, directory, persist, token: ownToken, ...open } = options;
      const { presignUrl, token: devToken } = await config;
      const token = ownToken ?? devToken;
      const scionOptions: ScionOptions = {
        storage: storage ?? 'opfs',
        ...(persist !== undefined ? { persist } : {}),
        ...(directory ? { directory } : {}),
        ...(remote === 'bucket' ? { remote: { presignUrl, token } } : {}),
        ...(remote === 'unreachable' ? { remote: { presignUrl: 'http://127.0.0.1:9/presign', token } } : {}),
      };
      const scion = slots.get(label)?.scion ?? (await Scion.open(scionOptions));
      const db = await scion.open(name, open);
      const changes: ChangeEvent[] = [];
      const syncEvents: SyncStatusEvent[] = [];
      db.onChange((e) => changes.push(e));
      db.onSyncStatus((e) => syncEvents.push(e));
      slots.set(label, { scion, db, changes, syncEvents });
      return { name: db.name, readOnly: db.readOnly, info: scion.info, persisted: scion.persisted ?? null, browserPersisted: await navigator.storage.persisted() };
    }),

  /** Calls a method of the label's Database, e.g. call('a', 'query', 'SELECT 1'). */
  call: (label: string, method: string, ...args: unknown[]) =>
    outcome(async () => {
      const db = slot(label).db as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      const fn = db[method];
      if (typeof fn !== 'function') throw new Error(`Database has no method ${method}`);
      return fn.apply(db, args);
    }),

  /** Inserts rows from..=to into t(id, body) inside one transaction, one pipelined INSERT per row; returns ms. */
  insertRows: (label: string, from: number, to: number) =>
    outcome(async () => {
      const started = performance.now();
      await slot(label).db.transaction(async (tx) => {
        const pending: Promise<unknown>[] = [];
        for (let i = from; i <= to; i++) pending.push(tx.exec('INSERT INTO t(id, body) VALUES (?, ?)', [i, `row ${i}`]));
        await Promise.all(pending);
      });
      return Math.round(performance.now() - started);
    }),

  /** Checkout of the label's database at `lsn`, queried, then closed. */
  queryAt: (label: string, lsn: number, sql: string) =>
    outcome(async () => {
      const old = await slot(label).db.checkout(lsn);
      try {
        return await old.query(sql);
      } finally {
        await old.close();
      }
    }),

  /** The same queries on a plain in-memory copy: export, then sqlite-wasm on this thread with `:memory:`. */
  plainQueries: (label: string, queries: string[]) => outcome(async () => plainSqliteQueries(await slot(label).db.export(), queries)),

  /**
   * Makes a plain SQLite file (page size `pageSize`, `rows` rows in t(id, body) and an index) with sqlite-wasm on
   * this thread, and imports it as bytes, as a File (what `<input type=file>` gives) or as a stream.
   */
  importPlainFile: (label: string, pageSize: number, rows: number, as: 'bytes' | 'file' | 'stream' = 'bytes') =>
    outcome(async () => {
      const bytes = await makePlainSqliteFile(pageSize, rows);
      plainFile = bytes;
      const file = new File([bytes.slice()], 'plain.sqlite3');
      return slot(label).db.import(as === 'bytes' ? bytes : as === 'file' ? file : file.stream());
    }),

  /**
   * Imports a plain file of `rows` rows (4096-byte pages) and aborts its signal `afterMs` after the last page was
   * staged: during SQLite's check, past the step boundary where abortJob is seen.
   */
  importAbortedInCheck: (label: string, rows: number, afterMs: number) =>
    outcome(async () => {
      const bytes = await makePlainSqliteFile(4096, rows);
      const controller = new AbortController();
      return slot(label).db.import(bytes, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'write' && p.done === p.total) setTimeout(() => controller.abort(), afterMs);
        },
      });
    }),

  /** Exports the label's database; compares it with the last plain file: bytes, and the rows of t. */
  compareExport: (label: string) =>
    outcome(async () => {
      const exported = await slot(label).db.export();
      const original = plainFile as Uint8Array;
      const sameBytes = exported.byteLength === original.byteLength && exported.every((b, i) => b === original[i]);
      const q = ['SELECT * FROM t ORDER BY id', 'PRAGMA integrity_check', 'PRAGMA page_size'];
      const [mine, theirs] = [await plainSqliteQueries(exported, q), await plainSqliteQueries(original, q)];
      return { sameBytes, sameRows: JSON.stringify(mine[0]) === JSON.stringify(theirs[0]), rows: mine[0]?.length, integrity: mine[1], pageSize: mine[2] };
    }),

  /** Bytes that are not a SQLite database, for import to refuse. */
  importBytes: (label: string, text: string) => outcome(() => slot(label).db.import(new TextEncoder().encode(text))),

  syncEvents: (label: string) => outcome(async () => slot(label).syncEvents),

  stats: (label: string) => outcome(() => slot(label).scion.stats()),
  changes: (label: string) => outcome(async () => slot(label).changes),

  /** Opens database `name` as `newLabel` on the worker of `label` (another database of the same worker). */
  openAlso: (label: string, newLabel: string, name: string) =>
    outcome(async () => {
      const { scion } = slot(label);
      const db = await scion.open(name);
      slots.set(newLabel, { scion, db, changes: [], syncEvents: [] });
      return { name: db.name };
    }),

  /**
   * Starts a query on the label's database without waiting for it; `abortAfterMs` aborts its signal
   * then, `timeoutMs` limits it. Its outcome and duration land in `background(id)`.
   */
  startQuery: (label: string, id: string, sql: string, options: { timeoutMs?: number; abortAfterMs?: number } = {}) => {
    const controller = new AbortController();
    if (options.abortAfterMs !== undefined) setTimeout(() => controller.abort(), options.abortAfterMs);
    const started = performance.now();
    const entry: { done: boolean; ms: number; outcome?: SqlOutcome<unknown> } = { done: false, ms: 0 };
    background.set(id, entry);
    void outcome(() => slot(label).db.query(sql, [], { signal: controller.signal, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })).then((o) => {
      entry.outcome = o;
      entry.ms = Math.round(performance.now() - started);
      entry.done = true;
    });
  },

  background: (id: string) => background.get(id),

  /** db.interrupt() on the label's database. */
  interrupt: (label: string) => outcome(async () => slot(label).db.interrupt()),

  /**
   * Registers the `transfer` mutator on the label's database (moves `amount` between accounts, refusing
   * an overdraft) and an onConflict that records each conflict and answers `choice`.
   */
  bankMutators: (label: string, choice: 'drop' | 'stop' = 'stop') =>
    outcome(async () => {
      const s = slot(label);
      s.db.mutator('transfer', async (tx, { id, from, to, amount }: { id: string; from: number; to: number; amount: number }) => {
        const [row] = await tx.query<{ balance: number }>('SELECT balance FROM accounts WHERE id = ?', [from]);
        if (!row || row.balance < amount) throw new Error(`overdraft: account ${from} has ${row?.balance ?? 0}, not ${amount}`);
        await tx.exec('UPDATE accounts SET balance = balance - ? WHERE id = ?', [amount, from]);
        await tx.exec('UPDATE accounts SET balance = balance + ? WHERE id = ?', [amount, to]);
        await tx.exec('INSERT INTO transfers (id, src, dst, amount) VALUES (?, ?, ?, ?)', [id, from, to, amount]);
      });
      s.conflicts = [];
      s.db.onConflict((c) => {
        s.conflicts?.push({ intent: c.intent, message: c.error.message, attempt: c.attempt });
        return { action: choice };
      });
    }),

  /** Runs `transfer` for each item; returns the ids whose mutate resolved (acknowledged). */
  transfers: (label: string, items: { id: string; from: number; to: number; amount: number }[]) =>
    outcome(async () => {
      const acked: string[] = [];
      for (const t of items) {
        await slot(label).db.mutate('transfer', t);
        acked.push(t.id);
      }
      return acked;
    }),

  conflicts: (label: string) => outcome(async () => slot(label).conflicts ?? []),

  /** Closes the label's worker and reports how long close() took. */
  timedClose: (label: string) =>
    outcome(async () => {
      const started = performance.now();
      await slot(label).scion.close();
      slots.delete(label);
      return Math.round(performance.now() - started);
    }),

  /** Closes the label's worker (OPFS handles are released). */
  close: (label: string) =>
    outcome(async () => {
      const s = slots.get(label);
      slots.delete(label);
      await s?.scion.close();
    }),
};

export type ScionSqlApi = typeof api;

declare global {
  interface Window {
    scionSql: ScionSqlApi;
  }
}

window.scionSql = api;
