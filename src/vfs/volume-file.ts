import {
  Page, PAGE_SIZE, PageCount, PageIdx, ScionError, Snapshot, Tag, type VolumeId,
} from '../core/index.ts';
import type { GraftVersion, Runtime, VolumeReader, VolumeWriter } from '../runtime/index.ts';
import { HeaderCounter } from './header-counter.ts';
import { Lock, type FacadeFile, type FileControl, type LockLevel } from './facade-vfs.ts';
import { refusePragma } from './pragmas.ts';
import type { ReadOracle } from './read-oracle.ts';

/** What the VFS shares between the connections of one worker. */
export interface VfsShared {
  readonly runtime: Runtime;
  /** The connection holding the write lock of each graft: one writer per graft. */
  readonly writers: Map<VolumeId, VolumeFile>;
  readonly stats: { xReads: number; pagesRead: number; pagesMissed: number; readAheadPages: number };
}

/** One read transaction's view: a fixed snapshot and the graft content version it shows. */
interface View {
  readonly reader: VolumeReader;
  /** Undefined for a checkout (pinned to a past snapshot). */
  readonly graft: VolumeId | undefined;
  readonly version: GraftVersion | 'pinned';
}

/**
 * Idle ─SHARED→ reading ─RESERVED→ writing ─FCNTL_SYNC→ (staged) ─FCNTL_COMMIT_PHASETWO→ one local
 * commit ─unlock→ reading/idle. A commit refused at FCNTL_SYNC enters `refused`: SQLite then rolls
 * back by writing the original pages back, which are absorbed (reads show the snapshot the
 * transaction began on, which is what they restore), so SQLite's rollback completes and its cache
 * holds exactly what the volume holds.
 */
type State =
  | { readonly kind: 'idle' }
  | { readonly kind: 'reading'; readonly view: View; readonly hold: Hold }
  /** `touched`: SQLite wrote to the file (its cache may then hold pages a rollback must restore). */
  | { readonly kind: 'writing'; readonly view: View; readonly hold: Hold; readonly writer: VolumeWriter; staged: boolean; touched: boolean }
  | { readonly kind: 'refused'; readonly view: View; readonly hold: Hold };

/** Ends local GC's hold on the snapshot the read transaction began on (kept until the transaction ends). */
type Hold = () => void;

/**
 * A SQLite database file that is a tag: its connection's lock state over the tag's graft. A write
 * transaction that ends without COMMIT_PHASETWO (a rollback, even one that replays pages after a
 * cache spill) is discarded: no commit. Every path out releases the graft's write lock.
 */
export class VolumeFile implements FacadeFile {
  readonly tag: Tag | undefined;
  /** Set for read-only connections pinned to a past snapshot (checkout). */
  readonly pinned: Snapshot | undefined;
  readonly #onClose: (() => void) | undefined;
  readonly #shared: VfsShared;
  readonly #oracle: ReadOracle;
  readonly #counter = new HeaderCounter();
  readonly #scratch = Page.zeroed();
  #state: State = { kind: 'idle' };

  /** `onClose`: a checkout's, run when SQLite closes the file. */
  constructor(shared: VfsShared, oracle: ReadOracle, target: { tag: Tag; pinned?: undefined } | { pinned: Snapshot; onClose: () => void; tag?: undefined }) {
    this.#shared = shared;
    this.#oracle = oracle;
    this.tag = target.tag;
    this.pinned = target.pinned;
    this.#onClose = target.pinned ? target.onClose : undefined;
  }

  /** Whether any connection holds the write lock of this file's graft. */
  jCheckReservedLock(): boolean {
    const graft = this.#viewOrUndefined()?.graft ?? (this.tag && this.#shared.runtime.tagGet(this.tag));
    return graft !== undefined && this.#shared.writers.has(graft);
  }

  /** Undefined when granted; ConcurrentWrite when another connection holds the graft's write lock. */
  jLock(level: LockLevel): ScionError | undefined {
    if (level === Lock.Shared && this.#state.kind === 'idle') {
      const view = this.#openView();
      // Local GC keeps what an open read transaction sees, however many commits land meanwhile.
      this.#state = { kind: 'reading', view, hold: this.#shared.runtime.retainSnapshot(view.reader.snapshot) };
    }
    if (level >= Lock.Reserved && this.#state.kind === 'reading') {
      if (this.pinned) throw new ScionError('InvalidInput', 'This connection is a read-only checkout of a past snapshot. Write through the tag instead.');
      const view = this.#state.view;
      const graft = view.graft as VolumeId;
      const holder = this.#shared.writers.get(graft);
      if (holder && holder !== this) return new ScionError('ConcurrentWrite', `Another connection is writing tag "${this.tag}". Retry when its transaction ends.`, { tag: this.tag ?? '' });
      this.#checkCurrent(view, 'since this transaction began reading');
      const writer = this.#shared.runtime.graftWriter(graft);
      this.#shared.writers.set(graft, this);
      this.#state = { kind: 'writing', view, hold: this.#state.hold, writer, staged: false, touched: false };
    }
    return undefined;
  }

  jUnlock(level: LockLevel): void {
    if (level < Lock.Reserved) this.#endWrite();
    if (level === Lock.None) {
      if (this.#state.kind !== 'idle') this.#state.hold();
      this.#state = { kind: 'idle' };
    }
  }

  jClose(): void {
    this.jUnlock(Lock.None);
    this.#onClose?.();
  }

  /** Bytes of the file as this connection sees it. */
  jFileSize(): number {
    return this.#pages().pageCount * PAGE_SIZE;
  }

  /** Fills `dest` from byte `offset`; returns the bytes that exist (the rest reads as zeros). */
  jRead(dest: Uint8Array, offset: number): number {
    const pages = this.#pages();
    this.#shared.stats.xReads++;
    // Past the end (an empty database, read before its page size is set): nothing to read.
    if (offset >= pages.pageCount * PAGE_SIZE) {
      dest.fill(0);
      return 0;
    }
    const { pageIdx, within } = pageSpan(offset, dest.byteLength);
    const missedBefore = this.#shared.runtime.pagesMissed;
    const options = { readAheadPages: this.#oracle.window };
    // A whole page (SQLite's usual read) goes straight into SQLite's buffer: a read per xRead allocated
    // a page each, and those short-lived buffers were most of the worker's peak memory.
    if (within === 0 && dest.byteLength === PAGE_SIZE) pages.readPageInto(pageIdx, dest, options);
    else {
      // A part of a page (SQLite reads page 1's header at each transaction's start) goes through one scratch page.
      pages.readPageInto(pageIdx, this.#scratch, options);
      dest.set(this.#scratch.subarray(within, within + dest.byteLength));
    }
    const missed = this.#shared.runtime.pagesMissed - missedBefore;
    this.#shared.stats.pagesRead++;
    if (missed > 0) {
      this.#shared.stats.pagesMissed++;
      this.#shared.stats.readAheadPages += this.#oracle.window;
      this.#oracle.missed(pageIdx);
    }
    if (pageIdx === PageIdx.FIRST) this.#counter.present(dest, within, this.#view().version);
    return dest.byteLength;
  }

  jWrite(src: Uint8Array, offset: number): void {
    const { pageIdx, within } = pageSpan(offset, src.byteLength);
    if (this.#state.kind === 'refused') return; // the rollback restoring what the view shows
    const writer = this.#mustWriter();
    this.#touch();
    let page = src;
    if (within !== 0 || src.byteLength !== PAGE_SIZE) {
      page = this.#scratch;
      writer.readPageInto(pageIdx, page);
      page.set(src, within);
    }
    writer.writePage(pageIdx, page);
    if (pageIdx === PageIdx.FIRST) this.#counter.wrote(page);
  }

  jTruncate(bytes: number): void {
    if (this.#state.kind === 'refused') return;
    this.#mustWriter().softTruncate(PageCount.fromBytes(bytes));
    this.#touch();
  }

  /** FCNTL_SYNC stages the commit, FCNTL_COMMIT_PHASETWO makes it. */
  jFileControl(op: FileControl): void {
    if (op === 'sync') this.#stageCommit();
    else this.#commit();
  }

  /** The page size and journal mode are Scion's (see refusePragma). */
  jPragma(name: string, value: string | undefined): string | undefined {
    return refusePragma(name, value);
  }

  /**
   * FCNTL_SYNC: the transaction is about to commit; refuse now (ConcurrentWrite, nothing committed) if
   * what it read changed. A push landing changes nothing it read, so it never refuses for that.
   */
  #stageCommit(): void {
    const state = this.#state;
    if (state.kind !== 'writing') return;
    try {
      this.#checkCurrent(state.view, 'while this transaction was writing');
    } catch (e) {
      state.writer.discard();
      this.#releaseWriteLock(state.view);
      this.#state = { kind: 'refused', view: state.view, hold: state.hold };
      this.#counter.forget();
      throw e;
    }
    state.staged = true;
  }

  /** FCNTL_COMMIT_PHASETWO: one new local LSN, durable on return; a failure fails the COMMIT. */
  #commit(): void {
    const state = this.#state;
    if (state.kind !== 'writing' || !state.staged) return;
    const graft = state.view.graft as VolumeId;
    try {
      const reader = state.writer.commit();
      this.#state = { kind: 'reading', view: { reader, graft, version: this.#shared.runtime.graftVersion(graft) }, hold: state.hold };
      this.#counter.committed(this.#state.view.version);
    } catch (e) {
      this.#state = { kind: 'reading', view: state.view, hold: state.hold };
      // SQLite's journal is finished: its cache holds what was not committed, so it must not trust it.
      this.#counter.forget();
      throw e;
    } finally {
      this.#releaseWriteLock(state.view);
    }
  }

  #openView(): View {
    const runtime = this.#shared.runtime;
    if (this.pinned) return { reader: runtime.volumeReader(this.pinned), graft: undefined, version: 'pinned' };
    const graft = runtime.mustGetTag(this.tag as Tag);
    return { reader: runtime.graftReader(graft), graft, version: runtime.graftVersion(graft) };
  }

  #viewOrUndefined(): View | undefined {
    return this.#state.kind === 'idle' ? undefined : this.#state.view;
  }

  /** The transaction's view; outside one (SQLite reading the header before it locks), the latest. */
  #view(): View {
    return this.#viewOrUndefined() ?? this.#openView();
  }

  /** What reads see: the writer (read-your-writes), else the view's snapshot. */
  #pages(): VolumeReader | VolumeWriter {
    return this.#state.kind === 'writing' ? this.#state.writer : this.#view().reader;
  }

  #touch(): void {
    if (this.#state.kind === 'writing') this.#state.touched = true;
  }

  #mustWriter(): VolumeWriter {
    if (this.#state.kind !== 'writing') throw new ScionError('Internal', 'BUG: SQLite wrote without holding the RESERVED lock');
    return this.#state.writer;
  }

  /** ConcurrentWrite unless the tag still names the view's graft and the graft's content is what the view read. */
  #checkCurrent(view: View, when: string): void {
    const runtime = this.#shared.runtime;
    const graft = view.graft as VolumeId;
    if (runtime.tagGet(this.tag as Tag) !== graft) {
      throw new ScionError('ConcurrentWrite', `Database "${this.tag}" was moved to another graft (a clone, reset or fork) ${when}. Nothing was committed: roll back and retry the transaction.`, { graft });
    }
    if (!runtime.graftIsAt(graft, view.version as GraftVersion)) {
      throw new ScionError('ConcurrentWrite', `Database "${this.tag}" changed (another commit or a pull) ${when}. Nothing was committed: roll back and retry the transaction.`, { graft });
    }
  }

  #endWrite(): void {
    const state = this.#state;
    if (state.kind !== 'writing' && state.kind !== 'refused') return;
    if (state.kind === 'writing') {
      state.writer.discard();
      this.#releaseWriteLock(state.view);
      // A rollback that never reached the file leaves SQLite's cache and counter as they were.
      if (state.touched) this.#counter.forget();
    }
    this.#state = { kind: 'reading', view: state.view, hold: state.hold };
  }

  #releaseWriteLock(view: View): void {
    if (view.graft && this.#shared.writers.get(view.graft) === this) this.#shared.writers.delete(view.graft);
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
