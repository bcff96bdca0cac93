import { ByteReader, ByteWriter, Commit, corrupt, crc32c, LSN, PageSet, SegmentId, VolumeId, type PageIdx } from '../core/index.ts';
import { READABLE_FORMATS, STORE_FORMAT } from './high-water-mark.ts';
import { SlotTable } from './slot-table.ts';
import type { SyncFile } from './sync-file.ts';

/*
 * The journal of a format-2 or -3 store holds metadata only — page bytes live in the slot file.
 *   file header (20 B): "SCIONJNL" | format u32 | generation u32 | crc u32
 *   record: bodyLen u32 | type u8 | 3 reserved | crc u32 (over the first 8 bytes and the body) | body
 * A checkpoint writes a Base record (the whole state) into the other journal under the next
 * generation; the high-water mark then names it, and the old journal is emptied. Format 3 writes
 * an Image record there instead (the page table as columns); it still reads the Base of format 2.
 */
const JOURNAL_MAGIC = new TextEncoder().encode('SCIONJNL');
export const JOURNAL_HEADER = 20;
const RECORD_HEADER = 12;

export const RecordType = { Commits: 1, Pages: 2, DropVolume: 3, EvictPages: 4, MovePages: 5, Base: 6, LinkPages: 7, Squash: 8, StartLog: 9, LegacyPages: 10, Migrated: 11, Image: 12 } as const;

/** Where a page's bytes are: its slot in the page file and their CRC-32C. */
export interface Placement {
  readonly slot: number;
  readonly crc: number;
}

/** Where a page not migrated yet is in the format-1 file (`volumes.log`): its byte offset and CRC-32C. */
export interface LegacyPlacement {
  readonly offset: number;
  readonly crc: number;
}

/** Pages of one segment still in the format-1 file, in ascending page order. */
export interface LegacySegment {
  readonly sid: SegmentId;
  readonly pages: PageSet;
  readonly at: readonly LegacyPlacement[];
}

/** Pages of one segment and where each is held, in ascending page order. */
export interface SegmentPlacements {
  readonly sid: SegmentId;
  readonly pages: PageSet;
  readonly at: readonly Placement[];
}

export type JournalRecord =
  | { readonly type: typeof RecordType.Commits; readonly entries: readonly { readonly commit: Commit; readonly at?: readonly Placement[] | undefined }[] }
  | { readonly type: typeof RecordType.Pages; readonly placed: SegmentPlacements }
  | { readonly type: typeof RecordType.LinkPages; readonly placed: SegmentPlacements }
  | { readonly type: typeof RecordType.DropVolume; readonly vid: VolumeId }
  | { readonly type: typeof RecordType.EvictPages; readonly evicted: readonly (readonly [SegmentId, PageSet])[] }
  | { readonly type: typeof RecordType.MovePages; readonly moves: readonly (readonly [from: number, to: number])[] }
  | { readonly type: typeof RecordType.Squash; readonly bases: readonly LogBase[] }
  /** A new log starting at a checkpoint: `commits` are the ones below `first` that it keeps, then `first`. */
  | { readonly type: typeof RecordType.StartLog; readonly vid: VolumeId; readonly first: LSN; readonly commits: readonly Commit[] }
  /** Pages a migration from format 1 has not moved yet: they are read from `volumes.log` meanwhile. */
  | { readonly type: typeof RecordType.LegacyPages; readonly segments: readonly LegacySegment[] }
  /** Pages a migration step moved from `volumes.log` into slots. */
  | { readonly type: typeof RecordType.Migrated; readonly placed: readonly SegmentPlacements[] }
  /** `bases`: the logs that start after LSN 1 (their commits in `commits` are their checkpoints). Absent in early format-2 journals. */
  | { readonly type: typeof RecordType.Base; readonly commits: readonly Commit[]; readonly segments: readonly SegmentPlacements[]; readonly bases: readonly LogBase[] }
  /** The checkpoint of format 3: like Base, but the page table is its image (columns read as stored), not a placement per page. */
  | { readonly type: typeof RecordType.Image; readonly commits: readonly Commit[]; readonly bases: readonly LogBase[]; readonly table: SlotTable };

/** A volume's log starts at `first`: what came before is summarized by the commits still holding pages. */
export type LogBase = readonly [vid: VolumeId, first: LSN];

/** `format` other than the current one only to build stores of an older format in tests. */
export function encodeJournalHeader(generation: number, format: number = STORE_FORMAT): Uint8Array {
  const header = new Uint8Array(JOURNAL_HEADER);
  const view = new DataView(header.buffer);
  header.set(JOURNAL_MAGIC);
  view.setUint32(8, format, true);
  view.setUint32(12, generation, true);
  view.setUint32(16, crc32c(header.subarray(0, 16)), true);
  return header;
}

/** The generation of an intact journal header at the start of `bytes`, else undefined. */
export function readJournalGeneration(bytes: Uint8Array): number | undefined {
  if (bytes.byteLength < JOURNAL_HEADER || !JOURNAL_MAGIC.every((b, i) => bytes[i] === b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, JOURNAL_HEADER);
  if (view.getUint32(16, true) !== crc32c(bytes.subarray(0, 16)) || !READABLE_FORMATS.includes(view.getUint32(8, true))) return undefined;
  return view.getUint32(12, true);
}

/** The whole content of a (metadata-only, so small) file in one read. */
export function readAll(file: SyncFile): Uint8Array {
  const bytes = new Uint8Array(file.getSize());
  const n = file.read(bytes, { at: 0 });
  return bytes.subarray(0, n);
}

/**
 * The record's bytes. With `into`, they are written there (reset first) and the result is a view of
 * it, valid until its next use: the commit path encodes one record per commit without a new buffer.
 */
export function encodeRecord(record: JournalRecord, into?: ByteWriter): Uint8Array {
  const w = into?.reset() ?? new ByteWriter(256);
  for (let i = 0; i < RECORD_HEADER; i++) w.u8(0);
  writeBody(w, record);
  const bytes = into ? w.view() : w.finish();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(0, bytes.byteLength - RECORD_HEADER, true);
  view.setUint8(4, record.type);
  view.setUint32(8, crc32c(bytes.subarray(0, 8), bytes.subarray(RECORD_HEADER)), true);
  return bytes;
}

/** The record at `at` of `bytes` and where it ends, or why it is not a complete, intact record. */
export function decodeRecord(bytes: Uint8Array, at: number): { record: JournalRecord; end: number } | string {
  if (bytes.byteLength - at < RECORD_HEADER) return 'its header is cut short';
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, RECORD_HEADER);
  const end = at + RECORD_HEADER + view.getUint32(0, true);
  if (end > bytes.byteLength) return 'it is cut short';
  const body = bytes.subarray(at + RECORD_HEADER, end);
  if (crc32c(bytes.subarray(at, at + 8), body) !== view.getUint32(8, true)) return 'its checksum does not match';
  try {
    const r = new ByteReader(body, 'journal record');
    const record = readBody(view.getUint8(4), r);
    r.end();
    return { record, end };
  } catch (e) {
    return `it does not decode (${(e as Error).message})`;
  }
}

function writeBody(w: ByteWriter, record: JournalRecord): void {
  switch (record.type) {
    case RecordType.Commits:
      w.varint(record.entries.length);
      for (const { commit, at } of record.entries) {
        writeCommit(w, commit);
        w.u8(at ? 1 : 0);
        if (at) writePlacements(w, at);
      }
      return;
    case RecordType.Pages:
    case RecordType.LinkPages:
      writeSegment(w, record.placed);
      return;
    case RecordType.DropVolume:
      w.bytes(VolumeId.toBytes(record.vid));
      return;
    case RecordType.EvictPages:
      w.varint(record.evicted.length);
      for (const [sid, pages] of record.evicted) {
        w.bytes(SegmentId.toBytes(sid));
        pages.writeTo(w);
      }
      return;
    case RecordType.MovePages:
      w.varint(record.moves.length);
      for (const [from, to] of record.moves) w.varint(from).varint(to);
      return;
    case RecordType.Base:
      w.varint(record.commits.length);
      for (const commit of record.commits) writeCommit(w, commit);
      w.varint(record.segments.length);
      for (const placed of record.segments) writeSegment(w, placed);
      writeBases(w, record.bases);
      return;
    case RecordType.Squash:
      writeBases(w, record.bases);
      return;
    case RecordType.Image:
      w.varint(record.commits.length);
      for (const commit of record.commits) writeCommit(w, commit);
      writeBases(w, record.bases);
      record.table.writeImage(w);
      return;
    case RecordType.LegacyPages:
      w.varint(record.segments.length);
      for (const { sid, pages, at } of record.segments) {
        w.bytes(SegmentId.toBytes(sid));
        pages.writeTo(w);
        for (const { offset, crc } of at) w.varint(offset).u32(crc);
      }
      return;
    case RecordType.Migrated:
      w.varint(record.placed.length);
      for (const placed of record.placed) writeSegment(w, placed);
      return;
    case RecordType.StartLog:
      writeBases(w, [[record.vid, record.first]]);
      w.varint(record.commits.length);
      for (const commit of record.commits) writeCommit(w, commit);
      return;
  }
}

function readBody(type: number, r: ByteReader): JournalRecord {
  switch (type) {
    case RecordType.Commits: {
      const entries: { commit: Commit; at?: Placement[] }[] = [];
      for (let n = r.varint(); n > 0; n--) {
        const commit = readCommit(r);
        entries.push(r.u8() === 1 ? { commit, at: readPlacements(r, Commit.pages(commit).size) } : { commit });
      }
      return { type, entries };
    }
    case RecordType.Pages:
    case RecordType.LinkPages:
      return { type, placed: readSegment(r) };
    case RecordType.DropVolume:
      return { type, vid: VolumeId.fromBytes(r.bytes(16)) };
    case RecordType.EvictPages: {
      const evicted: [SegmentId, PageSet][] = [];
      for (let n = r.varint(); n > 0; n--) evicted.push([SegmentId.fromBytes(r.bytes(16)), PageSet.readFrom(r)]);
      return { type, evicted };
    }
    case RecordType.MovePages: {
      const moves: [number, number][] = [];
      for (let n = r.varint(); n > 0; n--) moves.push([r.varint(), r.varint()]);
      return { type, moves };
    }
    case RecordType.Base: {
      const commits: Commit[] = [];
      for (let n = r.varint(); n > 0; n--) commits.push(readCommit(r));
      const segments: SegmentPlacements[] = [];
      for (let n = r.varint(); n > 0; n--) segments.push(readSegment(r));
      return { type, commits, segments, bases: r.remaining > 0 ? readBases(r) : [] };
    }
    case RecordType.Squash:
      return { type, bases: readBases(r) };
    case RecordType.Image: {
      const commits: Commit[] = [];
      for (let n = r.varint(); n > 0; n--) commits.push(readCommit(r));
      const bases = readBases(r);
      return { type, commits, bases, table: SlotTable.readImage(r) };
    }
    case RecordType.LegacyPages: {
      const segments: LegacySegment[] = [];
      for (let n = r.varint(); n > 0; n--) {
        const sid = SegmentId.fromBytes(r.bytes(16));
        const pages = PageSet.readFrom(r);
        // Same encoding as slot placements: a varint and a CRC.
        segments.push({ sid, pages, at: readPlacements(r, pages.size).map(({ slot, crc }) => ({ offset: slot, crc })) });
      }
      return { type, segments };
    }
    case RecordType.Migrated: {
      const placed: SegmentPlacements[] = [];
      for (let n = r.varint(); n > 0; n--) placed.push(readSegment(r));
      return { type, placed };
    }
    case RecordType.StartLog: {
      const [start] = readBases(r);
      if (!start) throw corrupt('a log start record names no log');
      const commits: Commit[] = [];
      for (let n = r.varint(); n > 0; n--) commits.push(readCommit(r));
      return { type, vid: start[0], first: start[1], commits };
    }
    default:
      throw corrupt(`unknown journal record type ${type}`);
  }
}

function writeCommit(w: ByteWriter, commit: Commit): void {
  const encoded = Commit.encode(commit);
  w.varint(encoded.byteLength).bytes(encoded);
}

function readCommit(r: ByteReader): Commit {
  return Commit.decode(r.bytes(r.varint()));
}

function writeBases(w: ByteWriter, bases: readonly LogBase[]): void {
  w.varint(bases.length);
  for (const [vid, first] of bases) w.bytes(VolumeId.toBytes(vid)).varint(first);
}

function readBases(r: ByteReader): LogBase[] {
  const bases: LogBase[] = [];
  for (let n = r.varint(); n > 0; n--) bases.push([VolumeId.fromBytes(r.bytes(16)), LSN.parse(r.varint())]);
  return bases;
}

function writeSegment(w: ByteWriter, placed: SegmentPlacements): void {
  w.bytes(SegmentId.toBytes(placed.sid));
  placed.pages.writeTo(w);
  writePlacements(w, placed.at);
}

function readSegment(r: ByteReader): SegmentPlacements {
  const sid = SegmentId.fromBytes(r.bytes(16));
  const pages = PageSet.readFrom(r);
  return { sid, pages, at: readPlacements(r, pages.size) };
}

function writePlacements(w: ByteWriter, at: readonly Placement[]): void {
  for (const { slot, crc } of at) w.varint(slot).u32(crc);
}

/**
 * `n` placements (varint slot, u32 CRC). Decoded here byte by byte rather than through ByteReader's
 * calls per field: a store's open decodes one for every live page, in a worker whose code is not
 * optimized yet. Same checks: truncation, overlong and non-canonical varints are Corrupt.
 */
function readPlacements(r: ByteReader, n: number): Placement[] {
  if (n > r.remaining) throw corrupt(`${n} page placements claimed, ${r.remaining} bytes left`);
  const buf = r.rest();
  const end = buf.byteLength;
  const at: Placement[] = new Array<Placement>(n);
  let p = 0;
  for (let i = 0; i < n; i++) {
    let slot = 0;
    let scale = 1;
    for (let k = 0; ; k++) {
      if (k >= 8 || p >= end) throw corrupt(`page placement ${i} of ${n} is cut short or has an overlong slot number`);
      const b = buf[p++] as number;
      slot += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if ((k > 0 && b === 0) || !Number.isSafeInteger(slot)) throw corrupt(`page placement ${i} of ${n} has a non-canonical or out-of-range slot number`);
        break;
      }
      scale *= 0x80;
    }
    if (p + 4 > end) throw corrupt(`page placement ${i} of ${n} is cut short`);
    const crc = ((buf[p] as number) | ((buf[p + 1] as number) << 8) | ((buf[p + 2] as number) << 16) | ((buf[p + 3] as number) << 24)) >>> 0;
    p += 4;
    at[i] = { slot, crc };
  }
  r.skip(p);
  return at;
}

/** Pages of a segment in ascending order, paired with their placements. */
export function zipPlacements(placed: SegmentPlacements): [PageIdx, Placement][] {
  const out: [PageIdx, Placement][] = [];
  let i = 0;
  for (const idx of placed.pages) out.push([idx, placed.at[i++] as Placement]);
  return out;
}
