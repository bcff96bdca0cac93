import type { Tag, VolumeId } from '../../src/core/index.ts';
import { MemoryCatalog, MemoryDirectory, type Catalog, type CatalogContents, type MemoryFile, type StoreFiles, type SyncFile } from '../../src/local/index.ts';

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

/** Which of the store's files a write goes to: a tear in the journal leaves a tail to drop, elsewhere it does not. */
export type StoreFileKind = 'pages' | 'journal' | 'mark';

/**
 * The store's files (page slots, journals, mark) over a MemoryDirectory, each a SimFile. A crash
 * tears one write of any of them; the bytes that survive are `survivors()`.
 */
export class SimDirectory {
  readonly dir: MemoryDirectory;
  readonly files: StoreFiles;
  /** Tear the next write that `tearAt` accepts (an armed 'file-tear' does the same). */
  tearNextWrite = false;

  constructor(dir: MemoryDirectory, life: Life, tearAt: (length: number, kind: StoreFileKind) => Tear | undefined) {
    this.dir = dir;
    const raw = dir.files();
    const sim = (f: MemoryFile, kind: StoreFileKind) => new SimFile(f, life, (n) => tearAt(n, kind), this);
    this.files = { pages: sim(raw.pages as MemoryFile, 'pages'), journals: [sim(raw.journals[0] as MemoryFile, 'journal'), sim(raw.journals[1] as MemoryFile, 'journal')], mark: sim(raw.mark as MemoryFile, 'mark') };
    this.#kinds = new Map([[this.files.journals[0], 'journal'], [this.files.journals[1], 'journal']]);
  }

  readonly #kinds: Map<SyncFile, StoreFileKind>;

  /** The bytes as they are now; `tail` is appended to both journals (a write that had only begun). */
  survivors(tail?: Uint8Array): MemoryDirectory {
    const copy = this.dir.copy();
    if (tail) for (const j of copy.journals) if (j.getSize() > 0) j.write(tail, { at: j.getSize() });
    return copy;
  }

  isJournal(file: SyncFile): boolean {
    return this.#kinds.get(file) === 'journal';
  }
}

/**
 * A store file that a crash can tear: the directory's `tearNextWrite` (or an armed 'file-tear')
 * lands only a prefix of the next write it accepts (possibly all of it, unacknowledged) and dies;
 * or, as a file system that grew the file before writing all its blocks, the whole length with junk.
 */
export class SimFile implements SyncFile {
  readonly inner: MemoryFile;
  readonly #life: Life;
  readonly #tearAt: (length: number) => Tear | undefined;
  readonly #dir: SimDirectory;

  constructor(inner: MemoryFile, life: Life, tearAt: (length: number) => Tear | undefined, dir: SimDirectory) {
    this.inner = inner;
    this.#life = life;
    this.#tearAt = tearAt;
    this.#dir = dir;
  }

  read(buffer: Uint8Array, options: { at: number }): number {
    this.#life.check();
    return this.inner.read(buffer, options);
  }

  write(buffer: Uint8Array, options: { at: number }): number {
    this.#life.check();
    const tear = this.#dir.tearNextWrite || this.#life.armed === 'file-tear' ? this.#tearAt(buffer.byteLength) : undefined;
    if (tear && (this.#dir.tearNextWrite || this.#life.fires('file-tear'))) {
      this.#dir.tearNextWrite = false;
      const { keep, garble } = tear;
      const landed = garble ? buffer.slice() : buffer.subarray(0, keep);
      if (garble) for (let i = keep; i < landed.byteLength; i++) landed[i] = (i * 131 + keep) & 0xff;
      this.inner.write(landed, options);
      // Only a torn journal record leaves a tail the store must drop (torn pages land in free slots).
      this.#life.tornWrite = this.#dir.isJournal(this) && keep < buffer.byteLength && (garble || keep > 0);
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
