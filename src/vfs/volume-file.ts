import {
  Page, PAGE_SIZE, PageCount, PageIdx, ScionError, Snapshot, Tag, type LSN, type VolumeId,
} from '../core/index.ts';
import type { Runtime, VolumeReader, VolumeWriter } from '../runtime/index.ts';
import { CHANGE_COUNTER_OFFSET, patchCounter, snapshotCounter } from './header.ts';
import type { ReadOracle } from './read-oracle.ts';

/** SQLite's lock levels (sqlite3.h). */
export const Lock = { None: 0, Shared: 1, Reserved: 2, Pending: 3, Exclusive: 4 } as const;
type LockLevel = (typeof Lock)[keyof typeof Lock];

/** What the VFS shares between the connections of one worker. */
export interface VfsShared {
  readonly runtime: Runtime;
  /** The connection holding the write lock of each graft: one writer per graft. */
  readonly writers: Map<VolumeId, VolumeFile>;
  /** Per graft, the head of the last commit made through this VFS and the change counter SQLite wrote in it. */
  readonly ownHeads: Map<VolumeId, { vid: VolumeId; lsn: LSN; counter: Uint8Array }>;
  readonly stats: { xReads: number; pagesRead: number; pagesMissed: number; readAheadFrames: number };
}

/**
 * A SQLite database file that is a tag: its connection's lock state over the tag's graft.
 *   Idle ─SHARED→ reading one snapshot ─RESERVED→ writing (a VolumeWriter on that snapshot)
 *   ─FCNTL_SYNC→ staged ─FCNTL_COMMIT_PHASETWO→ one local commit ─unlock→ Idle.
 * A write transaction that ends without COMMIT_PHASETWO (a rollback, even one that replays pages
 * after a cache spill) is discarded: no commit. Every path out releases the graft's write lock.
 */
export class VolumeFile {
  readonly tag: Tag | undefined;
  /** Set for read-only connections pinned to a past snapshot (checkout). */
  readonly pinned: Snapshot | undefined;
  readonly #shared: VfsShared;
  readonly #oracle: ReadOracle;
  #lock: LockLevel = Lock.None;
  #graft: VolumeId | undefined;
  #reader: VolumeReader | undefined;
  #writer: VolumeWriter | undefined;
  #staged = false;
  /** Ends local GC's hold on the read transaction's snapshot. */
  #releaseReader: (() => void) | undefined;
  /** Why this write transaction can no longer commit; cleared when it ends. */
  #failed: ScionError | undefined;

  constructor(shared: VfsShared, oracle: ReadOracle, target: { tag: Tag; pinned?: undefined } | { pinned: Snapshot; tag?: undefined }) {
    this.#shared = shared;
    this.#oracle = oracle;
    this.tag = target.tag;
    this.pinned = target.pinned;
  }

  get lockLevel(): LockLevel {
    return this.#lock;
  }

  get hasWriter(): boolean {
    return this.#writer !== undefined;
  }

  /** Whether any connection holds the write lock of this file's graft. */
  isReservedAnywhere(): boolean {
    const graft = this.#graft ?? (this.tag && this.#shared.runtime.tagGet(this.tag));
    return graft !== undefined && this.#shared.writers.has(graft);
  }

  lock(level: LockLevel): 'ok' | 'busy' {
    if (level === Lock.Shared && this.#lock === Lock.None) {
      this.#reader = this.#openReader();
      // Local GC keeps what an open read transaction sees, however many commits land meanwhile.
      this.#releaseReader = this.#shared.runtime.retainSnapshot(this.#reader.snapshot);
      this.#lock = Lock.Shared;
      return 'ok';
    }
    if (level >= Lock.Reserved && !this.#writer) {
      if (this.pinned) throw new ScionError('InvalidInput', 'This connection is a read-only checkout of a past snapshot. Write through the tag instead.');
      const graft = this.#graft as VolumeId;
      const holder = this.#shared.writers.get(graft);
      if (holder && holder !== this) return 'busy';
      const latest = this.#shared.runtime.graftSnapshot(graft);
      if (!Snapshot.equals(latest, (this.#reader as VolumeReader).snapshot)) {
        throw new ScionError('ConcurrentWrite', `Tag "${this.tag}" changed since this transaction began reading. Roll back and retry the transaction.`, { graft });
      }
      this.#writer = this.#shared.runtime.graftWriter(graft);
      this.#shared.writers.set(graft, this);
    }
    this.#lock = Math.max(this.#lock, level) as LockLevel;
    return 'ok';
  }

  unlock(level: LockLevel): void {
    if (level < Lock.Reserved) this.#endWrite();
    if (level === Lock.None) {
      this.#releaseReader?.();
      this.#releaseReader = undefined;
      this.#reader = undefined;
      this.#graft = undefined;
    }
    this.#lock = Math.min(this.#lock, level) as LockLevel;
  }

  /** Bytes of the file as this connection sees it. */
  size(): number {
    return this.#view().pageCount * PAGE_SIZE;
  }

  /** Fills `dest` from byte `offset`; returns the bytes that exist (the rest reads as zeros). */
  read(dest: Uint8Array, offset: number): number {
    const { pageIdx, within } = pageSpan(offset, dest.byteLength);
    const view = this.#view();
    this.#shared.stats.xReads++;
    if (pageIdx > view.pageCount) {
      dest.fill(0);
      return 0;
    }
    const missedBefore = this.#shared.runtime.pagesMissed;
    const page = view.readPage(pageIdx, { frames: this.#oracle.window });
    const missed = this.#shared.runtime.pagesMissed - missedBefore;
    this.#shared.stats.pagesRead++;
    if (missed > 0) {
      this.#shared.stats.pagesMissed++;
      if (this.#oracle.window > 1) this.#shared.stats.readAheadFrames += this.#oracle.window - 1;
      this.#oracle.missed(pageIdx);
    }
    dest.set(page.subarray(within, within + dest.byteLength));
    if (pageIdx === 1 && within < CHANGE_COUNTER_OFFSET + 72) this.#presentCounter(dest, within, view.snapshot);
    return dest.byteLength;
  }

  write(src: Uint8Array, offset: number): void {
    const writer = this.#mustWriter();
    const { pageIdx, within } = pageSpan(offset, src.byteLength);
    if (within === 0 && src.byteLength === PAGE_SIZE) {
      writer.writePage(pageIdx, src);
      return;
    }
    const page = pageIdx <= writer.pageCount ? writer.readPage(pageIdx) : Page.zeroed();
    page.set(src, within);
    writer.writePage(pageIdx, page);
  }

  truncate(bytes: number): void {
    this.#mustWriter().softTruncate(PageCount.fromBytes(bytes));
  }

  /** FCNTL_SYNC: the transaction is about to commit; refuse now if the graft moved on. */
  stageCommit(): void {
    const writer = this.#mustWriter();
    const graft = this.#graft as VolumeId;
    if (!Snapshot.equals(this.#shared.runtime.graftSnapshot(graft), writer.snapshot)) {
      const err = new ScionError('ConcurrentWrite', `Tag "${this.tag}" changed (a pull or reset) while this transaction was writing. Roll back and retry it.`, { graft });
      this.#failed = err;
      this.#releaseWriter();
      throw err;
    }
    this.#staged = true;
  }

  /** FCNTL_COMMIT_PHASETWO: one new local LSN, durable on return. */
  commit(): void {
    if (!this.#staged || !this.#writer) return;
    const writer = this.#writer;
    const graft = this.#graft as VolumeId;
    const page1 = writer.dirtyPages > 0 ? writer.readPage(PageIdx.FIRST) : undefined;
    try {
      this.#reader = writer.commit();
    } finally {
      this.#releaseWriter();
    }
    const head = Snapshot.head(this.#reader.snapshot);
    if (head && page1) this.#shared.ownHeads.set(graft, { ...head, counter: page1.slice(CHANGE_COUNTER_OFFSET, CHANGE_COUNTER_OFFSET + 4) });
  }

  /** The snapshot this connection reads, for pragmas and stats. */
  snapshot(): Snapshot {
    return this.#view().snapshot;
  }

  #openReader(): VolumeReader {
    if (this.pinned) return this.#shared.runtime.volumeReader(this.pinned);
    this.#graft = this.#shared.runtime.mustGetTag(this.tag as Tag);
    return this.#shared.runtime.graftReader(this.#graft);
  }

  /** What reads see: the writer (read-your-writes), the transaction's reader, or the latest snapshot. */
  #view(): VolumeReader | VolumeWriter {
    if (this.#failed) throw this.#failed;
    return this.#writer ?? this.#reader ?? this.#openReader();
  }

  #mustWriter(): VolumeWriter {
    if (this.#failed) throw this.#failed;
    if (!this.#writer) throw new ScionError('Internal', 'BUG: SQLite wrote without holding the RESERVED lock');
    return this.#writer;
  }

  /**
   * SQLite keeps its cache while the change counter reads unchanged. A snapshot this VFS committed
   * carries the counter SQLite itself wrote; any other (a pull, another device) gets one derived from
   * its head, so caches are dropped exactly when the content changed underneath them.
   */
  #presentCounter(dest: Uint8Array, within: number, snapshot: Snapshot): void {
    const head = Snapshot.head(snapshot);
    const own = this.#graft && this.#shared.ownHeads.get(this.#graft);
    if (own && head && own.vid === head.vid && own.lsn === head.lsn) return;
    patchCounter(dest, within, snapshotCounter(head));
  }

  #endWrite(): void {
    this.#failed = undefined;
    this.#staged = false;
    if (!this.#writer) return;
    this.#writer.discard();
    this.#releaseWriter();
  }

  #releaseWriter(): void {
    this.#writer = undefined;
    this.#staged = false;
    if (this.#graft && this.#shared.writers.get(this.#graft) === this) this.#shared.writers.delete(this.#graft);
  }
}

/** The page a read or write touches; it must not cross a page boundary (4096-byte pages only). */
function pageSpan(offset: number, length: number): { pageIdx: PageIdx; within: number } {
  const within = offset % PAGE_SIZE;
  if (within + length > PAGE_SIZE) {
    throw new ScionError('PageSizeUnsupported', `SQLite accessed ${length} bytes at offset ${offset}, across a 4096-byte page boundary: the database's page size is not 4096. Scion volumes use 4096-byte pages; import the file (it is converted) or run "PRAGMA page_size=4096; VACUUM" first.`);
  }
  return { pageIdx: PageIdx.fromOffset(offset), within };
}
