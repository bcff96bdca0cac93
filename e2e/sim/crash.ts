import type { Tag, VolumeId } from '../../src/core/index.ts';
import { MemoryCatalog, type Catalog, type CatalogContents, type MemoryFile, type SyncFile } from '../../src/local/index.ts';

/** Thrown where a simulated process dies; every later call of that process throws it too. */
export class Crash extends Error {
  override readonly name = 'Crash';
}

/** Where an armed crash fires: inside push, inside a catalog write, or inside a local store write. */
export const CRASH_POINTS = [
  'segment-before', // push: before the segment PUT takes effect
  'segment-after', // push: the segment landed, the response never came back
  'commit-before', // push: the pending commit is recorded, the commit PUT has not taken effect
  'commit-after', // push: the commit landed, before the local success bookkeeping
  'catalog-before', // a catalog write that never happened
  'catalog-after', // a catalog write that happened, but the process died before it returned
  'file-tear', // a local store write torn at a random byte
  'request', // any remote request, before it takes effect
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

/**
 * One lifetime of a client process. Every wrapper (file, catalog, remote view) checks it first, so a
 * dead process never touches anything again; `kill` captures what survives the crash.
 */
export class Life {
  readonly epoch: number;
  armed: CrashPoint | undefined;
  /** The crash tore a store write: a partial record is at the file's end. */
  tornWrite = false;
  #dead = false;
  readonly #onDeath: (why: string) => void;

  constructor(epoch: number, onDeath: (why: string) => void) {
    this.epoch = epoch;
    this.#onDeath = onDeath;
  }

  get dead(): boolean {
    return this.#dead;
  }

  check(): void {
    if (this.#dead) throw new Crash(`process epoch ${this.epoch} is dead`);
  }

  /** Whether the armed crash point is `point` (it is then disarmed). */
  fires(point: CrashPoint): boolean {
    if (this.armed !== point || this.#dead) return false;
    this.armed = undefined;
    return true;
  }

  /** Dies now: the owner snapshots the file and catalog exactly as they are at this moment. */
  kill(why: string): Crash {
    if (!this.#dead) {
      this.#dead = true;
      this.#onDeath(why);
    }
    return new Crash(`crash: ${why}`);
  }
}

/** How a crash tears a write: `keep` bytes land; with `garble`, the rest of the length is there but holds junk. */
export interface Tear {
  readonly keep: number;
  readonly garble: boolean;
}

/**
 * The store's file: a MemoryFile that a crash can tear. `tearNextWrite` (or an armed 'file-tear')
 * lands only a prefix of the next record (possibly all of it, unacknowledged) and dies; or, as a
 * file system that grew the file before writing all its blocks, the whole length with junk after it.
 */
export class SimFile implements SyncFile {
  readonly inner: MemoryFile;
  readonly #life: Life;
  readonly #tearAt: (length: number) => Tear;
  tearNextWrite = false;

  constructor(inner: MemoryFile, life: Life, tearAt: (length: number) => Tear) {
    this.inner = inner;
    this.#life = life;
    this.#tearAt = tearAt;
  }

  read(buffer: Uint8Array, options: { at: number }): number {
    this.#life.check();
    return this.inner.read(buffer, options);
  }

  write(buffer: Uint8Array, options: { at: number }): number {
    this.#life.check();
    if (this.tearNextWrite || this.#life.fires('file-tear')) {
      this.tearNextWrite = false;
      const { keep, garble } = this.#tearAt(buffer.byteLength);
      const landed = garble ? buffer.slice() : buffer.subarray(0, keep);
      if (garble) for (let i = keep; i < landed.byteLength; i++) landed[i] = (i * 131 + keep) & 0xff;
      this.inner.write(landed, options);
      this.#life.tornWrite = keep < buffer.byteLength && (garble || keep > 0);
      throw this.#life.kill(`store write torn at ${keep} of ${buffer.byteLength} bytes${garble ? ', junk after it' : ''}`);
    }
    return this.inner.write(buffer, options);
  }

  truncate(size: number): void {
    this.#life.check();
    this.inner.truncate(size);
  }

  getSize(): number {
    this.#life.check();
    return this.inner.getSize();
  }

  flush(): void {
    this.#life.check();
  }

  close(): void {}
}

/**
 * The catalog over a MemoryCatalog: writes may be slow (parked) and may crash before or after they
 * take effect; a write in flight at a crash is either done or not, never half done.
 */
export class SimCatalog implements Catalog {
  readonly inner: MemoryCatalog;
  readonly #life: Life;
  readonly #pause: (label: string) => Promise<void>;

  constructor(inner: MemoryCatalog, life: Life, pause: (label: string) => Promise<void>) {
    this.inner = inner;
    this.#life = life;
    this.#pause = pause;
  }

  async load(): Promise<CatalogContents> {
    this.#life.check();
    return this.inner.load();
  }

  putTag(tag: Tag, vid: VolumeId): Promise<void> {
    return this.#write(`catalog putTag ${tag}`, () => this.inner.putTag(tag, vid));
  }

  deleteTag(tag: Tag): Promise<void> {
    return this.#write(`catalog deleteTag ${tag}`, () => this.inner.deleteTag(tag));
  }

  putGraft(graft: Parameters<Catalog['putGraft']>[0]): Promise<void> {
    return this.#write(`catalog putGraft ${graft.local.slice(-5)}`, () => this.inner.putGraft(graft));
  }

  deleteGraft(vid: VolumeId): Promise<void> {
    return this.#write(`catalog deleteGraft ${vid.slice(-5)}`, () => this.inner.deleteGraft(vid));
  }

  close(): void {}

  async #write(label: string, apply: () => Promise<void>): Promise<void> {
    this.#life.check();
    await this.#pause(label);
    this.#life.check();
    if (this.#life.fires('catalog-before')) throw this.#life.kill(`before ${label}`);
    await apply();
    if (this.#life.fires('catalog-after')) throw this.#life.kill(`after ${label}`);
  }
}

/** A new MemoryCatalog holding exactly `contents` (what was durable at the crash). */
export async function restoreCatalog(contents: Promise<CatalogContents>): Promise<MemoryCatalog> {
  const { tags, grafts } = await contents;
  const catalog = new MemoryCatalog();
  for (const g of grafts) await catalog.putGraft(g);
  for (const [tag, vid] of tags) await catalog.putTag(tag, vid);
  return catalog;
}
