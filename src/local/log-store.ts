import {
  ByteReader, ByteWriter, Commit, corrupt, crc32c, LSN, Page, PAGE_SIZE, PageSet, ScionError, SegmentId,
  VolumeId, type PageIdx,
} from '../core/index.ts';
import { CommitIndex } from './commit-index.ts';
import type { CommitEntry, LocalStore } from './local-store.ts';
import type { SyncFile } from './sync-file.ts';

/*
 * File layout: a 16-byte file header, then records appended one after another. A record is
 *   header (20 B): magic u32 | type u8 | 3 reserved | metaLen u32 | pageCount u32 | crc u32
 *   meta (metaLen B): type-specific, ending with one CRC-32C per page
 *   pages (pageCount × 4096 B)
 * The header crc covers the header's first 16 bytes and the meta. Each append is one write and one
 * flush, so only the last record can be torn by a crash: at open every record's header and meta are
 * checked, the last record's pages too, and a torn or corrupt tail is cut off. Earlier records are
 * never rewritten, so nothing acknowledged is lost.
 */
const FILE_MAGIC = new TextEncoder().encode('SCIONLOG');
const FILE_VERSION = 1;
const FILE_HEADER = 16;
const RECORD_MAGIC = 0x4345_5253; // "SREC" little-endian
const RECORD_HEADER = 20;

const RecordType = { Commits: 1, Pages: 2, DropVolume: 3, EvictPages: 4 } as const;
type RecordType = (typeof RecordType)[keyof typeof RecordType];

interface PageLocation {
  readonly offset: number;
  readonly crc: number;
}

/** What a record adds once decoded; its pages, in file order, follow the meta. */
type RecordBody =
  | { type: typeof RecordType.Commits; entries: { commit: Commit; hasPages: boolean }[] }
  | { type: typeof RecordType.Pages; sid: SegmentId; pages: PageSet }
  | { type: typeof RecordType.DropVolume; vid: VolumeId }
  | { type: typeof RecordType.EvictPages; sid: SegmentId; pages: PageSet };

export interface LogStoreOptions {
  medium: LocalStore['medium'];
  /** Called once when a torn or corrupt tail was cut off at open. */
  onTailDropped?: (info: { offset: number; bytes: number; reason: string }) => void;
}

/**
 * The store of format 1 (`volumes.log`): one append-only log file, pages and commit records together.
 * Superseded by SlotStore (format 2), which migrates it at open; kept to read such files.
 */
export class LogStore {
  readonly medium: LocalStore['medium'];
  readonly #file: SyncFile;
  readonly #index = new CommitIndex();
  readonly #pages = new Map<SegmentId, Map<PageIdx, PageLocation>>();
  #end = FILE_HEADER;
  #pageTotal = 0;
  #closed = false;

  private constructor(file: SyncFile, medium: LocalStore['medium']) {
    this.#file = file;
    this.medium = medium;
  }

  /** Reads the whole index (never the pages, except the last record's) and cuts a torn tail. */
  static openSync(file: SyncFile, options: LogStoreOptions): LogStore {
    const store = new LogStore(file, options.medium);
    store.#load(options.onTailDropped);
    return store;
  }

  latestLsnSync(vid: VolumeId): LSN | undefined {
    return this.#index.latest(vid);
  }

  getCommitSync(vid: VolumeId, lsn: LSN): Commit | undefined {
    return this.#index.get(vid, lsn);
  }

  findPageVersionSync(vid: VolumeId, pageIdx: PageIdx, start: LSN, end: LSN): LSN | undefined {
    return this.#index.findVersion(vid, pageIdx, start, end);
  }

  volumesSync(): VolumeId[] {
    return this.#index.volumes();
  }

  /** Every commit held, by volume in LSN order (a migration's Base record). */
  commitsSync(): Commit[] {
    return this.#index.all();
  }

  hasPageSync(sid: SegmentId, pageIdx: PageIdx): boolean {
    return this.#pages.get(sid)?.has(pageIdx) ?? false;
  }

  readPageSync(sid: SegmentId, pageIdx: PageIdx): Page | undefined {
    this.#checkOpen();
    const at = this.#pages.get(sid)?.get(pageIdx);
    if (!at) return undefined;
    const page = Page.zeroed();
    const n = this.#file.read(page, { at: at.offset });
    if (n !== PAGE_SIZE || crc32c(page) !== at.crc) throw this.#damaged(sid, pageIdx, at.offset);
    return page;
  }

  #damaged(sid: SegmentId, pageIdx: PageIdx, offset: number): ScionError {
    return corrupt(`Page ${pageIdx} of segment ${sid} is damaged in the local store (offset ${offset}). Delete the graft and clone it again from its remote.`, {
      sid, pageIdx, offset,
    });
  }

  readPagesSync(sid: SegmentId, pageIdxs: Iterable<PageIdx>): Map<PageIdx, Page> {
    this.#checkOpen();
    const held = this.#pages.get(sid);
    const wanted = [...pageIdxs]
      .map((idx) => ({ idx, at: held?.get(idx) }))
      .filter((w): w is { idx: PageIdx; at: PageLocation } => w.at !== undefined)
      .sort((a, b) => a.at.offset - b.at.offset);
    const out = new Map<PageIdx, Page>();
    // Pages written together sit together in the file: one read call per contiguous run.
    for (let i = 0; i < wanted.length; ) {
      let j = i + 1;
      while (j < wanted.length && j - i < 256 && (wanted[j] as { at: PageLocation }).at.offset === (wanted[j - 1] as { at: PageLocation }).at.offset + PAGE_SIZE) j++;
      const first = wanted[i] as { idx: PageIdx; at: PageLocation };
      const run = new Uint8Array((j - i) * PAGE_SIZE);
      const n = this.#file.read(run, { at: first.at.offset });
      for (let k = i; k < j; k++) {
        const w = wanted[k] as { idx: PageIdx; at: PageLocation };
        const page = run.subarray((k - i) * PAGE_SIZE, (k - i + 1) * PAGE_SIZE);
        if (n < (k - i + 1) * PAGE_SIZE || crc32c(page) !== w.at.crc) throw this.#damaged(sid, w.idx, w.at.offset);
        out.set(w.idx, page as Page);
      }
      i = j;
    }
    return out;
  }

  appendCommitsSync(entries: readonly CommitEntry[]): void {
    this.#checkOpen();
    const pages = this.#index.checkAppend(entries);
    const meta = new ByteWriter(64 + entries.length * 64).varint(entries.length);
    for (const { commit, pages: held } of entries) {
      const encoded = Commit.encode(commit);
      meta.varint(encoded.byteLength).bytes(encoded).u8(held ? 1 : 0);
    }
    const { pagesAt, crcs } = this.#append(RecordType.Commits, meta, pages);
    this.#apply({ type: RecordType.Commits, entries: entries.map((e) => ({ commit: e.commit, hasPages: !!e.pages })) }, pagesAt, crcs);
  }

  putPagesSync(sid: SegmentId, held: ReadonlyMap<PageIdx, Page>): void {
    this.#checkOpen();
    const set = PageSet.of(held.keys());
    const pages = [...set].map((idx) => Page.from(held.get(idx) as Uint8Array));
    const meta = new ByteWriter(64).bytes(SegmentId.toBytes(sid));
    set.writeTo(meta);
    const { pagesAt, crcs } = this.#append(RecordType.Pages, meta, pages);
    this.#apply({ type: RecordType.Pages, sid, pages: set }, pagesAt, crcs);
  }

  dropVolumeSync(vid: VolumeId): void {
    this.#checkOpen();
    if (this.#index.latest(vid) === undefined) return;
    const { pagesAt } = this.#append(RecordType.DropVolume, new ByteWriter(16).bytes(VolumeId.toBytes(vid)), []);
    this.#apply({ type: RecordType.DropVolume, vid }, pagesAt, []);
  }

  evictPagesSync(sid: SegmentId, pages: PageSet): void {
    this.#checkOpen();
    const held = this.#pages.get(sid);
    if (!held || pages.isEmpty) return;
    const meta = new ByteWriter(64).bytes(SegmentId.toBytes(sid));
    pages.writeTo(meta);
    const { pagesAt } = this.#append(RecordType.EvictPages, meta, []);
    this.#apply({ type: RecordType.EvictPages, sid, pages }, pagesAt, []);
  }

  cachedPagesSync(): Map<SegmentId, PageSet> {
    return new Map([...this.#pages].map(([sid, held]) => [sid, PageSet.of(held.keys())]));
  }

  /** Where each held page's bytes are in the file: its offset and CRC-32C (what a migration reads in place). */
  pageLocationsSync(): Map<SegmentId, ReadonlyMap<PageIdx, { readonly offset: number; readonly crc: number }>> {
    return new Map(this.#pages);
  }

  statsSync(): { commits: number; pages: number; fileBytes: number } {
    return { commits: this.#index.commitCount, pages: this.#pageTotal, fileBytes: this.#end };
  }

  closeSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }

  /** Writes one record (header, meta + page crcs, pages) and flushes; returns where its pages start. */
  #append(type: RecordType, meta: ByteWriter, pages: readonly Page[]): { pagesAt: number; crcs: number[] } {
    const crcs = pages.map((p) => crc32c(p));
    for (const crc of crcs) meta.u32(crc);
    const metaBytes = meta.finish();
    const total = RECORD_HEADER + metaBytes.byteLength + pages.length * PAGE_SIZE;
    const record = new Uint8Array(total);
    const view = new DataView(record.buffer);
    view.setUint32(0, RECORD_MAGIC, true);
    view.setUint8(4, type);
    view.setUint32(8, metaBytes.byteLength, true);
    view.setUint32(12, pages.length, true);
    record.set(metaBytes, RECORD_HEADER);
    view.setUint32(16, crc32c(record.subarray(0, 16), metaBytes), true);
    let o = RECORD_HEADER + metaBytes.byteLength;
    for (const p of pages) {
      record.set(p, o);
      o += PAGE_SIZE;
    }
    const start = this.#end;
    let written: number;
    try {
      written = this.#file.write(record, { at: start });
      if (written === total) this.#file.flush();
    } catch (e) {
      this.#file.truncate(start);
      throw new ScionError('Internal', `The local store could not write ${total} bytes (${(e as Error).message}); the disk or storage quota may be full. Free space and retry.`, undefined, { cause: e });
    }
    if (written !== total) {
      // OPFS reports a full quota as a short write, not an exception.
      this.#file.truncate(start);
      throw new ScionError('Internal', `The local store wrote ${written} of ${total} bytes; the disk or storage quota may be full. Free space and retry.`);
    }
    this.#end = start + total;
    return { pagesAt: start + RECORD_HEADER + metaBytes.byteLength, crcs };
  }

  #apply(body: RecordBody, pagesAt: number, crcs: readonly number[]): void {
    let i = 0;
    const place = (sid: SegmentId, idx: PageIdx) => {
      let bySid = this.#pages.get(sid);
      if (!bySid) this.#pages.set(sid, (bySid = new Map()));
      if (!bySid.has(idx)) this.#pageTotal++;
      bySid.set(idx, { offset: pagesAt + i * PAGE_SIZE, crc: crcs[i] as number });
      i++;
    };
    switch (body.type) {
      case RecordType.Commits:
        for (const { commit, hasPages } of body.entries) {
          this.#index.add(commit);
          if (hasPages && commit.segment) for (const idx of commit.segment.pages) place(commit.segment.sid, idx);
        }
        break;
      case RecordType.Pages:
        for (const idx of body.pages) place(body.sid, idx);
        break;
      case RecordType.DropVolume:
        for (const sid of this.#index.drop(body.vid)) {
          this.#pageTotal -= this.#pages.get(sid)?.size ?? 0;
          this.#pages.delete(sid);
        }
        break;
      case RecordType.EvictPages: {
        const held = this.#pages.get(body.sid);
        for (const idx of body.pages) if (held?.delete(idx)) this.#pageTotal--;
        if (held?.size === 0) this.#pages.delete(body.sid);
        break;
      }
    }
  }

  #load(onTailDropped: LogStoreOptions['onTailDropped']): void {
    let size = this.#file.getSize();
    if (size < FILE_HEADER) {
      // Empty, or a crash while the header of a new store was written: nothing was ever committed.
      this.#file.truncate(0);
      size = 0;
    }
    if (size === 0) {
      const header = new Uint8Array(FILE_HEADER);
      header.set(FILE_MAGIC);
      new DataView(header.buffer).setUint32(8, FILE_VERSION, true);
      new DataView(header.buffer).setUint32(12, crc32c(header.subarray(0, 12)), true);
      this.#file.write(header, { at: 0 });
      this.#file.flush();
      return;
    }
    this.#checkFileHeader(size);
    let at = FILE_HEADER;
    while (at < size) {
      const record = this.#readRecord(at, size);
      if (typeof record === 'string') {
        // A crash tears only the last record; damage with intact records after it is not a torn tail.
        if (this.#hasValidRecordAfter(at, size)) {
          throw corrupt(`The local store is damaged at byte ${at} (${record}) and intact commits follow. Scion left the file untouched; delete the store and clone its grafts again from their remotes.`, {
            offset: at,
          });
        }
        this.#dropTail(at, size, record, onTailDropped);
        return;
      }
      // Only the last record can be torn, so only its pages are read back before it is trusted.
      if (record.end >= size && !this.#pagesIntact(record.pagesAt, record.crcs)) {
        this.#dropTail(at, size, 'its pages fail their checksums', onTailDropped);
        return;
      }
      this.#apply(record.body, record.pagesAt, record.crcs);
      at = record.end;
    }
    this.#end = at;
  }

  #checkFileHeader(size: number): void {
    const header = new Uint8Array(FILE_HEADER);
    const n = this.#file.read(header, { at: 0 });
    const view = new DataView(header.buffer);
    const magicOk = n === FILE_HEADER && FILE_MAGIC.every((b, i) => header[i] === b);
    if (!magicOk || view.getUint32(12, true) !== crc32c(header.subarray(0, 12))) {
      throw corrupt(`The local store file is not a Scion log (${size} bytes, bad header). Point Scion at another directory or delete this one.`);
    }
    const version = view.getUint32(8, true);
    if (version !== FILE_VERSION) {
      throw new ScionError('InvalidInput', `The local store has format version ${version}; this Scion reads version ${FILE_VERSION}. Upgrade Scion.`);
    }
  }

  /** The record at `at`, or why it is not a complete, valid record. */
  #readRecord(at: number, size: number): { body: RecordBody; pagesAt: number; crcs: number[]; end: number } | string {
    if (size - at < RECORD_HEADER) return 'its header is cut short';
    const header = new Uint8Array(RECORD_HEADER);
    this.#file.read(header, { at });
    const view = new DataView(header.buffer);
    if (view.getUint32(0, true) !== RECORD_MAGIC) return 'it has no record magic';
    const metaLen = view.getUint32(8, true);
    const pageCount = view.getUint32(12, true);
    const pagesAt = at + RECORD_HEADER + metaLen;
    const end = pagesAt + pageCount * PAGE_SIZE;
    if (end > size) return 'it is cut short';
    const meta = new Uint8Array(metaLen);
    this.#file.read(meta, { at: at + RECORD_HEADER });
    if (crc32c(header.subarray(0, 16), meta) !== view.getUint32(16, true)) return 'its checksum does not match';
    try {
      const r = new ByteReader(meta, 'log record');
      const body = this.#decodeBody(view.getUint8(4), r);
      const crcs: number[] = [];
      for (let i = 0; i < pageCount; i++) crcs.push(r.u32());
      r.end();
      return { body, pagesAt, crcs, end };
    } catch (e) {
      return `it does not decode (${(e as Error).message})`;
    }
  }

  #decodeBody(type: number, r: ByteReader): RecordBody {
    switch (type) {
      case RecordType.Commits: {
        const n = r.varint();
        const entries: { commit: Commit; hasPages: boolean }[] = [];
        for (let i = 0; i < n; i++) entries.push({ commit: Commit.decode(r.bytes(r.varint())), hasPages: r.u8() === 1 });
        return { type, entries };
      }
      case RecordType.Pages:
        return { type, sid: SegmentId.fromBytes(r.bytes(16)), pages: PageSet.readFrom(r) };
      case RecordType.DropVolume:
        return { type, vid: VolumeId.fromBytes(r.bytes(16)) };
      case RecordType.EvictPages:
        return { type, sid: SegmentId.fromBytes(r.bytes(16)), pages: PageSet.readFrom(r) };
      default:
        throw corrupt(`unknown record type ${type}`);
    }
  }

  /** Whether a complete, checksummed record starts anywhere after `from`. */
  #hasValidRecordAfter(from: number, size: number): boolean {
    const chunk = new Uint8Array(Math.min(1 << 20, Math.max(size - from, 4)));
    for (let base = from + 1; base + RECORD_HEADER <= size; base += chunk.byteLength - 3) {
      const n = this.#file.read(chunk, { at: base });
      for (let i = 0; i + 4 <= n; i++) {
        // "SREC", the record magic, byte by byte.
        if (chunk[i] === 0x53 && chunk[i + 1] === 0x52 && chunk[i + 2] === 0x45 && chunk[i + 3] === 0x43 && typeof this.#readRecord(base + i, size) !== 'string') {
          return true;
        }
      }
      if (n < chunk.byteLength) break;
    }
    return false;
  }

  /** Reads the pages back in 1 MiB chunks (each OPFS read call is costly) and checks every CRC. */
  #pagesIntact(pagesAt: number, crcs: readonly number[]): boolean {
    const CHUNK = 256;
    const buf = new Uint8Array(Math.min(crcs.length, CHUNK) * PAGE_SIZE);
    for (let first = 0; first < crcs.length; first += CHUNK) {
      const n = Math.min(CHUNK, crcs.length - first);
      const view = buf.subarray(0, n * PAGE_SIZE);
      if (this.#file.read(view, { at: pagesAt + first * PAGE_SIZE }) !== view.byteLength) return false;
      for (let i = 0; i < n; i++) if (crc32c(view.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)) !== crcs[first + i]) return false;
    }
    return true;
  }


  #dropTail(at: number, size: number, reason: string, onTailDropped: LogStoreOptions['onTailDropped']): void {
    this.#file.truncate(at);
    this.#file.flush();
    this.#end = at;
    onTailDropped?.({ offset: at, bytes: size - at, reason });
  }

  #checkOpen(): void {
    if (this.#closed) throw new ScionError('Closed', 'The local store is closed. Open the runtime again.');
  }
}
