import {
  assert, ByteWriter, Commit, corrupt, crc32c, isScionError, LSN, Page, PAGE_SIZE, PageSet, ScionError, type PageIdx, type SegmentId, type VolumeId,
} from '../core/index.ts';
import { CommitIndex } from './commit-index.ts';
import { FreeSlots } from './free-slots.ts';
import { HighWaterMark, ShortWrite } from './high-water-mark.ts';
import {
  decodeRecord, encodeJournalHeader, encodeRecord, JOURNAL_HEADER, readAll, readJournalGeneration, RecordType, zipPlacements,
  type JournalRecord, type LegacyPlacement, type LegacySegment, type LogBase, type Placement, type SegmentPlacements,
} from './journal.ts';
import type { CommitEntry, LocalStore, StoreStats } from './local-store.ts';
import { LogStore } from './log-store.ts';
import { SlotReadAhead } from './read-ahead.ts';
import { SlotTable } from './slot-table.ts';
import type { StoreFiles } from './store-files.ts';
import type { SyncFile } from './sync-file.ts';

export interface SlotStoreOptions {
  medium: LocalStore['medium'];
  /** Called when an unacknowledged, torn journal tail was cut off at open (a crash mid-write; nothing acknowledged is lost). */
  onTailDropped?: (info: { offset: number; bytes: number; reason: string }) => void;
  /**
   * Open a damaged store by keeping its intact part: the journal up to the damage and the pages
   * still present. Without it, damage to acknowledged data fails the open with Corrupt.
   */
  salvage?: boolean;
  /** Called when `salvage` dropped acknowledged data, with what was lost. */
  onSalvaged?: (info: { reason: string; journalBytesLost: number; pagesLost: number }) => void;
  /**
   * The journal is checkpointed once it is this many bytes and twice its last checkpoint. Default 64 KiB:
   * an open replays the records after the checkpoint, so this bounds what a small store's open reads
   * (a large store checkpoints at twice its state anyway).
   */
  checkpointBytes?: number;
}

/** Pages moved per compaction step: 256 KiB copied, a few ms on OPFS. */
const COMPACT_STEP_PAGES = 64;
/** Bytes of the reused record buffer kept between records. */
const RECORD_WRITER_MAX = 64 << 10;
/** Pages moved per migration step out of a format-1 store: 1 MiB of extra space at most. */
const MIGRATE_CHUNK_PAGES = 256;
/**
 * A checkpoint follows once the records after the last one reach 1/4 of its size: an open replays at
 * most that tail (replaying a record costs more per byte than reading the image), and the image is
 * rewritten about once per quarter of its size appended.
 */
const CHECKPOINT_TAIL_SHARE = 4;
/**
 * What `checkpointTailSync` leaves for an open to replay: below both, the tail is cheaper to replay
 * than the image is to rewrite. Pages count apart from bytes: a record naming a run of pages is a few
 * bytes, but replaying it places every page (an import's commit: 49,378 pages in 74 KB took 19 ms).
 */
const IDLE_TAIL_BYTES = 16 << 10;
const IDLE_TAIL_PAGES = 1024;

/**
 * The LocalStore of format 2: page bytes in 4 KiB slots of one file, metadata in a journal, and
 * the acknowledged end of the journal in a high-water mark file of its own.
 *
 * - A page's slot is reused once the record that freed it is durable; slots freed inside the file
 *   are filled by moving the topmost pages down (compaction, a few pages per step), and the file is
 *   cut after its last used slot, so the page file follows the live pages, not the history.
 * - The journal is replaced by a checkpoint (one Image record in the other journal file) once the
 *   records after the last one reach a quarter of its size, so opening reads O(live metadata), never
 *   page bytes, and replays at most a small tail.
 * - Write order of every operation: pages (flush), journal record (flush), mark (flush); it is
 *   acknowledged only after the mark. At open, anything missing or damaged below the mark is
 *   Corrupt; an intact record past it is kept, a torn one is cut silently.
 */
export class SlotStore implements LocalStore {
  readonly medium: LocalStore['medium'];
  readonly #files: StoreFiles;
  readonly #checkpointBytes: number;
  #index = new CommitIndex();
  #table = new SlotTable();
  /** Pages a format-1 migration has not moved yet, read from `volumes.log` meanwhile. */
  readonly #legacy = new Map<SegmentId, Map<PageIdx, LegacyPlacement>>();
  #legacyCount = 0;
  /** The pages of #legacy by ascending offset: a migration step moves the topmost, then cuts the file below them. */
  #legacyQueue: { sid: SegmentId; idx: PageIdx; offset: number }[] = [];
  /** While `openSync` runs: only then may the format-1 file be removed (OPFS removes it once the open returns). */
  #opening = true;
  #salvage = false;
  #onSalvaged: SlotStoreOptions['onSalvaged'];
  readonly #free = new FreeSlots();
  /** The free slots inside the file are listed at the first allocation after open, not during it. */
  #freeUnlisted = false;
  #generation = 0;
  #journalEnd = JOURNAL_HEADER;
  #markSeq = 0;
  #baseBytes = 0;
  /** Pages placed, moved or evicted by the records after the last checkpoint: what replaying them costs. */
  #tailPages = 0;
  #closed = false;
  /** A failed write could not be taken back: no more writes until a reopen. */
  #outcomeUnknown = false;
  #legacyRemoved = false;
  /** Single-page reads go through here: runs of slots while they move forward. */
  readonly #readAhead = new SlotReadAhead();
  /** Runs of up to 256 pages are copied here before one write call (sync writes consume it at once); grown as needed. */
  #scratch = new Uint8Array(0);
  /** Journal records are encoded here (one per commit), not into a new buffer each time. */
  #recordWriter = new ByteWriter(256);

  private constructor(files: StoreFiles, options: SlotStoreOptions) {
    this.#files = files;
    this.medium = options.medium;
    this.#checkpointBytes = options.checkpointBytes ?? 64 << 10;
  }

  /** Opens the store on its files: reads the mark and the active journal (never page bytes), migrating a format-1 log first. */
  static openSync(files: StoreFiles, options: SlotStoreOptions): SlotStore {
    const store = new SlotStore(files, options);
    store.#salvage = options.salvage === true;
    store.#onSalvaged = options.onSalvaged;
    store.#load(options);
    store.#opening = false;
    return store;
  }

  // ── Reads ─────────────────────────────────────────────────────────────────────────────────

  latestLsnSync(vid: VolumeId): LSN | undefined {
    return this.#index.latest(vid);
  }

  getCommitSync(vid: VolumeId, lsn: LSN): Commit | undefined {
    return this.#index.get(vid, lsn);
  }

  oldestLsnSync(vid: VolumeId): LSN | undefined {
    return this.#index.oldest(vid);
  }

  findPageVersionSync(vid: VolumeId, pageIdx: PageIdx, start: LSN, end: LSN): LSN | undefined {
    return this.#index.findVersion(vid, pageIdx, start, end);
  }

  volumesSync(): VolumeId[] {
    return this.#index.volumes();
  }

  hasPageSync(sid: SegmentId, pageIdx: PageIdx): boolean {
    return this.#table.slotOf(sid, pageIdx) !== undefined || (this.#legacy.get(sid)?.has(pageIdx) ?? false);
  }

  readPageSync(sid: SegmentId, pageIdx: PageIdx): Page | undefined {
    const page = Page.zeroed();
    return this.readPageIntoSync(sid, pageIdx, page) ? page : undefined;
  }

  readPageIntoSync(sid: SegmentId, pageIdx: PageIdx, target: Uint8Array): boolean {
    this.#checkOpen();
    assert(target.byteLength === PAGE_SIZE, `readPageIntoSync needs a ${PAGE_SIZE}-byte target, got ${target.byteLength}`);
    const slot = this.#table.slotOf(sid, pageIdx);
    if (slot !== undefined) {
      const read = this.#readAhead.read(this.#files.pages, slot, this.#table.slotCount, target);
      if (!read || crc32c(target) !== this.#table.pageCrcOf(sid, pageIdx)) throw this.#damaged(sid, pageIdx, slot);
      return true;
    }
    const old = this.#legacy.get(sid)?.get(pageIdx);
    if (!old) return false;
    target.set(this.#mustReadLegacy(sid, pageIdx, old));
    return true;
  }

  readPagesSync(sid: SegmentId, pageIdxs: Iterable<PageIdx>): Map<PageIdx, Page> {
    this.#checkOpen();
    const inLegacy = this.#legacy.get(sid);
    const wanted: [PageIdx, number][] = [];
    const out = new Map<PageIdx, Page>();
    for (const idx of pageIdxs) {
      const slot = this.#table.slotOf(sid, idx);
      if (slot !== undefined) wanted.push([idx, slot]);
      const old = inLegacy?.get(idx);
      if (old) out.set(idx, this.#mustReadLegacy(sid, idx, old));
    }
    for (const [i, bytes] of this.#readSlots(wanted.map(([, slot]) => slot))) {
      const [idx, slot] = wanted[i] as [PageIdx, number];
      if (bytes === undefined || crc32c(bytes) !== this.#table.pageCrcOf(sid, idx)) throw this.#damaged(sid, idx, slot);
      out.set(idx, bytes as Page);
    }
    return out;
  }

  cachedPagesSync(): Map<SegmentId, PageSet> {
    const out = new Map(this.#table.segments());
    for (const [sid, held] of this.#legacy) out.set(sid, PageSet.of([...(out.get(sid) ?? []), ...held.keys()]));
    return out;
  }

  statsSync(): StoreStats {
    const { pages, journals, mark } = this.#files;
    return {
      commits: this.#index.commitCount,
      pages: this.#table.pageKeys + this.#legacyCount,
      slots: this.#table.usedSlots,
      freeSlots: this.#table.slotCount - this.#table.usedSlots,
      fileBytes: pages.getSize() + journals[0].getSize() + journals[1].getSize() + mark.getSize() + (this.#legacyCount > 0 ? (this.#files.legacy?.getSize() ?? 0) : 0),
      journalBytes: this.#journalEnd,
      journalTailBytes: this.#journalEnd - this.#baseBytes,
    };
  }

  // ── Writes ────────────────────────────────────────────────────────────────────────────────

  appendCommitsSync(given: readonly CommitEntry[]): void {
    this.#checkOpen();
    const entries = given.map((e) => (e.commit.checkpoint ? { ...e, commit: Commit.withoutCheckpoint(e.commit) } : e));
    const pages = this.#index.checkAppend(entries);
    this.#withNewPages(pages, (at) => {
      let i = 0;
      return {
        type: RecordType.Commits,
        entries: entries.map(({ commit, pages: held }) => {
          if (!held) return { commit };
          const mine = at.slice(i, (i += held.size));
          return { commit, at: mine };
        }),
      };
    });
    this.#upkeepIfJournalFull();
  }

  putPagesSync(sid: SegmentId, held: ReadonlyMap<PageIdx, Page>): void {
    this.#checkOpen();
    // Segments are immutable: a page held already is the same bytes, so it is not written again.
    const fresh = PageSet.of([...held.keys()].filter((idx) => !this.hasPageSync(sid, idx)));
    if (fresh.isEmpty) return;
    const pages = [...fresh].map((idx) => Page.from(held.get(idx) as Uint8Array));
    this.#withNewPages(pages, (at) => ({ type: RecordType.Pages, placed: { sid, pages: fresh, at } }));
    this.#upkeepIfJournalFull();
  }

  linkPagesSync(sid: SegmentId, sources: ReadonlyMap<PageIdx, SegmentId>): PageSet {
    this.#checkOpen();
    const linked: PageIdx[] = [];
    const at: Placement[] = [];
    for (const idx of PageSet.of(sources.keys())) {
      const source = this.#table.slotOf(sources.get(idx) as SegmentId, idx);
      if (source === undefined || this.hasPageSync(sid, idx)) continue;
      linked.push(idx);
      at.push({ slot: source, crc: this.#table.crcOf(source) });
    }
    if (linked.length > 0) {
      this.#commit({ type: RecordType.LinkPages, placed: { sid, pages: PageSet.of(linked), at } });
      this.#upkeepIfJournalFull();
    }
    return PageSet.of(linked);
  }

  dropVolumeSync(vid: VolumeId): void {
    this.#checkOpen();
    if (this.#index.latest(vid) === undefined) return;
    this.#commit({ type: RecordType.DropVolume, vid });
    this.#trimAndMaintain();
  }

  startLogSync(vid: VolumeId, first: LSN, given: readonly Commit[]): void {
    this.#checkOpen();
    const commits = given.map(Commit.withoutCheckpoint);
    assert(this.#index.latest(vid) === undefined, `log ${vid} started at ${first} but it holds commits already`);
    assert(commits.at(-1)?.lsn === first, `log ${vid} started at ${first} without its commit ${first}`);
    let previous = 0;
    for (const c of commits) {
      assert(c.vid === vid && c.lsn > previous, `log ${vid} started with commit ${c.vid}@${c.lsn} out of order`);
      Commit.validate(c);
      previous = c.lsn;
    }
    this.#commit({ type: RecordType.StartLog, vid, first, commits });
    this.#upkeepIfJournalFull();
  }

  squashSync(bases: ReadonlyMap<VolumeId, LSN>): void {
    this.#checkOpen();
    const moves: LogBase[] = [];
    for (const [vid, first] of bases) {
      const [oldest, latest] = [this.#index.oldest(vid), this.#index.latest(vid)];
      if (oldest === undefined || latest === undefined || first <= oldest) continue;
      assert(first <= latest, `squashing ${vid} to ${first}, past its latest commit ${latest}`);
      moves.push([vid, first]);
    }
    if (moves.length === 0) return;
    this.#commit({ type: RecordType.Squash, bases: moves });
    this.#trimAndMaintain();
  }

  evictPagesSync(evictions: ReadonlyMap<SegmentId, PageSet>): void {
    this.#checkOpen();
    const evicted: [SegmentId, PageSet][] = [];
    for (const [sid, pages] of evictions) {
      const present = [...pages].filter((idx) => this.hasPageSync(sid, idx));
      if (present.length > 0) evicted.push([sid, PageSet.of(present)]);
    }
    if (evicted.length === 0) return;
    this.#commit({ type: RecordType.EvictPages, evicted });
    this.#trimAndMaintain();
  }

  #journalFull(): boolean {
    return this.#journalEnd >= Math.max(this.#checkpointBytes, this.#baseBytes + this.#baseBytes / CHECKPOINT_TAIL_SHARE);
  }

  /** Commits alone free nothing, but their records fill the journal: checkpoint it in time. */
  #upkeepIfJournalFull(): void {
    if (this.#journalFull()) this.#upkeep();
  }

  compactStepSync(): boolean {
    this.#checkOpen();
    if (this.#legacyCount > 0) {
      try {
        if (this.#migrateStep()) return true;
      } catch (e) {
        // A migration stuck on a full disk must not stop the journal's checkpoints.
        if (!isScionError(e, 'QuotaExceeded') || !this.#journalFull()) throw e;
      }
    }
    if (this.#journalFull()) {
      this.#checkpoint();
      return this.#hasHoles();
    }
    if (!this.#hasHoles()) return false;
    const moves: [number, number][] = [];
    const reserved = new Set<number>();
    for (let from = this.#table.slotCount - 1; from >= 0 && moves.length < COMPACT_STEP_PAGES; from--) {
      if (!this.#table.isUsed(from)) continue;
      const to = this.#freeSlots().peek((s) => this.#isFree(s) && !reserved.has(s));
      if (to === undefined || to >= from) break;
      this.#free.pop(() => true);
      reserved.add(to);
      moves.push([from, to]);
    }
    if (moves.length === 0) return false;
    const crcs = moves.map(([from]) => this.#table.crcOf(from));
    const read = this.#readSlots(moves.map(([from]) => from));
    const copies: { slot: number; page: Uint8Array }[] = [];
    for (const [i, bytes] of read) {
      const [from, to] = moves[i] as [number, number];
      if (bytes === undefined || crc32c(bytes) !== crcs[i]) {
        const key = this.#table.ownersOf(from)[0] as { sid: SegmentId; idx: PageIdx };
        throw this.#damaged(key.sid, key.idx, from);
      }
      copies.push({ slot: to, page: bytes });
    }
    try {
      this.#writeSlots(copies);
      this.#commit({ type: RecordType.MovePages, moves });
    } catch (e) {
      for (const [, to] of moves) this.#free.push(to);
      throw e;
    }
    this.#trimFile();
    return this.#hasHoles() || this.#journalFull();
  }

  checkpointTailSync(): boolean {
    this.#checkOpen();
    const tailBytes = this.#journalEnd - this.#baseBytes;
    if (tailBytes < IDLE_TAIL_BYTES && this.#tailPages < IDLE_TAIL_PAGES) return false;
    this.#checkpoint();
    return true;
  }

  closeSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    const { pages, journals, mark, legacy } = this.#files;
    for (const f of [pages, journals[0], journals[1], mark]) f.close();
    // The format-1 file stays open while pages are read from it; once removed, its owner closed it.
    if (legacy && !this.#legacyRemoved) legacy.close();
  }

  // ── Write path ────────────────────────────────────────────────────────────────────────────

  /** Writes pages into free slots, then the record naming them; on failure the slots stay free. */
  #withNewPages(pages: readonly Page[], record: (at: Placement[]) => JournalRecord): void {
    const slots = this.#allocate(pages.length);
    const at = pages.map((p, i) => ({ slot: slots[i] as number, crc: crc32c(p) }));
    try {
      if (pages.length > 0) this.#writeSlots(pages.map((page, i) => ({ slot: slots[i] as number, page })));
      this.#commit(record(at));
    } catch (e) {
      // Unless the record may be durable: then its pages must stay where it says they are.
      if (!this.#outcomeUnknown) this.#release(slots);
      throw e;
    }
  }

  /** Lowest free slots first, then new ones past the end. */
  #allocate(n: number): number[] {
    const slots: number[] = [];
    const taken = new Set<number>();
    while (slots.length < n) {
      const slot = this.#freeSlots().pop((s) => this.#isFree(s) && !taken.has(s));
      if (slot === undefined) break;
      taken.add(slot);
      slots.push(slot);
    }
    for (let s = this.#table.slotCount; slots.length < n; s++) slots.push(s);
    return slots;
  }

  /** Slots allocated for a write that failed: below the end they are free again; past it the file is cut back. */
  #release(slots: readonly number[]): void {
    const end = this.#table.slotCount;
    for (const s of slots) if (s < end) this.#free.push(s);
    this.#readAhead.invalidate();
    try {
      if (this.#files.pages.getSize() > end * PAGE_SIZE) this.#files.pages.truncate(end * PAGE_SIZE);
    } catch {
      // The next open cuts the file after its last used slot anyway.
    }
  }

  #writeSlots(writes: readonly { slot: number; page: Uint8Array }[]): void {
    const sorted = [...writes].sort((a, b) => a.slot - b.slot);
    const file = this.#files.pages;
    this.#readAhead.invalidate();
    try {
      for (let i = 0; i < sorted.length; ) {
        let j = i + 1;
        while (j < sorted.length && j - i < 256 && (sorted[j] as { slot: number }).slot === (sorted[j - 1] as { slot: number }).slot + 1) j++;
        // One scratch buffer for every run: a large write (an import) leaves no trail of 1 MiB garbage buffers.
        // Grown by doubling: runs of every size otherwise made a new buffer at each larger one.
        if (this.#scratch.byteLength < (j - i) * PAGE_SIZE) this.#scratch = new Uint8Array(Math.min(256, 2 ** Math.ceil(Math.log2(j - i))) * PAGE_SIZE);
        const run = this.#scratch.subarray(0, (j - i) * PAGE_SIZE);
        for (let k = i; k < j; k++) run.set((sorted[k] as { page: Uint8Array }).page, (k - i) * PAGE_SIZE);
        const written = file.write(run, { at: (sorted[i] as { slot: number }).slot * PAGE_SIZE });
        if (written !== run.byteLength) throw new ShortWrite(written, run.byteLength);
        i = j;
      }
      file.flush();
    } catch (e) {
      throw storageError(e, `${writes.length} pages`);
    }
  }

  /** Reads slots in as few calls as possible; index → bytes (undefined where the file is too short). */
  #readSlots(slots: readonly number[]): Map<number, Uint8Array | undefined> {
    const order = slots.map((slot, i) => ({ slot, i })).sort((a, b) => a.slot - b.slot);
    const out = new Map<number, Uint8Array | undefined>();
    for (let i = 0; i < order.length; ) {
      let j = i + 1;
      while (j < order.length && j - i < 256 && (order[j] as { slot: number }).slot === (order[j - 1] as { slot: number }).slot + 1) j++;
      const first = (order[i] as { slot: number }).slot;
      const run = new Uint8Array((j - i) * PAGE_SIZE);
      const n = this.#files.pages.read(run, { at: first * PAGE_SIZE });
      for (let k = i; k < j; k++) {
        const o = (k - i) * PAGE_SIZE;
        out.set((order[k] as { i: number }).i, n >= o + PAGE_SIZE ? run.subarray(o, o + PAGE_SIZE) : undefined);
      }
      i = j;
    }
    return out;
  }

  /** Appends one record, flushes, moves the mark past it, then applies it in memory. All or nothing. */
  #commit(record: JournalRecord): void {
    this.#checkWritable();
    const bytes = encodeRecord(record, this.#recordWriter);
    // A large record (an import's commit) must not keep its buffer alive: it is written once, then dropped.
    if (this.#recordWriter.capacity > RECORD_WRITER_MAX) this.#recordWriter = new ByteWriter(256);
    const journal = this.#active();
    const start = this.#journalEnd;
    const takeBack = () => {
      journal.truncate(start);
      journal.flush();
    };
    try {
      const written = journal.write(bytes, { at: start });
      if (written !== bytes.byteLength) throw new ShortWrite(written, bytes.byteLength);
      journal.flush();
    } catch (e) {
      // Not acknowledged (the mark is where it was): take the record back so a reopen does not find it either.
      this.#undoOrGiveUp(takeBack, e);
      throw storageError(e, `a journal record of ${bytes.byteLength} bytes`);
    }
    this.#advanceMark({ generation: this.#generation, journalEnd: start + bytes.byteLength }, takeBack, `a journal record of ${bytes.byteLength} bytes`);
    this.#journalEnd = start + bytes.byteLength;
    this.#apply(record);
  }

  /**
   * Moves the mark to `next`. A mark write that fails may still have landed (a flush that throws after
   * the bytes reached the disk), so the mark is first written back to where it was — under a newer
   * sequence number, so it wins over whatever landed — and only then does `undo` take back what the
   * failed mark would have covered. Nothing below a mark that may be durable is ever cut.
   */
  #advanceMark(next: { generation: number; journalEnd: number }, undo: () => void, what: string): void {
    try {
      HighWaterMark.write(this.#files.mark, { seq: this.#markSeq + 1, ...next });
    } catch (e) {
      try {
        HighWaterMark.write(this.#files.mark, { seq: this.#markSeq + 1, generation: this.#generation, journalEnd: this.#journalEnd });
      } catch {
        this.#giveUp(e);
      }
      this.#markSeq++;
      this.#undoOrGiveUp(undo, e);
      throw storageError(e, what);
    }
    this.#markSeq++;
  }

  /** Runs `undo`; if it fails, what the error said was not committed may survive a reopen: give up. */
  #undoOrGiveUp(undo: () => void, cause: unknown): void {
    try {
      undo();
    } catch {
      this.#giveUp(cause);
    }
  }

  /** The files may or may not hold the failed write: refuse writes until a reopen tells which. */
  #giveUp(cause: unknown): never {
    this.#outcomeUnknown = true;
    throw this.#outcomeUnknownError(cause);
  }

  #outcomeUnknownError(cause?: unknown): ScionError {
    return new ScionError(
      'OutcomeUnknown',
      'A write of the local store failed and could not be taken back, so it may or may not be durable. The store accepts no more writes; reopen it (reload the page) to see which: nothing acknowledged before was lost.',
      undefined, cause === undefined ? undefined : { cause },
    );
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (this.#outcomeUnknown) throw this.#outcomeUnknownError();
  }

  /** Writes the whole state as one Image record into the other journal, then points the mark at it. */
  #checkpoint(): void {
    this.#checkWritable();
    const image = encodeRecord({ type: RecordType.Image, commits: this.#index.all(), bases: this.#index.bases(), table: this.#table });
    const base = concat(image, ...this.#legacyRecords());
    const generation = this.#generation + 1;
    const next = this.#files.journals[generation % 2] as SyncFile;
    try {
      next.truncate(0);
      const header = encodeJournalHeader(generation);
      if (next.write(header, { at: 0 }) !== header.byteLength) throw new ShortWrite(0, header.byteLength);
      const written = next.write(base, { at: JOURNAL_HEADER });
      if (written !== base.byteLength) throw new ShortWrite(written, base.byteLength);
      next.flush();
    } catch (e) {
      try {
        next.truncate(0);
      } catch {
        // Ignored at open: the mark still names the old journal.
      }
      throw storageError(e, `a checkpoint of ${base.byteLength} bytes`);
    }
    // If the mark is taken back, the new journal stays as it is: the open ignores the journal the mark does not name.
    this.#advanceMark({ generation, journalEnd: JOURNAL_HEADER + base.byteLength }, () => {}, `a checkpoint of ${base.byteLength} bytes`);
    const old = this.#active();
    this.#generation = generation;
    this.#journalEnd = JOURNAL_HEADER + base.byteLength;
    this.#baseBytes = this.#journalEnd;
    this.#tailPages = 0;
    try {
      old.truncate(0);
      old.flush();
    } catch {
      // The next open empties the journal the mark does not name.
    }
  }

  /** After a free: cut the page file after its last used slot, and run one bounded compaction step. */
  #trimAndMaintain(): void {
    this.#trimFile();
    this.#upkeep();
  }

  /**
   * One step of upkeep after an acknowledged write. It never fails that write: an error here (a full
   * disk, a damaged page) leaves the work for a later step, and reads report damage themselves.
   */
  #upkeep(): void {
    try {
      this.compactStepSync();
    } catch {
      // retried at the next write or compactStepSync
    }
  }

  #trimFile(): void {
    if (!this.#table.trimSlotCount()) return;
    const count = this.#table.slotCount;
    this.#readAhead.invalidate();
    try {
      this.#files.pages.truncate(count * PAGE_SIZE);
      this.#files.pages.flush();
    } catch {
      // Freed slots past the end are cut at the next open.
    }
  }

  // ── State ─────────────────────────────────────────────────────────────────────────────────

  #apply(record: JournalRecord): void {
    this.#tailPages += pagesNamed(record);
    switch (record.type) {
      case RecordType.Commits:
        for (const { commit, at } of record.entries) {
          this.#index.add(commit);
          if (at && commit.segment) this.#placeAll({ sid: commit.segment.sid, pages: commit.segment.pages, at });
        }
        return;
      case RecordType.Pages:
      case RecordType.LinkPages:
        this.#placeAll(record.placed);
        return;
      case RecordType.DropVolume:
        for (const sid of this.#index.drop(record.vid)) this.#forgetSegment(sid);
        return;
      case RecordType.EvictPages:
        for (const [sid, pages] of record.evicted) for (const idx of pages) this.#forget(sid, idx);
        return;
      case RecordType.MovePages:
        for (const [from, to] of record.moves) this.#move(from, to);
        return;
      case RecordType.Squash:
        for (const [vid, first] of record.bases) for (const sid of this.#index.squash(vid, first)) this.#forgetSegment(sid);
        // The last checkpoint no longer measures the live metadata: checkpoint again once the journal is full.
        this.#baseBytes = 0;
        return;
      case RecordType.StartLog:
        this.#index.start(record.vid, record.first);
        for (const commit of record.commits) this.#index.add(commit);
        return;
      case RecordType.LegacyPages:
        for (const { sid, pages, at } of record.segments) {
          let held = this.#legacy.get(sid);
          if (!held) this.#legacy.set(sid, (held = new Map()));
          let i = 0;
          for (const idx of pages) {
            if (!held.has(idx)) this.#legacyCount++;
            held.set(idx, at[i++] as LegacyPlacement);
          }
        }
        return;
      case RecordType.Migrated:
        for (const placed of record.placed) this.#placeAll(placed);
        return;
      case RecordType.Image:
        this.#tailPages = 0;
        this.#index = new CommitIndex();
        for (const [vid, first] of record.bases) this.#index.start(vid, first);
        this.#table = record.table;
        this.#legacy.clear();
        this.#legacyCount = 0;
        this.#free.clear();
        this.#freeUnlisted = true;
        for (const commit of record.commits) this.#index.add(commit);
        return;
      case RecordType.Base:
        this.#tailPages = 0;
        this.#index = new CommitIndex();
        for (const [vid, first] of record.bases) this.#index.start(vid, first);
        this.#table.clear();
        this.#legacy.clear();
        this.#legacyCount = 0;
        for (const commit of record.commits) this.#index.add(commit);
        for (const placed of record.segments) this.#placeAll(placed);
        return;
    }
  }

  #placeAll(placed: SegmentPlacements): void {
    const { sid, at } = placed;
    const noLegacy = !this.#legacy.has(sid);
    let i = 0;
    forEachPage(placed.pages, (idx) => {
      const { slot, crc } = at[i++] as Placement;
      if (!noLegacy) this.#forgetLegacy(sid, idx);
      const freed = this.#table.place(sid, idx, slot, crc);
      if (freed !== undefined) this.#free.push(freed);
    });
  }

  #forgetLegacy(sid: SegmentId, idx: PageIdx): void {
    const held = this.#legacy.get(sid);
    if (!held?.delete(idx)) return;
    this.#legacyCount--;
    if (held.size === 0) this.#legacy.delete(sid);
  }

  #forget(sid: SegmentId, idx: PageIdx): void {
    this.#forgetLegacy(sid, idx);
    const freed = this.#table.forget(sid, idx);
    if (freed !== undefined) this.#free.push(freed);
  }

  #forgetSegment(sid: SegmentId): void {
    for (const idx of [...(this.#legacy.get(sid)?.keys() ?? [])]) this.#forgetLegacy(sid, idx);
    for (const idx of this.#table.pagesOf(sid) ?? []) this.#forget(sid, idx);
  }

  #move(from: number, to: number): void {
    this.#table.move(from, to);
    this.#free.push(from);
  }

  /** The free list, with the slots free at open added on first use (duplicates are harmless: a popped slot is checked with #isFree). */
  #freeSlots(): FreeSlots {
    if (this.#freeUnlisted) {
      this.#freeUnlisted = false;
      const table = this.#table;
      for (let s = 0; s < table.slotCount; s++) if (!table.isUsed(s)) this.#free.push(s);
    }
    return this.#free;
  }

  #isFree(slot: number): boolean {
    return slot < this.#table.slotCount && !this.#table.isUsed(slot);
  }

  #hasHoles(): boolean {
    return this.#table.usedSlots < this.#table.slotCount;
  }

  #active(): SyncFile {
    return this.#files.journals[this.#generation % 2] as SyncFile;
  }

  // ── Open ──────────────────────────────────────────────────────────────────────────────────

  #load(options: SlotStoreOptions): void {
    const mark = HighWaterMark.read(this.#files.mark);
    if (typeof mark === 'object' && 'newerFormat' in mark) {
      throw new ScionError('InvalidInput', `The local store has format ${mark.newerFormat}; this Scion reads formats 2 and 3. Upgrade Scion.`, { format: mark.newerFormat });
    }
    if (mark === undefined || mark === 'unreadable') {
      // No usable mark: a new store (or one whose first mark write was torn), a migration cut short, or damage.
      const legacy = this.#files.legacy;
      if (legacy && legacy.getSize() > 0 && !this.#migrationBegun(legacy)) {
        // No mark until the migration's start is durable, and volumes.log is cut only after: a crash
        // before the mark starts the migration again at the next open.
        this.#create({ withMark: false });
        this.#startMigration(legacy, options);
        this.#resumeMigration();
        return;
      }
      if (this.#files.journals.some((j) => hasRecords(readAll(j)))) {
        const what = mark === undefined ? 'its journal holds records but its high-water mark is gone' : 'its high-water mark file is damaged';
        return this.#refuseOrSalvage(options, what, () => this.#salvageWithoutMark(options));
      }
      this.#create({ withMark: true });
      return;
    }
    this.#markSeq = mark.seq;
    this.#generation = mark.generation;
    const journal = this.#active();
    const bytes = readAll(journal);
    if (readJournalGeneration(bytes) !== mark.generation) {
      return this.#refuseOrSalvage(options, `its active journal (generation ${mark.generation}) is missing or its header is damaged`, () => this.#salvageWithoutMark(options));
    }
    this.#replay(bytes, mark.journalEnd, options);
    this.#afterLoad(options);
    this.#resumeMigration();
  }

  #replay(bytes: Uint8Array, acknowledged: number, options: SlotStoreOptions): void {
    let at = JOURNAL_HEADER;
    while (at < bytes.byteLength) {
      const got = decodeRecord(bytes, at);
      const damage = typeof got === 'string' ? got : at < acknowledged && got.end > acknowledged ? 'it crosses the high-water mark' : undefined;
      if (damage !== undefined || typeof got === 'string') {
        const reason = damage ?? 'it does not decode';
        if (at >= acknowledged) {
          // Past the mark: a write the store never acknowledged, torn by a crash.
          this.#truncateJournal(at);
          options.onTailDropped?.({ offset: at, bytes: bytes.byteLength - at, reason });
          break;
        }
        this.#refuseOrSalvage(options, `its journal is damaged at byte ${at} (${reason}), below the ${acknowledged} acknowledged bytes`, () => {
          this.#truncateJournal(at);
          options.onSalvaged?.({ reason, journalBytesLost: acknowledged - at, pagesLost: 0 });
        });
        break;
      }
      if (got.record.type === RecordType.Base || got.record.type === RecordType.Image) this.#baseBytes = got.end;
      this.#apply(got.record);
      at = got.end;
    }
    if (at < acknowledged && bytes.byteLength < acknowledged && at === bytes.byteLength) {
      this.#refuseOrSalvage(options, `its journal is ${bytes.byteLength} bytes, shorter than the ${acknowledged} bytes acknowledged (truncated)`, () => {
        options.onSalvaged?.({ reason: 'journal truncated', journalBytesLost: acknowledged - at, pagesLost: 0 });
      });
    }
    this.#journalEnd = at;
    if (at !== acknowledged) HighWaterMark.write(this.#files.mark, { seq: ++this.#markSeq, generation: this.#generation, journalEnd: at });
  }

  /** Checks the page file against the journal, cuts what lies past the last slot, empties the stale journal. */
  #afterLoad(options: SlotStoreOptions): void {
    const table = this.#table;
    table.trimSlotCount();
    const pages = this.#files.pages;
    const size = pages.getSize();
    if (size < table.slotCount * PAGE_SIZE) {
      const lost = new Map<SegmentId, PageIdx[]>();
      for (let s = Math.floor(size / PAGE_SIZE); s < table.slotCount; s++) {
        for (const { sid, idx } of table.ownersOf(s)) lost.set(sid, [...(lost.get(sid) ?? []), idx]);
      }
      const count = [...lost.values()].reduce((n, l) => n + l.length, 0);
      const volumes = [...new Set(this.#index.all().filter((c) => c.segment && lost.has(c.segment.sid)).map((c) => c.vid))];
      const what = `its page file is ${size} bytes but holds ${table.slotCount} acknowledged pages of 4096 bytes (${count} pages of volumes ${volumes.join(', ')} are missing)`;
      this.#refuseOrSalvage(options, what, () => {
        this.#commit({ type: RecordType.EvictPages, evicted: [...lost].map(([sid, idxs]) => [sid, PageSet.of(idxs)] as const) });
        options.onSalvaged?.({ reason: 'page file truncated', journalBytesLost: 0, pagesLost: count });
      }, volumes);
      table.trimSlotCount();
    }
    this.#free.clear();
    this.#freeUnlisted = true;
    if (size > table.slotCount * PAGE_SIZE) {
      pages.truncate(table.slotCount * PAGE_SIZE);
      pages.flush();
    }
    const stale = this.#files.journals[(this.#generation + 1) % 2] as SyncFile;
    if (stale.getSize() > 0) {
      stale.truncate(0);
      stale.flush();
    }
  }

  #truncateJournal(at: number): void {
    const journal = this.#active();
    journal.truncate(at);
    journal.flush();
  }

  /** A fresh store: journal 0 with its header, then the mark that names it. */
  #create({ withMark }: { withMark: boolean }): void {
    const { journals, pages, mark } = this.#files;
    this.#readAhead.invalidate();
    for (const f of [journals[0], journals[1], pages]) f.truncate(0);
    journals[0].write(encodeJournalHeader(0), { at: 0 });
    journals[0].flush();
    this.#generation = 0;
    this.#journalEnd = JOURNAL_HEADER;
    mark.truncate(0);
    this.#markSeq = 0;
    if (withMark) HighWaterMark.write(mark, { seq: ++this.#markSeq, generation: 0, journalEnd: JOURNAL_HEADER });
  }

  #refuseOrSalvage(options: SlotStoreOptions, what: string, salvage: () => void, volumes: readonly VolumeId[] = []): void {
    if (!options.salvage) {
      throw corrupt(
        `The local store lost acknowledged data: ${what}. Nothing was changed. Either open it with { salvage: true } to keep its intact part (later commits are lost; pushed data can be pulled again), or delete the store's directory and clone the databases again from their remotes.`,
        { reason: what, ...(volumes.length > 0 ? { volumes: volumes.join(',') } : {}) },
      );
    }
    salvage();
  }

  /** Without a usable mark nothing says which journal is current: keep the newest intact one. */
  #salvageWithoutMark(options: SlotStoreOptions): void {
    const candidates = this.#files.journals.map((j, i) => ({ i, bytes: readAll(j), generation: readJournalGeneration(readAll(j)) }))
      .filter((c) => c.generation !== undefined)
      .sort((a, b) => (b.generation as number) - (a.generation as number));
    const best = candidates[0];
    if (!best) {
      this.#create({ withMark: true });
      options.onSalvaged?.({ reason: 'no intact journal', journalBytesLost: 0, pagesLost: 0 });
      return;
    }
    this.#generation = best.generation as number;
    this.#markSeq = 0;
    this.#replay(best.bytes, 0, { ...options, onTailDropped: (d) => options.onSalvaged?.({ reason: d.reason, journalBytesLost: d.bytes, pagesLost: 0 }) });
    this.#afterLoad(options);
    this.#resumeMigration();
  }

  // ── Migration from format 1 ───────────────────────────────────────────────────────────────
  //
  // It needs little extra space: its start writes only metadata (the commits, and where each page is
  // in volumes.log); then each step moves the topmost 1 MiB of pages into slots and cuts volumes.log
  // below them. Until a page is moved it is read from volumes.log, so a full disk midway leaves a
  // store that opens and reads; the steps go on in the background upkeep once there is space.

  /** Writes the metadata of a format-1 log into this fresh store (a Base and a LegacyPages record), then the mark. */
  #startMigration(legacyFile: SyncFile, options: SlotStoreOptions): void {
    // Its handle stays open: the legacy store object only indexes it (closing it would close the file).
    const legacy = LogStore.openSync(legacyFile, { medium: this.medium, ...(options.onTailDropped ? { onTailDropped: options.onTailDropped } : {}) });
    const commits = legacy.commitsSync();
    const segments: LegacySegment[] = [];
    for (const [sid, held] of legacy.pageLocationsSync()) {
      const pages = PageSet.of(held.keys());
      segments.push({ sid, pages, at: [...pages].map((idx) => held.get(idx) as LegacyPlacement) });
    }
    const base: JournalRecord = { type: RecordType.Base, commits, segments: [], bases: [] };
    const held: JournalRecord = { type: RecordType.LegacyPages, segments };
    const bytes = concat(encodeRecord(base), encodeRecord(held));
    const journal = this.#active();
    try {
      const written = journal.write(bytes, { at: JOURNAL_HEADER });
      if (written !== bytes.byteLength) throw new ShortWrite(written, bytes.byteLength);
      journal.flush();
      HighWaterMark.write(this.#files.mark, { seq: ++this.#markSeq, generation: this.#generation, journalEnd: JOURNAL_HEADER + bytes.byteLength });
    } catch (e) {
      for (const f of [journal, this.#files.mark]) {
        try {
          f.truncate(0);
        } catch {
          // The next open starts the migration again either way: no mark names this journal.
        }
      }
      const err = storageError(e, `the index of the format-1 store (${bytes.byteLength} bytes)`);
      if (err.code !== 'QuotaExceeded') throw err;
      throw new ScionError(
        'QuotaExceeded',
        `Upgrading the local store from format 1 needs ${Math.ceil(bytes.byteLength / 1024)} KiB of free space for its index (then 1 MiB at a time while volumes.log shrinks), and the disk or quota is full. Nothing was changed: volumes.log is intact. Free space for this site (other tabs, other sites' data, or ask for persistent storage), then open again.`,
        { needBytes: bytes.byteLength }, { cause: e },
      );
    }
    this.#journalEnd = this.#baseBytes = JOURNAL_HEADER + bytes.byteLength;
    this.#apply(base);
    this.#apply(held);
  }

  /** Runs migration steps until done; a full disk stops them (reads go on from volumes.log, upkeep retries). */
  #resumeMigration(): void {
    const legacy = this.#files.legacy;
    if (this.#legacyCount === 0) {
      // Migrated (a mark names the new state): only the old file's removal was cut short.
      if (legacy) this.#removeLegacy();
      return;
    }
    const size = legacy?.getSize() ?? 0;
    const missing: [SegmentId, PageIdx][] = [];
    for (const [sid, held] of this.#legacy) for (const [idx, at] of held) if (at.offset + PAGE_SIZE > size) missing.push([sid, idx]);
    if (missing.length > 0) {
      const volumes = this.#volumesOf(missing);
      this.#refuseOrSalvage(this.#options(), `volumes.log, which still holds ${this.#legacyCount} pages being migrated, is ${size} bytes: ${missing.length} of them are missing`, () => {
        this.#commit({ type: RecordType.EvictPages, evicted: groupPages(missing) });
        this.#onSalvaged?.({ reason: 'volumes.log cut short during migration', journalBytesLost: 0, pagesLost: missing.length });
      }, volumes);
    }
    this.#legacyQueue = [...this.#legacy].flatMap(([sid, held]) => [...held].map(([idx, at]) => ({ sid, idx, offset: at.offset }))).sort((a, b) => a.offset - b.offset);
    try {
      while (this.#migrateStep());
    } catch (e) {
      if (!(e instanceof ScionError) || e.code !== 'QuotaExceeded') throw e;
    }
  }

  /**
   * Moves the topmost pages of volumes.log into slots (one record), then cuts the file below them.
   * A damaged page is Corrupt, or with `salvage` dropped and reported. Returns whether pages remain.
   */
  #migrateStep(): boolean {
    const legacy = this.#files.legacy;
    const batch: { sid: SegmentId; idx: PageIdx; offset: number }[] = [];
    while (batch.length < MIGRATE_CHUNK_PAGES && this.#legacyQueue.length > 0) {
      const next = this.#legacyQueue.pop() as { sid: SegmentId; idx: PageIdx; offset: number };
      if (this.#legacy.get(next.sid)?.get(next.idx)?.offset === next.offset) batch.push(next);
    }
    if (batch.length === 0 || !legacy) return false;
    try {
      const good: { sid: SegmentId; idx: PageIdx; page: Page }[] = [];
      const damaged: [SegmentId, PageIdx][] = [];
      for (const { sid, idx } of batch) {
        const page = this.#readLegacy(this.#legacy.get(sid)?.get(idx) as LegacyPlacement);
        if (page) good.push({ sid, idx, page });
        else damaged.push([sid, idx]);
      }
      if (damaged.length > 0) {
        const [sid, idx] = damaged[0] as [SegmentId, PageIdx];
        this.#refuseOrSalvage(this.#options(), `${damaged.length} pages in volumes.log (the format-1 store being migrated) are damaged, page ${idx} of segment ${sid} first`, () => {
          this.#commit({ type: RecordType.EvictPages, evicted: groupPages(damaged) });
          this.#onSalvaged?.({ reason: `${damaged.length} damaged pages in volumes.log`, journalBytesLost: 0, pagesLost: damaged.length });
        }, this.#volumesOf(damaged));
      }
      good.sort((a, b) => (a.sid < b.sid ? -1 : a.sid > b.sid ? 1 : a.idx - b.idx));
      this.#withNewPages(good.map((g) => g.page), (at) => {
        const placed: SegmentPlacements[] = [];
        for (let i = 0; i < good.length; ) {
          const sid = (good[i] as { sid: SegmentId }).sid;
          let j = i;
          while (j < good.length && (good[j] as { sid: SegmentId }).sid === sid) j++;
          placed.push({ sid, pages: PageSet.of(good.slice(i, j).map((g) => g.idx)), at: at.slice(i, j) });
          i = j;
        }
        return { type: RecordType.Migrated, placed };
      });
    } catch (e) {
      this.#legacyQueue.push(...batch.reverse());
      throw e;
    }
    // Every page at or above the batch's lowest offset is moved now (or was dead): give that space back.
    try {
      legacy.truncate(Math.min(...batch.map((b) => b.offset)));
      legacy.flush();
    } catch {
      // The next step or open cuts it.
    }
    if (this.#journalFull()) this.#checkpoint();
    if (this.#legacyCount > 0) return true;
    this.#removeLegacy();
    return false;
  }

  /** The format-1 file is empty of pages: remove it (only while opening; later it is emptied, and the next open removes it). */
  #removeLegacy(): void {
    const legacy = this.#files.legacy;
    if (!legacy || this.#legacyRemoved) return;
    if (this.#opening && this.#files.removeLegacy) {
      this.#legacyRemoved = true;
      this.#files.removeLegacy();
      return;
    }
    try {
      legacy.truncate(0);
      legacy.flush();
    } catch {
      // Removed at the next open.
    }
  }

  /** A page still in volumes.log, or undefined if it is missing or damaged there. */
  #mustReadLegacy(sid: SegmentId, idx: PageIdx, old: LegacyPlacement): Page {
    const page = this.#readLegacy(old);
    if (!page) throw corrupt(`Page ${idx} of segment ${sid} is damaged in volumes.log (the format-1 store being migrated, offset ${old.offset}). Open the store with { salvage: true } to drop it, or delete the graft and clone it again from its remote.`, { sid, pageIdx: idx, offset: old.offset });
    return page;
  }

  #readLegacy(at: LegacyPlacement): Page | undefined {
    const page = Page.zeroed();
    const n = this.#files.legacy?.read(page, { at: at.offset }) ?? 0;
    return n === PAGE_SIZE && crc32c(page) === at.crc ? page : undefined;
  }

  /** The LegacyPages record a checkpoint carries while a migration is under way (none after). */
  #legacyRecords(): Uint8Array[] {
    if (this.#legacyCount === 0) return [];
    const segments: LegacySegment[] = [];
    for (const [sid, held] of this.#legacy) {
      const pages = PageSet.of(held.keys());
      segments.push({ sid, pages, at: [...pages].map((idx) => held.get(idx) as LegacyPlacement) });
    }
    return [encodeRecord({ type: RecordType.LegacyPages, segments })];
  }

  /**
   * Without a mark, a migration may only be started again if it never got past writing its index:
   * pages moved, a checkpoint taken, or volumes.log cut below what the index names all mean its mark
   * was lost (damage), not never written.
   */
  #migrationBegun(legacy: SyncFile): boolean {
    const [first, second] = this.#files.journals.map(readAll) as [Uint8Array, Uint8Array];
    if (this.#files.pages.getSize() > 0 || hasRecords(second)) return true;
    if (readJournalGeneration(first) === undefined) return false;
    for (let at = JOURNAL_HEADER; at < first.byteLength; ) {
      const got = decodeRecord(first, at);
      if (typeof got === 'string') return false;
      if (got.record.type === RecordType.LegacyPages) {
        return got.record.segments.some((seg) => seg.at.some((p) => p.offset + PAGE_SIZE > legacy.getSize()));
      }
      at = got.end;
    }
    return false;
  }

  #volumesOf(pages: readonly (readonly [SegmentId, PageIdx])[]): VolumeId[] {
    const sids = new Set(pages.map(([sid]) => sid));
    return [...new Set(this.#index.all().filter((c) => c.segment && sids.has(c.segment.sid)).map((c) => c.vid))];
  }

  #options(): SlotStoreOptions {
    return { medium: this.medium, salvage: this.#salvage };
  }

  #damaged(sid: SegmentId, pageIdx: PageIdx, slot: number): ScionError {
    return corrupt(`Page ${pageIdx} of segment ${sid} is damaged in the local store (slot ${slot}). Delete the graft and clone it again from its remote.`, { sid, pageIdx, slot });
  }

  #checkOpen(): void {
    if (this.#closed) throw new ScionError('Closed', 'The local store is closed. Open the runtime again.');
  }
}

function groupPages(pages: readonly (readonly [SegmentId, PageIdx])[]): [SegmentId, PageSet][] {
  const by = new Map<SegmentId, PageIdx[]>();
  for (const [sid, idx] of pages) by.set(sid, [...(by.get(sid) ?? []), idx]);
  return [...by].map(([sid, idxs]) => [sid, PageSet.of(idxs)]);
}

function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function hasRecords(journal: Uint8Array): boolean {
  return journal.byteLength > JOURNAL_HEADER;
}

/** A failed write: a full quota (a short write or QuotaExceededError) is QuotaExceeded; anything else Internal. */
function storageError(e: unknown, what: string): ScionError {
  if (e instanceof ScionError) return e;
  const quota = e instanceof ShortWrite || (e as { name?: unknown })?.name === 'QuotaExceededError';
  if (quota) {
    return new ScionError(
      'QuotaExceeded',
      `The local store is full: writing ${what} failed (${(e as Error).message}), so nothing was committed and nothing acknowledged was lost. Free space for this site — push, run local GC, delete databases you no longer need (scion.delete) — or ask for persistent storage, then retry.`,
      undefined, { cause: e },
    );
  }
  return new ScionError('Internal', `The local store could not write ${what} (${(e as Error).message}). Nothing was committed; retry.`, undefined, { cause: e });
}

/** Pages a record places, moves or evicts (0 for a checkpoint: it starts the tail). */
function pagesNamed(record: JournalRecord): number {
  switch (record.type) {
    case RecordType.Commits:
      return record.entries.reduce((n, e) => n + (e.at?.length ?? 0), 0);
    case RecordType.Pages:
    case RecordType.LinkPages:
      return record.placed.at.length;
    case RecordType.EvictPages:
      return record.evicted.reduce((n, [, pages]) => n + pages.size, 0);
    case RecordType.MovePages:
      return record.moves.length;
    case RecordType.Migrated:
      return record.placed.reduce((n, p) => n + p.at.length, 0);
    case RecordType.LegacyPages:
      return record.segments.reduce((n, seg) => n + seg.at.length, 0);
    default:
      return 0;
  }
}

/** Calls `fn` for each page of `pages`, ascending (no generator per page: this runs for every live page at open). */
function forEachPage(pages: PageSet, fn: (idx: PageIdx) => void): void {
  for (const [start, end] of pages.ranges()) for (let i: number = start; i <= end; i++) fn(i as PageIdx);
}
