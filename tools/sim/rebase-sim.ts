// Rebase by replay under seeded chaos: several devices (each a WorkerApi over comlink with its own local
// stores) run transfers through a mutator while their bucket requests fail now and then (before taking
// effect, or after with the answer lost), push, pull and rebase in a seed-chosen order, and crash — also
// in the middle of a replay — to reopen on the same stores. At the end, with faults off, every device
// syncs until all are in sync. Invariants: all devices hold the same rows; the money adds up; the
// transfers stored are acknowledged ones, each once, and every acknowledged one is stored or was reported to onConflict.
import * as Comlink from 'comlink';
import { ScionError } from '../../src/core/index.ts';
import { Scion, type Database, type Transaction } from '../../src/client/index.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../../src/local/index.ts';
import { ForwardingRemote, MemoryRemote, type RemoteCall } from '../../src/remote/index.ts';
import { WorkerApi } from '../../worker/api.ts';
import { BrowserNetwork } from '../../worker/network.ts';
import { Rng } from './rng.ts';
import { bankSetupSql, checkBank, simSqlite, type SqlBank } from './sql-bank.ts';

const BANK: SqlBank = { accounts: 4, balance: 100 };

export interface RebaseSimResult {
  readonly seed: number;
  readonly failure: string | undefined;
  readonly trace: readonly string[];
  readonly stats: { acked: number; stored: number; dropped: number; rebased: number; replayed: number; crashes: number; crashesMidRebase: number; faults: number };
}

/** The bucket with seeded faults: a request fails before it takes effect, or (a PUT) takes effect and its answer is lost. */
class FlakyRemote extends ForwardingRemote {
  faultsOn = true;
  faults = 0;
  readonly #rng: Rng;

  constructor(inner: MemoryRemote, rng: Rng) {
    super(inner);
    this.#rng = rng;
  }

  /** A GET may fail before it is answered; a PUT before it takes effect or (its answer lost) after; deletes pass. */
  protected override async send<T>(call: RemoteCall, request: () => Promise<T>): Promise<T> {
    if (call.method === 'DELETE') return request();
    const what = `${call.method} ${call.object}`;
    this.#inject(`injected: ${what} failed before it took effect`);
    const answer = await request();
    if (call.method === 'PUT') this.#inject(`injected: the answer to ${what} was lost`);
    return answer;
  }

  #inject(message: string): void {
    if (this.faultsOn && this.#rng.chance(0.05)) {
      this.faults++;
      throw new ScionError('RemoteUnavailable', message);
    }
  }
}

interface TransferArgs { id: string; from: number; to: number; amount: number }

/** One run of a device's worker. Once dead, nothing it does takes effect: its bucket requests and catalog writes fail, its mutators never return. */
interface Life {
  dead: boolean;
  /** The replay of this transfer id hangs (the process dies there). */
  hangOn: string | undefined;
  readonly ports: MessagePort[];
}

interface Device {
  readonly name: string;
  readonly file: MemoryDirectory;
  readonly catalog: MemoryCatalog;
  scion: Scion;
  db: Database;
  life: Life;
}

/** `target` as long as `life` lasts; afterwards every method fails. */
function whileAlive<T extends object>(target: T, life: Life): T {
  return new Proxy(target, {
    get(t, key) {
      const v = Reflect.get(t, key) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (life.dead) throw new ScionError('RemoteUnavailable', 'this process is dead');
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

export async function simulateRebase(seed: number, options: { devices?: number; steps?: number } = {}): Promise<RebaseSimResult> {
  const sqlite3 = await simSqlite();
  const rng = new Rng(seed);
  const bucket = new MemoryRemote();
  const remote = new FlakyRemote(bucket, rng);
  const trace: string[] = [];
  const stats = { acked: 0, stored: 0, dropped: 0, rebased: 0, replayed: 0, crashes: 0, crashesMidRebase: 0, faults: 0 };
  const acked = new Set<string>();
  const dropped = new Set<string>();
  let nextId = 1;

  const transfer = (life: Life) => async (tx: Transaction, args: TransferArgs): Promise<void> => {
    if (life.dead || life.hangOn === args.id) return new Promise<never>(() => undefined);
    const [row] = await tx.query<{ balance: number }>('SELECT balance FROM accounts WHERE id = ?', [args.from]);
    if (!row || row.balance < args.amount) throw new Error(`overdraft: account ${args.from} has ${row?.balance ?? 0}, not ${args.amount}`);
    await tx.exec('UPDATE accounts SET balance = balance - ? WHERE id = ?', [args.amount, args.from]);
    await tx.exec('UPDATE accounts SET balance = balance + ? WHERE id = ?', [args.amount, args.to]);
    await tx.exec('INSERT INTO transfers (id, src, dst, amount) VALUES (?, ?, ?, ?)', [args.id, args.from, args.to, args.amount]);
  };

  /** Starts (or restarts, after a crash) the device's worker on its stores and opens the bank. */
  const boot = async (device: Device, open: { clone?: string } = {}): Promise<void> => {
    const { port1, port2 } = new MessageChannel();
    const life: Life = { dead: false, hangOn: undefined, ports: [port1, port2] };
    device.life = life;
    Comlink.expose(new WorkerApi({
      loadSqlite: async () => sqlite3,
      makeRemote: () => whileAlive(remote, life),
      network: new BrowserNetwork({}),
      openStores: async () => ({ store: whileAlive(MemoryStore.open(device.file), life), catalog: whileAlive(device.catalog, life) }),
    }), port1);
    device.scion = await Scion.open({ worker: port2, storage: 'memory' });
    device.db = await device.scion.open('bank', open);
    device.db.mutator('transfer', transfer(life));
    device.db.onConflict((c) => {
      const args = (c.intent as { args: TransferArgs }).args;
      // The app's policy: give up on an overdraft found at replay; anything else stops the rebase.
      if (!/overdraft/.test(c.error.message)) return { action: 'stop' };
      dropped.add(args.id);
      trace.push(`${device.name}: conflict ${args.id}: drop`);
      return { action: 'drop' };
    });
  };

  const devices: Device[] = [];
  try {
    remote.faultsOn = false;
    for (let i = 0; i < (options.devices ?? 3); i++) {
      devices.push({ name: `d${i}`, file: new MemoryDirectory(), catalog: new MemoryCatalog(), scion: undefined as unknown as Scion, db: undefined as unknown as Database, life: { dead: false, hangOn: undefined, ports: [] } });
    }
    const [first, ...rest] = devices as [Device, ...Device[]];
    await boot(first);
    await first.db.exec(bankSetupSql(BANK));
    await first.db.push();
    const vid = (await first.db.status()).remote;
    for (const d of rest) {
      await boot(d, { clone: vid });
      await d.db.hydrate();
    }
    remote.faultsOn = true;

    for (let step = 0; step < (options.steps ?? 40); step++) {
      const d = devices[rng.int(0, devices.length - 1)] as Device;
      const roll = rng.int(0, 99);
      try {
        if (roll < 50) {
          const args: TransferArgs = { id: `t${nextId++}`, from: rng.int(1, BANK.accounts), to: rng.int(1, BANK.accounts), amount: rng.int(1, 60) };
          try {
            await d.db.mutate('transfer', args);
            acked.add(args.id);
            trace.push(`${d.name}: transfer ${args.id} ${args.from}->${args.to} ${args.amount}`);
          } catch (e) {
            trace.push(`${d.name}: transfer ${args.id} refused: ${(e as Error).message}`);
          }
        } else if (roll < 65) {
          trace.push(`${d.name}: push ${JSON.stringify(await d.db.push())}`);
        } else if (roll < 75) {
          trace.push(`${d.name}: pull ${(await d.db.pull()).outcome}`);
        } else if (roll < 90) {
          const r = await d.db.rebase();
          trace.push(`${d.name}: rebase ${JSON.stringify(r)}`);
          if (r.outcome === 'rebased') {
            stats.rebased++;
            stats.replayed += r.replayed;
          }
        } else {
          // A crash: mid-rebase when the device has a pending transfer to replay, else at rest.
          const pending = await d.db.query<{ args: string }>("SELECT args FROM _scion_intent ORDER BY seq DESC LIMIT 1").catch(() => []);
          const last = pending[0] && (JSON.parse(pending[0].args) as TransferArgs).id;
          if (last && (await d.db.status()).state === 'diverged') {
            d.life.hangOn = last;
            void d.db.rebase().catch(() => undefined);
            await new Promise((r) => setTimeout(r, 20));
            stats.crashesMidRebase++;
          }
          d.life.dead = true;
          for (const p of d.life.ports) p.close();
          stats.crashes++;
          trace.push(`${d.name}: crash${last ? ` (replaying ${last})` : ''}`);
          await boot(d); // the old worker is abandoned, as a closed tab's is
        }
      } catch (e) {
        trace.push(`${d.name}: step failed: ${ScionError.from(e).code}: ${(e as Error).message}`);
      }
    }

    // Faults off: everyone syncs until all are in sync at the same remote LSN.
    remote.faultsOn = false;
    for (let round = 0; round < 12; round++) {
      for (const d of devices) {
        try {
          const r = await d.db.rebase();
          if (r.outcome === 'rebased') {
            stats.rebased++;
            stats.replayed += r.replayed;
          }
          if (r.outcome === 'stopped') trace.push(`${d.name}: final rebase stopped: ${r.conflict.error.message}`);
          await d.db.push();
          await d.db.pull();
        } catch (e) {
          trace.push(`${d.name}: final sync: ${ScionError.from(e).code}: ${(e as Error).message}`);
        }
      }
      const states = await Promise.all(devices.map(async (d) => d.db.status()));
      if (states.every((s) => s.state === 'in-sync' && s.remoteLsn === states[0]?.remoteLsn)) break;
    }

    stats.acked = acked.size;
    stats.dropped = dropped.size;
    stats.faults = remote.faults;
    stats.stored = (await (devices[0] as Device).db.query('SELECT id FROM transfers')).length;
    const failure = await check(devices, acked, dropped);
    return { seed, failure, trace, stats };
  } catch (e) {
    return { seed, failure: `the run failed: ${(e as Error).stack}`, trace, stats };
  } finally {
    for (const d of devices) if (!d.life.dead) await d.scion.close().catch(() => undefined);
  }
}

async function check(devices: Device[], acked: Set<string>, dropped: Set<string>): Promise<string | undefined> {
  const states = await Promise.all(devices.map((d) => d.db.status()));
  const notInSync = states.find((s) => s.state !== 'in-sync' || s.remoteLsn !== states[0]?.remoteLsn);
  if (notInSync) return `not converged: ${JSON.stringify(states.map((s) => [s.state, s.remoteLsn, s.ahead, s.behind]))}`;
  const views = await Promise.all(devices.map(async (d) => JSON.stringify([await d.db.query('SELECT * FROM accounts ORDER BY id'), await d.db.query('SELECT id FROM transfers ORDER BY id')])));
  if (views.some((v) => v !== views[0])) return `devices differ:\n${views.join('\n')}`;
  const balances = (await (devices[0] as Device).db.query<{ balance: number }>('SELECT balance FROM accounts')).map((r) => r.balance);
  if (balances.some((b) => b < 0)) return `an overdraft was stored: ${balances.join(',')}`;
  const stored = (await (devices[0] as Device).db.query<{ id: string }>('SELECT id FROM transfers')).map((r) => r.id);
  // Stored once (the primary key) or reported to onConflict; nothing stored that was not acknowledged. A
  // reported one may be stored still: its drop was in a rebase that a crash or a restart discarded.
  return checkBank(BANK, balances, stored, acked, dropped);
}
