import { RemoteKey, ScionError, type LSN, type RemoteFork, type SegmentAddress, type SegmentId, type SharedName, type VolumeId } from '../../src/core/index.ts';
import type { ByteRange, CreateOutcome, ListedObject, MemoryRemote, Remote } from '../../src/remote/index.ts';
import type { Life } from './crash.ts';
import type { Rng } from './rng.ts';
import type { Scheduler } from './scheduler.ts';

/** Probability of each fault per request (0–1). */
export interface FaultRates {
  /** Fails before taking effect: network error, 5xx after the client's retries, a timeout. */
  fail: number;
  /** A PUT or DELETE takes effect, but its response is lost (a timeout after the fact). */
  lostResponse: number;
  /** A PUT takes effect, its response is lost, and the client's retry gets 412: 'exists'. */
  duplicate: number;
  /** The bucket refuses the URL even after a re-sign: UrlExpired. */
  expired: number;
  /** The response is delayed by one more scheduler tick (other requests overtake it). */
  slow: number;
  /** A GET body comes back cut short. */
  truncate: number;
  /** A GET body comes back with one bit flipped. */
  bitflip: number;
}

export const DEFAULT_FAULTS: FaultRates = { fail: 0.04, lostResponse: 0.03, duplicate: 0.02, expired: 0.01, slow: 0.3, truncate: 0.015, bitflip: 0.015 };

/** What every client's view shares: the one bucket, the clock and Rng, the fault switch, the observers. */
export interface RemoteWorld {
  readonly bucket: MemoryRemote;
  readonly sched: Scheduler;
  readonly rng: Rng;
  faults: FaultRates;
  faultsOn: boolean;
  /** A read asked for a segment that is gone: GC deleted something a commit references. */
  onMissingSegment(sid: SegmentId, who: string): void;
  onSegmentDeleted(sid: SegmentId): void;
  /** A commit PUT created its object. */
  onCommitLanded(vid: VolumeId, lsn: LSN, bytes: Uint8Array): void;
  /** Remote GC pruned a commit record. */
  onCommitDeleted(vid: VolumeId, lsn: LSN): void;
}

/** Counters of what was injected into one client's requests (all its lifetimes). */
export interface FaultCounters {
  faults: number;
  damaged: number;
}

const LIST_PAGE = 8;
const short = (id: string): string => id.slice(-5);

/**
 * One client's view of the shared MemoryRemote, with seeded faults and crash points. Every async
 * request parks in the scheduler before it takes effect (and again if slow), so requests of all
 * clients interleave in a seed-determined order; a dead process's requests never take effect.
 */
export class FaultyRemote implements Remote {
  readonly #world: RemoteWorld;
  readonly #name: string;
  readonly #life: Life;
  readonly #counters: FaultCounters;

  constructor(world: RemoteWorld, name: string, life: Life, counters: FaultCounters) {
    this.#world = world;
    this.#name = name;
    this.#life = life;
    this.#counters = counters;
  }

  async getCommit(vid: VolumeId, lsn: LSN): Promise<Uint8Array | undefined> {
    const what = `GET commit ${short(vid)}@${lsn}`;
    await this.#enter(what);
    this.#failBefore(what);
    const body = await this.#world.bucket.getCommit(vid, lsn);
    await this.#respond(what);
    return body && this.#damage(what, body);
  }

  async putCommit(vid: VolumeId, lsn: LSN, bytes: Uint8Array): Promise<CreateOutcome> {
    return this.#put(`PUT commit ${short(vid)}@${lsn}`, 'commit', async () => {
      const outcome = await this.#world.bucket.putCommit(vid, lsn, bytes);
      if (outcome === 'created') this.#world.onCommitLanded(vid, lsn, bytes);
      return outcome;
    });
  }

  async getName(name: SharedName): Promise<Uint8Array | undefined> {
    const what = `GET name ${name}`;
    await this.#enter(what);
    this.#failBefore(what);
    const body = await this.#world.bucket.getName(name);
    await this.#respond(what);
    return body;
  }

  async putName(name: SharedName, vid: VolumeId, bytes: Uint8Array): Promise<CreateOutcome> {
    const what = `PUT name ${name}`;
    await this.#enter(what);
    this.#failBefore(what);
    const outcome = await this.#world.bucket.putName(name, vid, bytes);
    this.#lostResponse(what);
    await this.#respond(what);
    return outcome;
  }

  async firstLsn(vid: VolumeId, options?: { after?: LSN | undefined }): Promise<LSN | undefined> {
    const what = `LIST log ${short(vid)}${options?.after === undefined ? '' : ` after ${options.after}`}`;
    await this.#enter(what);
    this.#failBefore(what);
    const first = await this.#world.bucket.firstLsn(vid, options);
    await this.#respond(what);
    return first;
  }

  async putFork(fork: RemoteFork): Promise<CreateOutcome> {
    const what = `PUT fork ${short(fork.vid)}`;
    await this.#enter(what);
    this.#failBefore(what);
    const outcome = await this.#world.bucket.putFork(fork);
    this.#lostResponse(what);
    await this.#respond(what);
    return outcome;
  }

  async getLatest(vid: VolumeId): Promise<Uint8Array | undefined> {
    const what = `GET latest ${short(vid)}`;
    await this.#enter(what);
    this.#failBefore(what);
    const body = await this.#world.bucket.getLatest(vid);
    await this.#respond(what);
    return body;
  }

  async putLatest(vid: VolumeId, bytes: Uint8Array): Promise<void> {
    const what = `PUT latest ${short(vid)}`;
    await this.#enter(what);
    this.#failBefore(what);
    await this.#world.bucket.putLatest(vid, bytes);
    this.#lostResponse(what);
    await this.#respond(what);
  }

  async getCompacted(vid: VolumeId): Promise<Uint8Array | undefined> {
    const what = `GET compacted ${short(vid)}`;
    await this.#enter(what);
    this.#failBefore(what);
    const body = await this.#world.bucket.getCompacted(vid);
    await this.#respond(what);
    return body;
  }

  async putCompacted(vid: VolumeId, bytes: Uint8Array): Promise<void> {
    const what = `PUT compacted ${short(vid)}`;
    await this.#enter(what);
    this.#failBefore(what);
    await this.#world.bucket.putCompacted(vid, bytes);
    this.#lostResponse(what);
    await this.#respond(what);
  }

  async putSegment(vid: VolumeId, sid: SegmentId, bytes: Uint8Array): Promise<CreateOutcome> {
    return this.#put(`PUT segment ${short(sid)}`, 'segment', () => this.#world.bucket.putSegment(vid, sid, bytes));
  }

  async getSegmentRange(at: SegmentAddress, range: ByteRange): Promise<Uint8Array> {
    const what = `GET segment ${short(at.sid)} [${range.start},${range.end})`;
    await this.#enter(what);
    this.#failBefore(what);
    const body = this.#readSegment(at, range);
    await this.#respond(what);
    return this.#damage(what, body);
  }

  getSegmentRangeSync(at: SegmentAddress, range: ByteRange): Uint8Array {
    const what = `GET(sync) segment ${short(at.sid)} [${range.start},${range.end})`;
    this.#life.check();
    if (this.#world.faultsOn && this.#life.fires('request')) throw this.#life.kill(`before ${what}`);
    this.#failBefore(what);
    return this.#damage(what, this.#readSegment(at, range));
  }

  async *list(prefix: 'volumes/' | 'segments/'): AsyncIterable<ListedObject> {
    // Pages of a few keys, each listed when it is requested: objects created meanwhile can appear.
    let after = '';
    for (let page = 0; ; page++) {
      const what = `LIST ${prefix} page ${page}`;
      await this.#enter(what);
      this.#failBefore(what);
      const keys = [...this.#world.bucket.objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort().slice(0, LIST_PAGE);
      const objects = keys.map((key) => ({ key, size: this.#world.bucket.objects.get(key)?.bytes.byteLength ?? 0, lastModified: this.#world.bucket.objects.get(key)?.lastModified ?? 0 }));
      await this.#respond(what);
      for (const o of objects) yield o;
      if (keys.length < LIST_PAGE) return;
      after = keys.at(-1) as string;
    }
  }

  async deleteSegment(at: SegmentAddress): Promise<void> {
    const what = `DELETE segment ${short(at.sid)}`;
    await this.#enter(what);
    this.#failBefore(what);
    await this.#world.bucket.deleteSegment(at);
    this.#world.onSegmentDeleted(at.sid);
    this.#lostResponse(what);
    await this.#respond(what);
  }

  async deleteCommit(vid: VolumeId, lsn: LSN): Promise<void> {
    const what = `DELETE commit ${short(vid)}@${lsn}`;
    await this.#enter(what);
    this.#failBefore(what);
    await this.#world.bucket.deleteCommit(vid, lsn);
    this.#world.onCommitDeleted(vid, lsn);
    this.#lostResponse(what);
    await this.#respond(what);
  }

  async #put(what: string, kind: 'commit' | 'segment', apply: () => Promise<CreateOutcome>): Promise<CreateOutcome> {
    await this.#enter(what);
    this.#failBefore(what);
    if (this.#life.fires(`${kind}-before` as const)) throw this.#life.kill(`before ${what} took effect`);
    let outcome = await apply();
    if (this.#life.fires(`${kind}-after` as const)) throw this.#life.kill(`after ${what} landed (${outcome})`);
    this.#lostResponse(what);
    if (outcome === 'created' && this.#chance(this.#world.faults.duplicate)) {
      this.#inject(`duplicate delivery: ${what} landed, the retry got 412`);
      outcome = 'exists';
    }
    await this.#respond(what);
    return outcome;
  }

  #readSegment(at: SegmentAddress, range: ByteRange): Uint8Array {
    if (!this.#world.bucket.objects.has(RemoteKey.segment(at))) this.#world.onMissingSegment(at.sid, this.#name);
    return this.#world.bucket.getSegmentRangeSync(at, range);
  }

  async #enter(what: string): Promise<void> {
    this.#life.check();
    await this.#world.sched.park(`${this.#name} ${what}`);
    this.#life.check();
    if (this.#world.faultsOn && this.#life.fires('request')) throw this.#life.kill(`before ${what}`);
  }

  async #respond(what: string): Promise<void> {
    if (this.#chance(this.#world.faults.slow)) await this.#world.sched.park(`${this.#name} ${what} (slow response)`);
    // A process that died while its request was out never sees the response.
    this.#life.check();
  }

  #failBefore(what: string): void {
    if (this.#chance(this.#world.faults.fail)) {
      this.#inject(`fail: ${what}`);
      throw new ScionError('RemoteUnavailable', `Simulated: ${what} failed (network, 5xx or timeout).`);
    }
    if (this.#chance(this.#world.faults.expired)) {
      this.#inject(`expired URL: ${what}`);
      throw new ScionError('UrlExpired', `Simulated: the bucket refused the URL for ${what} (403) even with a freshly signed one.`);
    }
  }

  #lostResponse(what: string): void {
    if (this.#chance(this.#world.faults.lostResponse)) {
      this.#inject(`lost response: ${what} took effect`);
      throw new ScionError('RemoteUnavailable', `Simulated: ${what} timed out after taking effect.`);
    }
  }

  #damage(what: string, body: Uint8Array): Uint8Array {
    if (body.byteLength > 0 && this.#chance(this.#world.faults.truncate)) {
      const n = this.#world.rng.int(0, body.byteLength - 1);
      this.#counters.damaged++;
      this.#inject(`truncated body: ${what} (${n} of ${body.byteLength} bytes)`);
      return body.slice(0, n);
    }
    if (body.byteLength > 0 && this.#chance(this.#world.faults.bitflip)) {
      const bit = this.#world.rng.int(0, body.byteLength * 8 - 1);
      const out = body.slice();
      out[bit >> 3] = (out[bit >> 3] as number) ^ (1 << (bit & 7));
      this.#counters.damaged++;
      this.#inject(`bit flip: ${what} (bit ${bit} of ${body.byteLength * 8})`);
      return out;
    }
    return body;
  }

  #chance(p: number): boolean {
    return this.#world.faultsOn && this.#world.rng.chance(p);
  }

  #inject(what: string): void {
    this.#counters.faults++;
    this.#world.sched.log(`${this.#name} fault ${what}`);
  }
}
