// The SQL layer under a seeded scheduler: several SQLite connections of one device run bank transfers
// statement by statement through the VFS, interleaved with pushes (parked at every bucket request),
// pulls of another device's commits, and the database moving to a fork. After every step it checks:
// a statement that failed with ConcurrentWrite committed nothing and left its connection reading
// exactly what is committed; an acknowledged COMMIT is stored once; the money adds up; at the end,
// and after reopening the device, the transfers stored are exactly the acknowledged ones.
import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { isScionError } from '../../src/core/index.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../../src/local/index.ts';
import { ForwardingRemote, MemoryRemote, type RemoteCall } from '../../src/remote/index.ts';
import { Runtime } from '../../src/runtime/index.ts';
import { installScionVfs, openScionDb, type ScionVfs } from '../../src/vfs/index.ts';
import { installDeterministicPrimitives } from './determinism.ts';
import { Rng, simIds } from './rng.ts';
import { Scheduler } from './scheduler.ts';
import { bankSetupSql, checkBank, simSqlite, type SqlBank } from './sql-bank.ts';

const TAG = 'bank';
const BANK: SqlBank = { accounts: 6, balance: 1000 };

export interface SqlSimResult {
  readonly seed: number;
  readonly failure: string | undefined;
  readonly trace: readonly string[];
  /** `refusedInside`: ConcurrentWrite after BEGIN succeeded (the refusals that matter; the rest are BEGIN finding the lock held). */
  readonly stats: { acked: number; refused: number; refusedInside: number; pushes: number; pulls: number; moves: number };
}

/** The bucket as one device sees it: every request waits until the scheduler releases it. */
/** The shared bucket with every asynchronous request parked in the scheduler first (deletes go straight on). */
class ParkedRemote extends ForwardingRemote {
  readonly #sched: Scheduler;

  constructor(inner: MemoryRemote, sched: Scheduler) {
    super(inner);
    this.#sched = sched;
  }

  protected override async send<T>(call: RemoteCall, request: () => Promise<T>): Promise<T> {
    if (call.op !== 'deleteSegment') await this.#sched.park(`${call.method} ${call.object}${call.lsn === undefined ? '' : ` ${call.lsn}`}`);
    return request();
  }
}

/** One connection's transfer, one statement per step. */
interface Writer {
  readonly db: Database;
  readonly name: string;
  step: number;
  id: string | undefined;
  from: number;
  to: number;
}

class SqlSim {
  readonly rng: Rng;
  readonly sched: Scheduler;
  readonly bucket = new MemoryRemote();
  readonly file = new MemoryDirectory();
  readonly catalog = new MemoryCatalog();
  readonly acked = new Set<string>();
  readonly stats = { acked: 0, refused: 0, refusedInside: 0, pushes: 0, pulls: 0, moves: 0 };
  #failure: string | undefined;
  #seq = 0;
  #pushing = false;
  #vfs: ScionVfs | undefined;

  readonly sqlite3: Sqlite3Static;
  readonly seed: number;

  constructor(sqlite3: Sqlite3Static, seed: number) {
    this.sqlite3 = sqlite3;
    this.seed = seed;
    this.rng = new Rng(seed);
    this.sched = new Scheduler(this.rng);
  }

  get failure(): string | undefined {
    return this.#failure;
  }

  fail(why: string): void {
    this.#failure ??= why;
    this.sched.log(`VIOLATION ${why}`);
  }

  async device(file: MemoryDirectory, catalog: MemoryCatalog, parked: boolean): Promise<{ rt: Runtime; vfs: ScionVfs }> {
    const remote = parked ? new ParkedRemote(this.bucket, this.sched) : this.bucket;
    const rt = await Runtime.open({ store: MemoryStore.open(file), catalog, remote, ids: simIds(this.rng, this.sched.now) });
    const vfs = installScionVfs(this.sqlite3, rt, { name: `sql-sim-${++vfsCount}` });
    return { rt, vfs };
  }

  /** Runs `n` steps; returns once every started job settled. */
  async run(steps: number): Promise<void> {
    const a = await this.device(this.file, this.catalog, true);
    this.#vfs = a.vfs;
    const setup = openScionDb(this.sqlite3, a.vfs, (await a.rt.tagOpen(TAG), TAG));
    a.vfs.run(() => setup.exec(`${bankSetupSql(BANK)}; CREATE TABLE note(id TEXT PRIMARY KEY)`));
    const checker = (): Database => openScionDb(this.sqlite3, a.vfs, TAG);
    const writers: Writer[] = [1, 2, 3].map((k) => ({ db: openScionDb(this.sqlite3, a.vfs, TAG), name: `c${k}`, step: 0, id: undefined, from: 0, to: 0 }));
    const b = await this.device(new MemoryDirectory(), new MemoryCatalog(), false);
    const jobs: Promise<unknown>[] = [];

    for (let i = 0; i < steps && !this.#failure; i++) {
      this.sched.nextStep();
      const op = this.rng.weighted({ sql: 10, push: this.#pushing ? 0 : 2, release: this.sched.parkedCount > 0 ? 6 : 0, remoteWrite: 2, move: 0.3 });
      if (op === 'sql') this.#sqlStep(this.#pickWriter(writers), checker);
      else if (op === 'push') jobs.push(this.#push(a.rt));
      else if (op === 'release') this.sched.log(`release ${this.sched.releaseOne()}`);
      else if (op === 'remoteWrite') await this.#remoteWrite(a.rt, b, writers, checker);
      else await this.#move(a.rt);
      await this.sched.settle();
    }
    await this.#drive(Promise.allSettled(jobs));
    for (const w of writers) if (w.step > 0) this.#end(w, 'ROLLBACK');
    this.#checkAll(checker(), 'at the end');
    // The device reopened on its store bytes and catalog: the same transfers, once each.
    a.rt.close();
    const again = await this.device(this.file.copy(), this.catalog, false);
    this.#checkAll(openScionDb(this.sqlite3, again.vfs, TAG), 'after reopening');
  }

  /** One statement of a writer's transfer: BEGIN IMMEDIATE, read, two UPDATEs, INSERT, COMMIT. */
  #sqlStep(w: Writer, checker: () => Database): void {
    const stmts = [
      () => 'BEGIN IMMEDIATE',
      () => `SELECT balance FROM accounts WHERE id = ${w.from}`,
      () => `UPDATE accounts SET balance = balance - 3 WHERE id = ${w.from}`,
      () => `UPDATE accounts SET balance = balance + 3 WHERE id = ${w.to}`,
      () => `INSERT INTO transfers (id) VALUES ('${w.id}')`,
      () => 'COMMIT',
    ];
    if (w.step === 0) {
      w.id = `t${++this.#seq}`;
      w.from = this.rng.int(1, BANK.accounts);
      w.to = this.rng.int(1, BANK.accounts);
    }
    const sql = (stmts[w.step] as () => string)();
    try {
      (this.#vfs as ScionVfs).run(() => w.db.exec(sql));
      this.sched.log(`${w.name} ${sql}: ok`);
      w.step++;
      if (w.step === stmts.length) {
        this.acked.add(w.id as string);
        this.stats.acked++;
        w.step = 0;
        const n = this.#count(checker, w.id as string);
        if (n !== 1) this.fail(`${w.name}: COMMIT of ${w.id} acknowledged, stored ${n} times`);
      }
    } catch (e) {
      const code = isScionError(e) ? e.code : String(e);
      this.sched.log(`${w.name} ${sql}: ${code}`);
      if (!isScionError(e, 'ConcurrentWrite')) return this.fail(`${w.name}: ${sql} failed with ${code}: ${(e as Error).message}`);
      this.stats.refused++;
      if (w.step > 0) this.stats.refusedInside++;
      this.#end(w, 'ROLLBACK');
      if (this.#count(checker, w.id as string) !== 0) this.fail(`${w.name}: ${w.id} failed with ConcurrentWrite at "${sql}" yet is stored`);
      // The refused connection reads what is committed, not what it wrote.
      const mine = this.#ledger(w.db);
      const fresh = checker();
      const committed = this.#ledger(fresh);
      fresh.close();
      if (mine !== committed) this.fail(`${w.name}: after a refused transaction it reads ${mine}, the database holds ${committed}`);
    }
  }

  /** Mostly the writer inside a transaction (it holds the lock the others wait for), sometimes any. */
  #pickWriter(writers: Writer[]): Writer {
    const inside = writers.filter((w) => w.step > 0);
    return inside.length > 0 && this.rng.chance(0.7) ? this.rng.pick(inside) : this.rng.pick(writers);
  }

  #end(w: Writer, sql: string): void {
    try {
      w.db.exec(sql);
    } catch {
      // SQLite may have rolled the transaction back already
    }
    w.step = 0;
  }

  async #push(rt: Runtime): Promise<void> {
    this.#pushing = true;
    try {
      const r = await rt.graftPush(rt.mustGetTag(TAG));
      this.sched.log(`push: ${r.outcome}`);
      if (r.outcome === 'pushed') this.stats.pushes++;
      if (r.outcome === 'diverged') this.fail('push diverged: only this device writes transfers, and the other only writes when this one is in sync');
    } catch (e) {
      this.fail(`push failed: ${String(e)}`);
    } finally {
      this.#pushing = false;
    }
  }

  /** The other device writes a note when this one is in sync and nothing is in flight; this one pulls it under its open transactions. */
  async #remoteWrite(rt: Runtime, b: { rt: Runtime; vfs: ScionVfs }, writers: Writer[], checker: () => Database): Promise<void> {
    const graft = rt.mustGetTag(TAG);
    const status = rt.graftStatus(graft);
    if (this.#pushing || this.sched.parkedCount > 0 || status.ahead > 0 || status.remoteLsn === undefined) return this.sched.log('remote write: skipped');
    const remote = rt.mustGetGraft(graft).remote;
    if (b.rt.tagGet(TAG) === undefined || b.rt.mustGetGraft(b.rt.mustGetTag(TAG)).remote !== remote) await b.rt.graftClone(remote, { tag: TAG });
    else await b.rt.graftPull(b.rt.mustGetTag(TAG));
    const db = openScionDb(this.sqlite3, b.vfs, TAG);
    b.vfs.run(() => db.exec(`INSERT INTO note VALUES ('n${++this.#seq}')`));
    db.close();
    const pushed = await b.rt.graftPush(b.rt.mustGetTag(TAG));
    const pulled = await this.#drive(rt.graftPull(graft));
    this.stats.pulls++;
    this.sched.log(`remote write: ${pushed.outcome}, pull: ${pulled.outcome}; ${writers.filter((w) => w.step > 0).length} transactions open`);
    if (pulled.outcome !== 'pulled') this.fail(`pull after the other device's push: ${pulled.outcome}`);
    this.#checkAll(checker(), 'after a pull');
  }

  /** Releases parked requests until `job` settles (nothing else runs meanwhile). */
  async #drive<T>(job: Promise<T>): Promise<T> {
    let done = false;
    const settled = job.finally(() => (done = true));
    await this.sched.settle();
    for (let idle = 0; !done; ) {
      if (this.sched.releaseOne() === undefined && ++idle > 100) throw new Error('BUG: a job waits on nothing the scheduler holds');
      await this.sched.settle();
    }
    return settled;
  }

  /** The database moves to a fork of its latest snapshot (same content, another graft) under open transactions. */
  async #move(rt: Runtime): Promise<void> {
    if (this.#pushing || this.sched.parkedCount > 0) return this.sched.log('move: skipped');
    const fork = await rt.graftFork(rt.graftSnapshot(rt.mustGetTag(TAG)));
    await rt.tagReplace(TAG, fork.local);
    this.stats.moves++;
    this.sched.log(`move to fork ${fork.local.slice(0, 8)}`);
  }

  /** How often `id` is stored, read by a connection of its own (no page cache). */
  #count(checker: () => Database, id: string): number {
    const db = checker();
    try {
      return Number(db.selectValue(`SELECT count(*) FROM transfers WHERE id = '${id}'`));
    } finally {
      db.close();
    }
  }

  #ledger(db: Database): string {
    return String(db.selectValue("SELECT (SELECT group_concat(id) FROM (SELECT id FROM transfers ORDER BY id)) || '|' || (SELECT sum(balance) FROM accounts)"));
  }

  #checkAll(db: Database, when: string): void {
    const wrong = checkBank(BANK, db.selectValues('SELECT balance FROM accounts') as number[], db.selectValues('SELECT id FROM transfers') as string[], this.acked);
    if (wrong) this.fail(`${when}: ${wrong}`);
    if (db.selectValue('PRAGMA integrity_check') !== 'ok') this.fail(`${when}: integrity_check fails`);
    db.close();
  }
}

/** VFS names are per SQLite instance, which every run shares. */
let vfsCount = 0;

/** One seeded run of `steps` steps. */
export async function simulateSql(seed: number, steps = 100): Promise<SqlSimResult> {
  installDeterministicPrimitives();
  const sim = new SqlSim(await simSqlite(), seed);
  try {
    await sim.run(steps);
  } catch (e) {
    sim.fail(`threw ${String((e as Error)?.stack ?? e)}`);
  }
  return { seed, failure: sim.failure, trace: sim.sched.trace, stats: sim.stats };
}
