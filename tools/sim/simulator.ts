import { crc32c, isScionError, type VolumeId } from '../../src/core/index.ts';
import { MemoryRemote } from '../../src/remote/index.ts';
import { audit, heal } from './audit.ts';
import { BankInvalid, PageBank } from './bank.ts';
import { TransferBook, type TransferState } from './book.ts';
import { SimClient } from './client.ts';
import { Crash } from './crash.ts';
import { installDeterministicPrimitives } from './determinism.ts';
import { DEFAULT_FAULTS, type FaultRates, type RemoteWorld } from './faulty-remote.ts';
import { Invariants } from './invariants.ts';
import { BANK_TAG, OPS, type OpKind } from './ops.ts';
import { Rng, simIds } from './rng.ts';
import { Scheduler } from './scheduler.ts';

export interface SimConfig {
  readonly seed: number;
  /** Devices sharing the remote. */
  readonly clients: number;
  /** Operations scheduled before the final sync and audit. */
  readonly ops: number;
  /** Operations in flight at once (their requests interleave). */
  readonly maxInFlight: number;
  readonly accounts: number;
  readonly faults: FaultRates;
  /** Multiplies every fault rate but `slow` (the CLI's --faults); recorded so a replay can repeat it. */
  readonly faultScale: number;
  /** Remote GC's grace period. With 0, GC racing a push can delete its segment: the documented race. */
  readonly gcGraceMs: number;
  /**
   * Remote GC retains each volume's last this many LSNs (undefined: every snapshot, GC deletes only
   * unreferenced segments). Reads of older snapshots may then find segments gone (counted, not a
   * violation); the auditor checks that every retained LSN reads as clients saw it before.
   */
  readonly retainCommits?: number | undefined;
  /** Remote GC also prunes commit records below the retained checkpoint (needs retainCommits and a grace period above minPruneGraceMs). */
  readonly pruneCommits?: boolean | undefined;
  /** Runtimes read a volume's compacted index from this LSN on (the default waits for 128: the simulated logs are shorter). */
  readonly replicaMinLsn?: number | undefined;
  /** Probability that a transfer's local commit is torn by a crash. */
  readonly commitTearRate: number;
  readonly weights: Readonly<Record<OpKind, number>>;
}

export const DEFAULT_WEIGHTS: Readonly<Record<OpKind, number>> = {
  transfer: 26, push: 14, pull: 14, fetch: 3, read: 6, checkout: 5, checksum: 4, fork: 2, clone: 2, tag: 2,
  graftDelete: 2, remoteGc: 4, remoteCompact: 0, localGc: 3, crash: 2, arm: 4, timeJump: 2,
};

/** The configuration of `seed`: client count and concurrency vary with the seed unless given. */
export function simConfig(seed: number, overrides: Partial<SimConfig> = {}): SimConfig {
  const faultScale = overrides.faultScale ?? 1;
  const scaled = Object.fromEntries(Object.entries(DEFAULT_FAULTS).map(([k, p]) => [k, k === 'slow' ? p : Math.min(1, p * faultScale)])) as unknown as FaultRates;
  return {
    seed,
    clients: 2 + (seed % 3),
    ops: 120,
    maxInFlight: 1 + ((seed >>> 2) % 4),
    accounts: 64,
    faults: scaled,
    faultScale,
    gcGraceMs: 60_000,
    commitTearRate: 0.03,
    weights: DEFAULT_WEIGHTS,
    ...overrides,
  };
}

export interface SimFailure {
  /** A short name of the broken invariant, e.g. 'bank-invariant', 'lost-ack', 'hang'. */
  readonly kind: string;
  readonly message: string;
}

export interface SimStats {
  steps: number;
  ops: Record<string, number>;
  outcomes: { ok: number; failed: number; crashed: number };
  faults: number;
  crashes: number;
  transfers: Record<TransferState, number>;
  remoteLsn: number;
  segmentsDeleted: number;
  /** Reads of an open transaction's stale snapshot that failed because local GC evicted its pages. */
  staleSnapshotEvictions: number;
  /** Reads that found a segment retention deleted (a snapshot older than the retained range). */
  commitsDeleted: number;
  compactions: number;
  readsPastRetention: number;
  ms: number;
}

export interface SimResult {
  readonly seed: number;
  readonly config: SimConfig;
  readonly failure: SimFailure | undefined;
  readonly trace: readonly string[];
  readonly stats: SimStats;
  /** Digest of the final remote objects and the trace: equal runs have equal fingerprints. */
  readonly fingerprint: string;
}

/**
 * One deterministic simulation run: N clients share one MemoryRemote through faulty views; a seeded
 * scheduler interleaves their operations (bank transfers, sync, GC, forks, crashes); invariants are
 * checked as it goes, then all clients sync without faults and the whole remote history is audited.
 */
export class Simulation {
  readonly config: SimConfig;
  readonly rng: Rng;
  readonly sched: Scheduler;
  readonly world: RemoteWorld;
  readonly book = new TransferBook();
  readonly bank: PageBank;
  readonly invariants: Invariants;
  readonly clients: SimClient[] = [];
  /** The remote volume every client's bank graft is attached to. */
  shared!: VolumeId;
  readonly stats: SimStats;
  /** Per volume, the oldest LSN remote GC has retained so far (it only rises). */
  readonly retainedFrom = new Map<VolumeId, number>();
  readonly #inflight = new Map<number, string>();
  #opSeq = 0;
  #pushes = 0;
  #failure: SimFailure | undefined;

  constructor(config: SimConfig) {
    installDeterministicPrimitives();
    this.config = config;
    this.rng = new Rng(config.seed);
    this.sched = new Scheduler(this.rng);
    this.bank = new PageBank(config.accounts);
    this.stats = {
      steps: 0, ops: {}, outcomes: { ok: 0, failed: 0, crashed: 0 }, faults: 0, crashes: 0,
      transfers: this.book.counts(), remoteLsn: 0, segmentsDeleted: 0, commitsDeleted: 0, compactions: 0, staleSnapshotEvictions: 0, readsPastRetention: 0, ms: 0,
    };
    const bucket = new MemoryRemote({ now: this.sched.now });
    this.invariants = new Invariants(this.bank, this.book, bucket, (kind, message) => this.violation(kind, message), config.retainCommits);
    this.world = {
      bucket,
      sched: this.sched,
      rng: this.rng,
      faults: config.faults,
      faultsOn: false,
      onMissingSegment: (sid, who) => config.retainCommits !== undefined ? void this.stats.readsPastRetention++ : this.violation('missing-segment', `${who} read segment ${sid}, which a commit references but the remote no longer holds`),
      onSegmentDeleted: (sid) => {
        this.stats.segmentsDeleted++;
        this.log(`remote GC deleted segment ${sid.slice(-5)}`);
        this.invariants.onSegmentDeleted(sid);
      },
      onCommitLanded: (vid, lsn, bytes) => this.invariants.onCommitLanded(vid, lsn, bytes),
      onCommitDeleted: (vid, lsn) => {
        this.stats.commitsDeleted++;
        this.invariants.onCommitDeleted(vid, lsn);
      },
    };
    const ids = simIds(this.rng, this.sched.now);
    for (let i = 0; i < config.clients; i++) {
      this.clients.push(
        new SimClient(i, {
          world: this.world,
          rng: this.rng,
          ids,
          replicaMinLsn: config.replicaMinLsn,
          catalogPause: (label) => this.maybePark(label, 0.3),
          log: (line) => this.log(line),
          violation: (kind, message) => this.violation(kind, message),
        }),
      );
    }
  }

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  log(line: string): void {
    this.sched.log(line);
  }

  /** Records the first broken invariant; the run stops at the next step. */
  violation(kind: string, message: string): void {
    this.log(`VIOLATION ${kind}: ${message}`);
    this.#failure ??= { kind, message };
  }

  /** Parks with probability `p`: a latency that lets other operations overtake. */
  async maybePark(label: string, p: number): Promise<void> {
    if (this.rng.chance(p)) await this.sched.park(label);
  }

  /** Runs a push, counted so that the clock never jumps past the GC grace period mid-push. */
  async pushing<T>(run: () => Promise<T>): Promise<T> {
    this.#pushes++;
    try {
      return await run();
    } finally {
      this.#pushes--;
    }
  }

  get pushesInFlight(): number {
    return this.#pushes;
  }

  async run(): Promise<SimResult> {
    const started = performance.now();
    try {
      await this.#genesis();
      this.world.faultsOn = true;
      await this.#mainLoop();
      if (!this.failed) await heal(this);
      if (!this.failed) await audit(this);
    } catch (e) {
      this.violation('simulator-error', e instanceof Error ? (e.stack ?? e.message) : String(e));
    }
    this.stats.ms = Math.round(performance.now() - started);
    this.stats.steps = this.sched.step;
    this.stats.transfers = this.book.counts();
    this.stats.crashes = this.clients.reduce((n, c) => n + c.crashes, 0);
    this.stats.faults = this.clients.reduce((n, c) => n + c.counters.faults, 0);
    this.stats.remoteLsn = this.shared ? this.invariants.remoteLatest(this.shared) : 0;
    const objects = [...this.world.bucket.objects].map(([k, o]) => `${k}:${o.bytes.byteLength}`).sort().join('\n');
    const fingerprint = crc32c(new TextEncoder().encode(`${objects}\n${this.sched.trace.join('\n')}`)).toString(16).padStart(8, '0');
    return { seed: this.config.seed, config: this.config, failure: this.#failure, trace: this.sched.trace, stats: this.stats, fingerprint };
  }

  // ── Phases ─────────────────────────────────────────────────────────────────────────────

  /** Client 0 creates the bank and pushes it; the others clone it. No faults. */
  async #genesis(): Promise<void> {
    for (const c of this.clients) await this.drive(c.boot());
    const c0 = this.clients[0] as SimClient;
    const g = await this.drive(c0.rt.tagOpen(BANK_TAG));
    this.shared = g.remote;
    this.bank.setup(c0.rt, g.local);
    const pushed = await this.drive(c0.rt.graftPush(g.local));
    if (pushed.outcome !== 'pushed') throw new Error(`BUG: genesis push ${pushed.outcome}`);
    c0.bank = g.local;
    for (const c of this.clients.slice(1)) c.bank = (await this.drive(c.rt.graftClone(this.shared, { tag: BANK_TAG }))).local;
    this.log(`genesis: bank on remote ${this.shared} with ${this.config.accounts} accounts, ${this.clients.length} clients`);
  }

  async #mainLoop(): Promise<void> {
    let started = 0;
    const maxSteps = this.config.ops * 200;
    while (!this.failed) {
      await this.sched.settle();
      if (this.failed) break;
      this.sched.nextStep();
      this.sched.advance(this.rng.int(1, 10));
      const canStart = started < this.config.ops && this.#inflight.size < this.config.maxInFlight;
      if (this.sched.parkedCount > 0 && (!canStart || this.rng.chance(0.6))) {
        this.log(`release ${this.sched.releaseOne()}`);
      } else if (canStart) {
        started++;
        this.#startRandomOp();
      } else if (this.#inflight.size > 0) {
        this.violation('hang', `operations never finish and nothing is parked: ${[...this.#inflight.values()].join(', ')}`);
      } else break;
      if (this.sched.step > maxSteps) this.violation('hang', `more than ${maxSteps} steps: ${[...this.#inflight.values()].join(', ')}`);
    }
    // Let what is still running (operations, and continuations they left behind) finish.
    await this.#drain();
  }

  async #drain(): Promise<void> {
    while (!this.failed) {
      await this.sched.settle();
      if (this.sched.parkedCount > 0) {
        this.sched.nextStep();
        this.log(`release ${this.sched.releaseOne()}`);
      } else if (this.#inflight.size > 0) {
        this.violation('hang', `operations never finish and nothing is parked: ${[...this.#inflight.values()].join(', ')}`);
      } else return;
    }
  }

  // ── Operations ─────────────────────────────────────────────────────────────────────────

  #startRandomOp(): void {
    const c = this.rng.pick(this.clients);
    if (c.restarting) {
      this.log(`${c.name} is restarting: no new operation`);
      return;
    }
    if (c.life.dead || !c.rt) {
      this.#launch(c, 'restart', () => this.restartClient(c));
      return;
    }
    const kind = this.rng.weighted(this.config.weights);
    this.stats.ops[kind] = (this.stats.ops[kind] ?? 0) + 1;
    this.#launch(c, kind, () => OPS[kind](this, c));
  }

  async restartClient(c: SimClient): Promise<string> {
    const notes = await c.restart();
    const resolved = this.book.resolveInDoubt(c.idx, (g) => c.store.latestLsnSync(g));
    return [`epoch ${c.life.epoch}`, ...notes, ...(resolved.length ? [`in-doubt: ${resolved.join(' ')}`] : [])].join('; ');
  }

  #launch(c: SimClient, name: string, run: () => Promise<string>): void {
    const id = ++this.#opSeq;
    const life = c.life;
    const before = { ...c.counters, localGcRuns: c.localGcRuns };
    const label = `${name}#${id}`;
    this.#inflight.set(id, `${c.name} ${label}`);
    this.log(`${c.name} start ${label}`);
    run()
      .then(
        (outcome) => {
          this.stats.outcomes.ok++;
          this.log(`${c.name} end ${label} → ${outcome}`);
        },
        (e: unknown) => this.#classify(c, label, life.dead, before, e),
      )
      .finally(() => this.#inflight.delete(id));
  }

  /** Whether an operation's error is one the injected faults explain; otherwise a violation. */
  #classify(c: SimClient, name: string, died: boolean, before: { faults: number; damaged: number; localGcRuns: number }, e: unknown): void {
    const err = e as Error;
    if (died || err instanceof Crash || err?.cause instanceof Crash) {
      this.stats.outcomes.crashed++;
      this.log(`${c.name} end ${name} → crashed`);
      return;
    }
    const code = isScionError(e) ? e.code : (err?.name ?? 'Error');
    // Whatever the remote does, a device must be able to open its local data.
    if (name.startsWith('restart#')) return this.violation('open-failed', `${c.name} could not open its runtime: ${code}: ${err?.message}`);
    const faulted = c.counters.faults > before.faults;
    const damaged = c.counters.damaged > before.damaged;
    // Known limitation: local GC keeps what the grafts' latest snapshots reach, not what an open
    // transaction's older snapshot still reads (after a push, its local pages are unreachable).
    // Only transfers and reads hold a snapshot across awaits.
    const holdsSnapshot = /^(transfer|read)#/.test(name);
    const staleAfterGc = code === 'PageNotLocal' && holdsSnapshot && c.localGcRuns > before.localGcRuns && !faulted;
    if (staleAfterGc) this.stats.staleSnapshotEvictions++;
    const expected =
      code === 'ConcurrentWrite' ||
      staleAfterGc ||
      ((code === 'RemoteUnavailable' || code === 'UrlExpired' || code === 'PageNotLocal') && faulted) ||
      ((code === 'Corrupt' || code === 'InvalidInput') && damaged) ||
      (code === 'Corrupt' && this.config.retainCommits !== undefined && err.message.includes('is missing from the remote')) ||
      // Checkouts and fetches of history remote GC pruned (local GC has no such excuse).
      (code === 'CommitNotFound' && this.config.pruneCommits === true && !name.startsWith('localGc#'));
    if (expected) {
      this.stats.outcomes.failed++;
      this.log(`${c.name} end ${name} → ${code}: ${err.message}`);
      return;
    }
    const kind = e instanceof BankInvalid ? 'bank-invariant' : 'unexpected-error';
    this.violation(kind, `${c.name} ${name}: ${code}: ${err?.message}${err?.stack ? `\n${err.stack.split('\n').slice(1, 8).join('\n')}` : ''}`);
  }

  /** Drives `promise` to completion outside the main loop (setup, final sync, audit). */
  async drive<T>(promise: Promise<T>): Promise<T> {
    let done = false;
    const settled = promise.finally(() => (done = true));
    settled.catch(() => undefined);
    for (;;) {
      await this.sched.settle();
      if (done) return settled;
      if (this.sched.parkedCount === 0) throw new Error('BUG: a driven operation hangs with nothing parked');
      this.sched.nextStep();
      this.sched.releaseOne();
    }
  }
}

export async function simulate(seed: number, overrides: Partial<SimConfig> = {}): Promise<SimResult> {
  return new Simulation(simConfig(seed, overrides)).run();
}

