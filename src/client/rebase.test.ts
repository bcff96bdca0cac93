// Rebase by replay through the real client, over comlink to WorkerApis in this process: two devices on
// one in-memory bucket diverge, and replaying their recorded transactions converges them.
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerApi } from '../../worker/api.ts';
import { BrowserNetwork } from '../../worker/network.ts';
import type { ScionError } from '../core/index.ts';
import { MemoryCatalog, MemoryStore, type Catalog, type LocalStore } from '../local/index.ts';
import { MemoryRemote } from '../remote/index.ts';
import { Scion, type Conflict, type Database, type SyncStatusEvent, type Transaction } from './index.ts';
import { rejection } from './testing.ts';

const sqlite3 = await sqlite3InitModule();
const open: Scion[] = [];

/** A worker on `remote`; with `stores`, on those local stores (a second worker on the same ones is the device after a crash). */
async function connect(remote: MemoryRemote, stores?: { store: LocalStore; catalog: Catalog }): Promise<Scion> {
  const { port1, port2 } = new MessageChannel();
  Comlink.expose(new WorkerApi({
    loadSqlite: async () => sqlite3, makeRemote: () => remote, network: new BrowserNetwork({}), ...(stores ? { openStores: async () => stores } : {}),
  }), port1);
  const scion = await Scion.open({ worker: port2, storage: 'memory' });
  open.push(scion);
  return scion;
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

interface TransferArgs { id: string; from: number; to: number; amount: number }

async function transfer(tx: Transaction, { id, from, to, amount }: TransferArgs): Promise<void> {
  const [row] = await tx.query<{ balance: number }>('SELECT balance FROM accounts WHERE id = ?', [from]);
  if (!row || row.balance < amount) throw new Error(`account ${from} has ${row?.balance ?? 0}, not ${amount}`);
  await tx.exec('UPDATE accounts SET balance = balance - ? WHERE id = ?', [amount, from]);
  await tx.exec('UPDATE accounts SET balance = balance + ? WHERE id = ?', [amount, to]);
  await tx.exec('INSERT INTO transfers (id, src, dst, amount) VALUES (?, ?, ?, ?)', [id, from, to, amount]);
}

/** Device A creates the bank and pushes; device B (on `bStores` if given) clones it. Both register the transfer mutator. */
async function twoDevices(bStores?: { store: LocalStore; catalog: Catalog }): Promise<{ a: Database; b: Database; remote: MemoryRemote }> {
  const remote = new MemoryRemote();
  const a = await (await connect(remote)).open('bank');
  await a.exec('CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL); CREATE TABLE transfers (id TEXT PRIMARY KEY, src INTEGER, dst INTEGER, amount INTEGER)');
  await a.exec('INSERT INTO accounts VALUES (1, 100), (2, 100), (3, 100)');
  expect(await a.push()).toMatchObject({ outcome: 'pushed' });
  const b = await (await connect(remote, bStores)).open('bank', { clone: (await a.status()).remote });
  for (const db of [a, b]) db.mutator('transfer', transfer);
  return { a, b, remote };
}

const rows = (db: Database) => db.query('SELECT * FROM accounts ORDER BY id');

describe('rebase by replay', () => {
  it('replays the loser\'s mutators on the winner\'s push: both converge, each transfer applied once, total kept', async () => {
    const { a, b } = await twoDevices();
    await a.mutate('transfer', { id: 'a1', from: 1, to: 2, amount: 10 });
    await a.mutate('transfer', { id: 'a2', from: 2, to: 3, amount: 5 });
    await b.mutate('transfer', { id: 'b1', from: 3, to: 1, amount: 30 });
    await b.mutate('transfer', { id: 'b2', from: 1, to: 2, amount: 1 });
    expect(await a.push()).toMatchObject({ outcome: 'pushed' });
    expect(await b.push()).toMatchObject({ outcome: 'diverged' });
    // The pragma lists what a rebase would replay: B's two transfers, in order.
    expect(await b.query('PRAGMA graft_intents')).toEqual([
      expect.objectContaining({ kind: 'mutator', mutator: 'transfer', args: JSON.stringify({ id: 'b1', from: 3, to: 1, amount: 30 }), statements: null, seq: 1 }),
      expect.objectContaining({ kind: 'mutator', mutator: 'transfer', args: JSON.stringify({ id: 'b2', from: 1, to: 2, amount: 1 }), seq: 2 }),
    ]);
    const before = await b.status();
    expect(await b.rebase()).toEqual({ outcome: 'rebased', replayed: 2, dropped: 0, pushed: true });
    // The replay ran on A's state: B's transfers on top of A's.
    expect(await a.pull()).toMatchObject({ outcome: 'pulled' });
    expect(await rows(a)).toEqual(await rows(b));
    expect(await rows(b)).toEqual([{ id: 1, balance: 100 - 10 + 30 - 1 }, { id: 2, balance: 100 + 10 - 5 + 1 }, { id: 3, balance: 100 + 5 - 30 }]);
    expect(await b.query('SELECT id FROM transfers ORDER BY id')).toEqual(['a1', 'a2', 'b1', 'b2'].map((id) => ({ id })));
    // The replay pruned the intents the remote head held (applied there); B's replayed ones remain, in order.
    const intents = await b.query<{ id: string; args: string }>('SELECT id, args FROM _scion_intent ORDER BY seq');
    expect(intents.map((i) => (JSON.parse(i.args) as TransferArgs).id)).toEqual(['b1', 'b2']);
    const after = await b.status();
    expect(after).toMatchObject({ state: 'in-sync', remote: before.remote });
    expect(after.local).not.toBe(before.local);
    expect(await b.rebase()).toEqual({ outcome: 'not-needed', state: 'in-sync' });
    expect(await b.query('PRAGMA graft_intents')).toEqual([]);
    expect(await a.query('PRAGMA graft_intents')).toEqual([]);
  });

  it('replays recorded SQL, and refuses at first run statements whose values differ between runs', async () => {
    const { a, b } = await twoDevices();
    a.recordSql();
    b.recordSql();
    await a.exec('UPDATE accounts SET balance = balance + ? WHERE id = ?', [7, 1]);
    await b.transaction(async (tx) => {
      await tx.query('SELECT * FROM accounts');
      await tx.exec('UPDATE accounts SET balance = balance - 7 WHERE id = :id', { id: 2 });
      await tx.exec('INSERT INTO transfers VALUES (?, 2, 0, 7)', ['blob-check']);
    });
    const refused = await rejection(b.exec("INSERT INTO transfers VALUES (hex(randomblob(8)), 1, 2, 3)"));
    expect(refused).toMatchObject({ code: 'InvalidInput', details: { rule: 'deterministic' } });
    expect(refused.message).toMatch(/random\(\).*mutator/);
    expect((await rejection(b.exec("INSERT INTO transfers VALUES ('x', 1, 2, strftime('%s', 'now'))"))).details).toMatchObject({ rule: 'deterministic' });
    for (const sql of ["INSERT INTO transfers VALUES ('y', total_changes(), 0, 0)", "INSERT INTO transfers VALUES ('z', 1, 1, CURRENT_TIMESTAMP)"]) {
      expect((await rejection(b.exec(sql))).details, sql).toMatchObject({ rule: 'deterministic' });
    }
    expect(await b.status()).toMatchObject({ ahead: 1 }); // the refused statements wrote nothing
    // Literals are not code: 'random()' in a string is fine.
    await b.exec("INSERT INTO transfers VALUES ('random()', 1, 1, 0)");
    expect(await a.push()).toMatchObject({ outcome: 'pushed' });
    expect((await b.query<{ kind: string; statements: string }>('PRAGMA graft_intents')).map((r) => [r.kind, JSON.parse(r.statements)])).toEqual([
      ['sql', [{ sql: 'UPDATE accounts SET balance = balance - 7 WHERE id = :id', params: { id: 2 } }, { sql: 'INSERT INTO transfers VALUES (?, 2, 0, 7)', params: ['blob-check'] }]],
      ['sql', [{ sql: "INSERT INTO transfers VALUES ('random()', 1, 1, 0)" }]],
    ]);
    expect(await b.rebase()).toMatchObject({ outcome: 'rebased', replayed: 2, dropped: 0 });
    await a.pull();
    expect(await rows(a)).toEqual([{ id: 1, balance: 107 }, { id: 2, balance: 93 }, { id: 3, balance: 100 }]);
    expect(await rows(b)).toEqual(await rows(a));
  });

  it('a replay that fails goes to onConflict: stop (the default) keeps the device diverged and loses nothing; drop and retry resolve it', async () => {
    const { a, b } = await twoDevices();
    await a.mutate('transfer', { id: 'a1', from: 1, to: 2, amount: 90 });
    await b.mutate('transfer', { id: 'b1', from: 1, to: 3, amount: 50 }); // fine on B, overdraws on A's state
    await b.mutate('transfer', { id: 'b2', from: 2, to: 3, amount: 10 });
    await a.push();
    const events: SyncStatusEvent[] = [];
    b.onSyncStatus((e) => events.push(e));

    const stopped = await b.rebase();
    expect(stopped).toMatchObject({ outcome: 'stopped', conflict: { intent: { kind: 'mutator', mutator: 'transfer', args: { id: 'b1' } }, attempt: 1, choices: ['drop', 'retry', 'stop'] } });
    expect(stopped.outcome === 'stopped' && stopped.conflict.error.message).toMatch(/account 1 has 10, not 50/);
    expect(await b.status()).toMatchObject({ state: 'diverged', ahead: 2 });
    expect(await rows(b)).toEqual([{ id: 1, balance: 50 }, { id: 2, balance: 90 }, { id: 3, balance: 160 }]);
    await expect.poll(() => events.map((e) => e.state)).toEqual(['rebasing', 'diverged']);
    expect(events[1]?.error?.message).toMatch(/account 1/);

    const seen: Conflict[] = [];
    b.onConflict((c) => {
      seen.push(c);
      return c.attempt === 1 ? { action: 'retry', args: { ...(c.intent as { args: TransferArgs }).args, amount: 5 } } : { action: 'drop' };
    });
    expect(await b.rebase()).toEqual({ outcome: 'rebased', replayed: 2, dropped: 0, pushed: true });
    expect(seen).toHaveLength(1);
    await a.pull();
    expect(await rows(a)).toEqual([{ id: 1, balance: 5 }, { id: 2, balance: 180 }, { id: 3, balance: 115 }]);
    expect(await rows(b)).toEqual(await rows(a));
    // The retried arguments are what is recorded (a later replay runs them, not the first ones).
    expect(await b.query('SELECT args FROM _scion_intent ORDER BY seq LIMIT 1')).toEqual([{ args: JSON.stringify({ id: 'b1', from: 1, to: 3, amount: 5 }) }]);
    await expect.poll(() => events.at(-1)).toMatchObject({ state: 'rebased', replayed: 2, dropped: 0, pushed: true });
  });

  it('refuses to rebase over local commits that carry no intent, keeping them', async () => {
    const { a, b } = await twoDevices();
    await a.mutate('transfer', { id: 'a1', from: 1, to: 2, amount: 1 });
    await a.push();
    await b.exec('UPDATE accounts SET balance = 0 WHERE id = 3'); // not recorded
    await b.mutate('transfer', { id: 'b1', from: 1, to: 2, amount: 1 });
    const err = await rejection(b.rebase());
    expect(err).toMatchObject({ code: 'VolumeDiverged', details: { ahead: 2, pending: 1 } });
    expect(err.message).toMatch(/fork\(\).*clone\(\)/);
    expect(await b.status()).toMatchObject({ state: 'diverged', ahead: 2 });
    expect(await b.query('SELECT balance FROM accounts WHERE id = 3')).toEqual([{ balance: 0 }]);
  });

  it('mutator arguments must be plain data; a mutator that throws at first run commits nothing', async () => {
    const { b } = await twoDevices();
    expect(await rejection(b.mutate('transfer', { id: 'x', from: 1, to: 2, amount: 1, at: new Date() }))).toMatchObject({ code: 'InvalidInput' });
    expect(await rejection(b.mutate('nope', {}))).toMatchObject({ code: 'InvalidInput' });
    // The mutator's own error reaches the caller as it was thrown.
    await expect(b.mutate('transfer', { id: 'x', from: 1, to: 2, amount: 1000 })).rejects.toThrow(/account 1 has 100, not 1000/);
    expect(await b.status()).toMatchObject({ ahead: 0 });
  });

  it('autosync rebases a diverged database without being asked', async () => {
    const { a, b } = await twoDevices();
    await a.mutate('transfer', { id: 'a1', from: 1, to: 2, amount: 3 });
    await b.mutate('transfer', { id: 'b1', from: 2, to: 3, amount: 4 });
    await a.push();
    const events: SyncStatusEvent[] = [];
    b.onSyncStatus((e) => events.push(e));
    await b.autosync({ intervalMs: 50, afterCommitMs: 10 });
    await expect.poll(() => events.some((e) => e.state === 'rebased'), { timeout: 5000 }).toBe(true);
    await expect.poll(async () => (await b.status()).state, { timeout: 5000 }).toBe('in-sync');
    await a.pull();
    expect(await rows(a)).toEqual([{ id: 1, balance: 97 }, { id: 2, balance: 99 }, { id: 3, balance: 104 }]);
    expect(await rows(b)).toEqual(await rows(a));
  });

  it('a crash in the middle of a replay loses nothing: after restart the database and its intents are as before, and the rebase runs once', async () => {
    const stores = { store: MemoryStore.open(), catalog: new MemoryCatalog() };
    const { a, b, remote } = await twoDevices(stores);
    await a.mutate('transfer', { id: 'a1', from: 1, to: 2, amount: 10 });
    await a.push();
    await b.mutate('transfer', { id: 'b1', from: 2, to: 3, amount: 20 });
    await b.mutate('transfer', { id: 'b2', from: 3, to: 1, amount: 30 });
    // The worker dies while replaying b2 (its tab closed): the mutator never returns.
    let crashing = true;
    let hung!: () => void;
    const b2Hangs = new Promise<void>((resolve) => (hung = resolve));
    b.mutator('transfer', async (tx, args: TransferArgs) => {
      if (crashing && args.id === 'b2') {
        hung();
        return new Promise<never>(() => undefined);
      }
      return transfer(tx, args);
    });
    void b.rebase();
    const dying = open.at(-1) as Scion;
    await expect.poll(async () => (await dying.tags()).map((t) => t.name)).toEqual(['.rebase.bank', 'bank']);
    await b2Hangs; // b1 replayed on the scratch graft, b2 hangs
    crashing = false;

    const again = await (await connect(remote, stores)).open('bank');
    again.mutator('transfer', transfer);
    expect(await again.status()).toMatchObject({ state: 'diverged', ahead: 2 });
    expect(await rows(again)).toEqual([{ id: 1, balance: 130 }, { id: 2, balance: 80 }, { id: 3, balance: 90 }]);
    expect(await again.rebase()).toEqual({ outcome: 'rebased', replayed: 2, dropped: 0, pushed: true });
    await a.pull();
    expect(await rows(a)).toEqual([{ id: 1, balance: 120 }, { id: 2, balance: 90 }, { id: 3, balance: 90 }]);
    expect(await rows(again)).toEqual(await rows(a));
    // The scratch graft of the dead attempt is gone, and the old graft with it: one graft, one name.
    expect((await open.at(-1)?.tags())?.map((t) => t.name)).toEqual(['bank']);
  });

  it('a crash between moving the name and dropping the scratch name leaves the rebased database; the next rebase cleans up', async () => {
    const catalog = new MemoryCatalog();
    let failDeleteTag = false;
    // The real catalog, whose deleteTag fails while `failDeleteTag` (the tab died before it ran).
    const faulty = new Proxy(catalog, {
      get(target, key) {
        if (key === 'deleteTag' && failDeleteTag) return async () => Promise.reject(new Error('the tab died here'));
        const v = Reflect.get(target, key) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const stores = { store: MemoryStore.open(), catalog: faulty };
    const { a, b, remote } = await twoDevices(stores);
    await a.mutate('transfer', { id: 'a1', from: 1, to: 2, amount: 10 });
    await a.push();
    await b.mutate('transfer', { id: 'b1', from: 2, to: 3, amount: 20 });
    failDeleteTag = true;
    await rejection(b.rebase());
    failDeleteTag = false;

    const scion = await connect(remote, { store: stores.store, catalog });
    const again = await scion.open('bank');
    again.mutator('transfer', transfer);
    // The name points at the replayed graft: b1 once, on top of a1.
    expect(await rows(again)).toEqual([{ id: 1, balance: 90 }, { id: 2, balance: 90 }, { id: 3, balance: 120 }]);
    expect((await again.status()).state).toMatch(/ahead|in-sync/);
    expect(await again.push()).toMatchObject({ outcome: expect.stringMatching(/pushed|up-to-date/) });
    expect(await a.pull()).toMatchObject({ outcome: 'pulled' });
    await a.mutate('transfer', { id: 'a2', from: 3, to: 1, amount: 1 });
    expect(await a.push()).toMatchObject({ outcome: 'pushed' });
    await again.mutate('transfer', { id: 'b2', from: 3, to: 2, amount: 2 });
    expect(await again.rebase()).toEqual({ outcome: 'rebased', replayed: 1, dropped: 0, pushed: true });
    expect((await scion.tags()).map((t) => t.name)).toEqual(['bank']);
    await a.pull();
    expect(await rows(a)).toEqual([{ id: 1, balance: 91 }, { id: 2, balance: 92 }, { id: 3, balance: 117 }]);
    expect(await a.query('SELECT id FROM transfers ORDER BY id')).toEqual(['a1', 'a2', 'b1', 'b2'].map((id) => ({ id })));
  });

  it('a local commit landing during the replay makes the rebase start over with it', async () => {
    const { a, b } = await twoDevices();
    await a.mutate('transfer', { id: 'a1', from: 1, to: 2, amount: 10 });
    await a.push();
    await b.mutate('transfer', { id: 'b1', from: 2, to: 3, amount: 20 });
    let sneaked = false;
    b.mutator('transfer', async (tx, args: TransferArgs) => {
      await transfer(tx, args);
      if (!sneaked) {
        sneaked = true;
        // Another part of the app writes meanwhile, on the database itself.
        void b.mutate('transfer', { id: 'b-late', from: 3, to: 1, amount: 5 });
        await new Promise((r) => setTimeout(r, 30));
      }
    });
    expect(await b.rebase()).toEqual({ outcome: 'rebased', replayed: 2, dropped: 0, pushed: true });
    await a.pull();
    expect(await a.query('SELECT id FROM transfers ORDER BY id')).toEqual(['a1', 'b-late', 'b1'].map((id) => ({ id })));
    expect(await rows(a)).toEqual(await rows(b));
  });

  it('under writes landing during every replay it starts over at most 3 times, then fails saying what to do, keeping everything', async () => {
    const { a, b } = await twoDevices();
    await a.mutate('transfer', { id: 'a1', from: 1, to: 2, amount: 10 });
    await a.push();
    await b.mutate('transfer', { id: 'b1', from: 2, to: 3, amount: 20 });
    b.recordSql();
    let replays = 0;
    b.mutator('transfer', async (tx, args: TransferArgs) => {
      await transfer(tx, args);
      replays++;
      // Another part of the app writes on the database during every replay.
      void b.exec('UPDATE accounts SET balance = balance + 1 WHERE id = 1');
      await new Promise((r) => setTimeout(r, 30));
    });
    const err = await rejection(b.rebase());
    expect(replays).toBe(3);
    expect(err).toMatchObject({ code: 'ConcurrentWrite', details: { attempts: 3 } });
    expect(err.message).toMatch(/3 times.*nothing changed.*rebase again/is);
    await expect.poll(async () => (await b.status()).ahead).toBe(4);
    expect(await b.status()).toMatchObject({ state: 'diverged' });
    // Once the writes pause, it goes through with all of them.
    b.mutator('transfer', transfer);
    expect(await b.rebase()).toEqual({ outcome: 'rebased', replayed: 4, dropped: 0, pushed: true });
    await a.pull();
    expect(await rows(a)).toEqual([{ id: 1, balance: 93 }, { id: 2, balance: 90 }, { id: 3, balance: 120 }]);
  });

  it('after the app answers stop, autosync does not ask onConflict again until the remote or the local side changes', async () => {
    const { a, b } = await twoDevices();
    await a.mutate('transfer', { id: 'a1', from: 1, to: 2, amount: 90 });
    await b.mutate('transfer', { id: 'b1', from: 1, to: 3, amount: 50 }); // overdraws on A's state
    await a.push();
    let asked = 0;
    b.onConflict(() => (asked++, { action: 'stop' }));
    const events: SyncStatusEvent[] = [];
    b.onSyncStatus((e) => events.push(e));
    await b.autosync({ intervalMs: 20, afterCommitMs: 10 });
    // Many sync rounds after the stop find it diverged; the app was asked once.
    const roundsAfterStop = () => events.slice(events.findIndex((e) => e.state === 'diverged' && e.error) + 1).filter((e) => e.state === 'diverged' && !e.error).length;
    await expect.poll(() => events.some((e) => e.state === 'diverged' && e.error), { timeout: 10_000 }).toBe(true);
    await expect.poll(roundsAfterStop, { timeout: 10_000 }).toBeGreaterThan(5);
    expect(asked).toBe(1);
    expect(await b.status()).toMatchObject({ state: 'diverged', ahead: 1 });
    // The remote moves on: the next round asks again (the answer may differ on the new head).
    await a.mutate('transfer', { id: 'a2', from: 2, to: 1, amount: 5 });
    await a.push();
    await expect.poll(() => asked, { timeout: 10_000 }).toBe(2);
    await expect.poll(() => events.filter((e) => e.state === 'diverged' && e.error).length, { timeout: 10_000 }).toBe(2);
    await b.autosync(false);
    // A rebase by hand always asks.
    expect(await b.rebase()).toMatchObject({ outcome: 'stopped' });
    expect(asked).toBe(3);
  });

  it('two rebases of one database at once: the second is refused, the first completes', async () => {
    const { a, b } = await twoDevices();
    await a.mutate('transfer', { id: 'a1', from: 1, to: 2, amount: 10 });
    await a.push();
    await b.mutate('transfer', { id: 'b1', from: 2, to: 3, amount: 20 });
    const [first, second] = await Promise.allSettled([b.rebase(), (async () => {
      const other = await open.at(-1)?.open('bank') as Database;
      other.mutator('transfer', transfer);
      return other.rebase();
    })()]);
    const outcomes = [first, second].map((r) => (r.status === 'fulfilled' ? r.value.outcome : (r.reason as ScionError).code));
    expect(outcomes).toContain('rebased');
    expect(outcomes.filter((o) => o === 'rebased')).toHaveLength(1);
    await a.pull();
    expect(await a.query('SELECT id FROM transfers ORDER BY id')).toEqual(['a1', 'b1'].map((id) => ({ id })));
  });

  it('intents pruned from the remote by another device\'s rebase are not replayed again', async () => {
    const { a, b } = await twoDevices();
    // A pushes a1; B, diverged, rebases (pruning a1's row from the remote head).
    await a.mutate('transfer', { id: 'a1', from: 1, to: 2, amount: 1 });
    await a.push();
    await b.mutate('transfer', { id: 'b1', from: 1, to: 2, amount: 2 });
    expect(await b.rebase()).toMatchObject({ outcome: 'rebased', replayed: 1 });
    // A's a1 is pushed and known; A writes again and diverges from B's push: only a2 is pending.
    await a.mutate('transfer', { id: 'a2', from: 1, to: 2, amount: 4 });
    expect(await a.rebase()).toEqual({ outcome: 'rebased', replayed: 1, dropped: 0, pushed: true });
    await b.pull();
    expect(await b.query('SELECT id FROM transfers ORDER BY id')).toEqual(['a1', 'a2', 'b1'].map((id) => ({ id })));
    expect(await rows(b)).toEqual([{ id: 1, balance: 93 }, { id: 2, balance: 107 }, { id: 3, balance: 100 }]);
    expect(await rows(a)).toEqual(await rows(b));
    expect(await b.query('SELECT count(*) AS n FROM _scion_intent')).toEqual([{ n: 1 }]);
  });

  it('a reader with an open transaction on the old graft holds the rebase back (ConcurrentWrite, nothing changed) until it ends', async () => {
    const { a, b } = await twoDevices();
    await a.mutate('transfer', { id: 'a1', from: 1, to: 2, amount: 1 });
    await a.push();
    await b.mutate('transfer', { id: 'b1', from: 2, to: 3, amount: 1 });
    const reader = await (open.at(-1) as Scion).open('bank');
    await reader.exec('BEGIN');
    expect(await reader.query('SELECT balance FROM accounts WHERE id = 3')).toEqual([{ balance: 101 }]);
    // Not worth a new replay: it fails at once, naming the open transaction.
    expect(await rejection(b.rebase())).toMatchObject({ code: 'ConcurrentWrite', message: expect.stringMatching(/A transaction is open/) });
    expect(await b.status()).toMatchObject({ state: 'diverged', ahead: 1 });
    expect(await reader.query('SELECT balance FROM accounts WHERE id = 3')).toEqual([{ balance: 101 }]);
    await reader.exec('COMMIT');
    expect(await b.rebase()).toMatchObject({ outcome: 'rebased', replayed: 1 });
    expect(await reader.query('SELECT id FROM transfers ORDER BY id')).toEqual([{ id: 'a1' }, { id: 'b1' }]);
  });

  it('recorded SQL keeps blobs and big integers exactly through the replay', async () => {
    const { a, b } = await twoDevices();
    b.recordSql();
    await b.exec('CREATE TABLE blobs (k INTEGER, v BLOB)');
    await b.exec('INSERT INTO blobs VALUES (?, ?)', [9007199254740993n, new Uint8Array([0, 255, 7])]);
    await b.exec('INSERT INTO blobs VALUES (:k, :v)', { k: 1, v: new Uint8Array([]) });
    await a.mutate('transfer', { id: 'a1', from: 1, to: 2, amount: 1 });
    await a.push();
    expect(await b.rebase()).toMatchObject({ outcome: 'rebased', replayed: 3 });
    await a.pull();
    expect(await a.query('SELECT k, v FROM blobs ORDER BY k')).toEqual([{ k: 1, v: new Uint8Array([]) }, { k: 9007199254740993n, v: new Uint8Array([0, 255, 7]) }]);
  });
});
