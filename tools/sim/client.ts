import type { IdSource, Page, PageIdx, VolumeId } from '../../src/core/index.ts';
import { MemoryCatalog, MemoryDirectory, SlotStore, type CatalogContents } from '../../src/local/index.ts';
import { Runtime, type FramePlan, type PageLookup } from '../../src/runtime/index.ts';
import { Life, restoreCatalog, SimCatalog, SimDirectory } from './crash.ts';
import { FaultyRemote, type FaultCounters, type RemoteWorld } from './faulty-remote.ts';
import type { Rng } from './rng.ts';

/** What a client needs from the simulation it lives in. */
export interface ClientEnv {
  readonly world: RemoteWorld;
  readonly rng: Rng;
  readonly ids: IdSource;
  /** Passed to the runtime (see SimConfig.replicaMinLsn). */
  readonly replicaMinLsn?: number | undefined;
  /** A catalog write's latency: parks it sometimes. */
  catalogPause(label: string): Promise<void>;
  log(line: string): void;
  violation(kind: string, message: string): void;
}

/**
 * One simulated device: a process (runtime over a MemoryFile store, a MemoryCatalog and a faulty
 * view of the shared remote) that can crash at any moment and restart from what was durable.
 */
export class SimClient {
  readonly idx: number;
  readonly name: string;
  readonly counters: FaultCounters = { faults: 0, damaged: 0 };
  readonly #env: ClientEnv;
  life!: Life;
  file!: SimDirectory;
  catalog!: SimCatalog;
  store!: SlotStore;
  rt!: Runtime;
  /** The graft holding this client's copy of the shared bank (the one tagged 'bank'). */
  bank!: VolumeId;
  /** Forks and extra clones made along the way. */
  readonly side = new Map<VolumeId, 'fork' | 'clone'>();
  /** Grafts left behind after a divergence. */
  readonly abandoned = new Set<VolumeId>();
  /** Resets in progress, by the diverged graft: one way out at a time. */
  readonly resetting = new Map<VolumeId, Promise<string>>();
  /** Next transfer sequence number (ids are `${idx}.${seq}`); the app's memory, kept across crashes. */
  seq = 0;
  /** Local GC runs so far: an open transaction's stale snapshot may lose pages to one. */
  localGcRuns = 0;
  restarting = false;
  crashes = 0;
  #crashBytes = new MemoryDirectory();
  #crashCatalog: Promise<CatalogContents> = new MemoryCatalog().load();
  #pendingTornTail = false;
  /** The bytes at the last crash end with a partial record, which the next open must drop. */
  #crashTorn = false;

  constructor(idx: number, env: ClientEnv) {
    this.idx = idx;
    this.name = `c${idx}`;
    this.#env = env;
  }

  /** Starts the first process on an empty store and catalog. */
  async boot(): Promise<void> {
    await this.#open(new MemoryDirectory(), new MemoryCatalog(), 0);
  }

  /**
   * Starts a new process on what survived the last crash: the file bytes (a torn tail is dropped
   * by the store) and the catalog as it was. Recovery may itself crash; then it starts over.
   */
  async restart(): Promise<string[]> {
    this.restarting = true;
    const notes: string[] = [];
    try {
      for (;;) {
        const epoch = this.life.epoch + 1;
        const armCrash = this.#env.world.faultsOn && this.#env.rng.chance(0.1);
        let dropped = false;
        const expectDrop = this.#crashTorn;
        await this.#open(this.#crashBytes, await restoreCatalog(this.#crashCatalog), epoch, (info) => {
          dropped = true;
          notes.push(`torn tail dropped: ${info.bytes} bytes at ${info.offset} (${info.reason})`);
        }, armCrash);
        if (expectDrop && !dropped) this.#env.violation('torn-tail-kept', `${this.name} reopened a store whose last write was torn, and kept it`);
        if (this.rt) break;
      }
    } finally {
      this.restarting = false;
    }
    return notes;
  }

  async #open(dir: MemoryDirectory, catalog: MemoryCatalog, epoch: number, onTailDropped?: (info: { offset: number; bytes: number; reason: string }) => void, armCrash = false): Promise<void> {
    const env = this.#env;
    const life = new Life(epoch, (why) => this.#onDeath(why));
    // A crash during recovery at startup: the next restart has to cope with it too.
    if (armCrash) life.armed = env.rng.pick(['catalog-before', 'catalog-after', 'request', 'commit-after'] as const);
    this.life = life;
    this.file = new SimDirectory(dir, life, (n, kind) => (kind === 'pages' && env.rng.chance(0.5) ? undefined : { keep: env.rng.int(0, n), garble: env.rng.chance(0.5) }));
    this.catalog = new SimCatalog(catalog, life, (label) => env.catalogPause(`${this.name} ${label}`));
    this.store = SlotStore.openSync(this.file.files, { medium: 'memory', ...(onTailDropped ? { onTailDropped } : {}) });
    const remote = new FaultyRemote(env.world, this.name, life, this.counters);
    this.rt = undefined as unknown as Runtime;
    try {
      // Odd clients plan frames as the VFS does (a hot first frame, then small ones); even ones use the default.
      const planFrames = this.idx % 2 === 1 ? planHotHeader : undefined;
      // Clients 0 and 1 of every 4 send small pushes inline in the commit object; the others always upload segments.
      const inlineMaxBytes = this.idx % 4 < 2 ? {} : { inlineMaxBytes: 0 };
      this.rt = await Runtime.open({ store: this.store, catalog: this.catalog, remote, ids: env.ids, ...(env.replicaMinLsn === undefined ? {} : { replicaMinLsn: env.replicaMinLsn }), ...(planFrames ? { planFrames } : {}), ...inlineMaxBytes });
    } catch (e) {
      if (!life.dead) throw e;
      env.log(`${this.name} crashed again during recovery at startup`);
      return;
    }
    const bank = this.rt.tagGet('bank');
    if (bank) this.bank = bank;
  }

  /** Kills the process now, optionally leaving a torn, never-acknowledged write at the file's end. */
  kill(why: string, tornTail: boolean): void {
    this.#pendingTornTail = tornTail;
    this.life.kill(why);
  }

  #onDeath(why: string): void {
    this.crashes++;
    let tail: Uint8Array | undefined;
    if (this.#pendingTornTail) {
      // A journal write that had only begun: a few bytes that may even start like a record header.
      tail = new Uint8Array(this.#env.rng.int(1, 64));
      this.#env.rng.fill(tail);
      if (this.#env.rng.chance(0.5) && tail.length >= 4) tail.set([0x10, 0, 0, 0]);
    }
    const bytes = this.file.survivors(tail);
    this.#crashTorn = this.life.tornWrite || this.#pendingTornTail;
    this.#pendingTornTail = false;
    this.#crashBytes = bytes;
    // What was durable at this instant (load copies synchronously); awaited at restart.
    this.#crashCatalog = this.catalog.inner.load();
    this.#crashCatalog.catch(() => undefined);
    this.#env.log(`${this.name} CRASH (epoch ${this.life.epoch}): ${why}`);
  }
}

/** Page 1 alone in a first, hot frame, then frames of 3 pages: segments of many small frames. */
function planHotHeader(pages: PageLookup): FramePlan {
  const rest = [...pages.keys()].filter((idx) => idx !== 1).sort((a, b) => a - b);
  const frames: PageIdx[][] = pages.has(1 as PageIdx) ? [[1 as PageIdx]] : [];
  for (let i = 0; i < rest.length; i += 3) frames.push(rest.slice(i, i + 3));
  return { frames, hotFrames: pages.has(1 as PageIdx) ? 1 : 0 };
}
