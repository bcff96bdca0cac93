import { ByteReader, ByteWriter, seal, unseal } from './codec.ts';
import { CommitHash } from './commit-hash.ts';
import { corrupt, invalidInput } from './errors.ts';
import { LSN } from './lsn.ts';
import { PageCount } from './page-idx.ts';
import { PageSet } from './page-set.ts';
import { FRAME_MAX_PAGES } from './segment.ts';
import { SegmentId } from './segment-id.ts';
import { VolumeId } from './volume-id.ts';

/** One compressed frame of a segment: which pages it holds and its size in bytes. */
export interface FrameRef {
  readonly pages: PageSet;
  readonly bytes: number;
  /**
   * SHA-256 of the frame's stored bytes (format 2): binds the segment to the commit, so swapped,
   * replaced or truncated bytes are Corrupt. Absent only in commits written by format 1.
   */
  readonly digest?: Uint8Array | undefined;
}

/** Where a segment object lives in the bucket. */
export interface SegmentAddress {
  readonly sid: SegmentId;
  /**
   * The volume whose prefix holds it (format 2: `volumes/{home}/segments/{sid}`); absent for
   * format 1's shared `segments/{sid}` and for segments never uploaded.
   */
  readonly home?: VolumeId | undefined;
  /**
   * For a read only (never stored): the volume whose commit names the segment when that is not
   * `home` (a fork's reference to an ancestor's segment). The presign service lets a reader of that
   * volume read the segment if the volume's fork record lists `home`.
   */
  readonly via?: VolumeId | undefined;
}

/** How a reader of `commit` addresses its segment (with `via` when it lives under another volume's prefix). */
export function segmentReadOf(commit: Commit): SegmentAddress {
  const seg = commit.segment as SegmentAddress;
  return seg.home !== undefined && seg.home !== commit.vid ? { sid: seg.sid, home: seg.home, via: commit.vid } : { sid: seg.sid, home: seg.home };
}

/** The pages a commit wrote, stored under `sid`; `frames` is empty until the segment is uploaded. */
export interface SegmentRef extends SegmentAddress {
  readonly pages: PageSet;
  readonly frames: readonly FrameRef[];
  /**
   * Frames [0, hotFrames) hold the pages every reader needs first (for SQLite: page 1 and the B-tree
   * interior pages), so a cold reader fetches them in one request. 0 when the pusher made no such plan.
   */
  readonly hotFrames?: number | undefined;
}

/** One entry of a volume's log: the volume's size after it and the pages it wrote. */
export interface Commit {
  readonly vid: VolumeId;
  readonly lsn: LSN;
  readonly pageCount: PageCount;
  /** Present on remote commits only. */
  readonly hash?: CommitHash | undefined;
  /** Absent when the commit only changed the page count. */
  readonly segment?: SegmentRef | undefined;
  /**
   * A checkpoint (remote commits at a checkpoint LSN, format 2): the commits below this one that hold
   * the newest version of some page as of it, ascending. With this commit they are the volume's whole
   * page → (segment, frame) index, so a clone needs nothing older. Never kept in the local store.
   */
  readonly checkpoint?: readonly Commit[] | undefined;
  /**
   * With a checkpoint (format 2): the other volumes whose segments its commits may name — the
   * volumes this one was forked from (a fork's checkpoint references its parent's segments instead
   * of uploading them again). Readers refuse a foreign segment home not listed here.
   */
  readonly ancestors?: readonly VolumeId[] | undefined;
}

/**
 * A segment another volume's commit may name: uploaded under a volume's prefix (format 2) with every
 * frame's digest, so a reader that did not write it still checks each byte it fetches.
 */
export function isUploadedSegment(seg: SegmentRef | undefined): seg is SegmentRef & { readonly home: VolumeId } {
  return seg?.home !== undefined && seg.frames.length > 0 && seg.frames.every((f) => f.digest !== undefined);
}

const MAGIC = 0x544d_4353; // "SCMT" little-endian
/** Written by this Scion; version 1 (no frame digests, no segment home) is still read. */
export const COMMIT_FORMAT_VERSION = 2;
/** A pusher makes every remote commit whose LSN is a multiple of this a checkpoint. */
export const CHECKPOINT_INTERVAL = 64;
const HAS_HASH = 1;
const HAS_SEGMENT = 2;
const HAS_CHECKPOINT = 4;
const HAS_ANCESTORS = 8;
// Segment flags (format 2).
const SEG_HAS_HOME = 1;
const SEG_HAS_DIGESTS = 2;
export const FRAME_DIGEST_BYTES = 32;

export const Commit = {
  /** The commit's pages, or none. */
  pages: (c: Commit): PageSet => c.segment?.pages ?? PageSet.EMPTY,

  /** The commit without the checkpoint it may carry (what a local log keeps: its own structure is its checkpoint). */
  withoutCheckpoint: (c: Commit): Commit => {
    if (!c.checkpoint && !c.ancestors) return c;
    const { checkpoint: _, ancestors: __, ...rest } = c;
    return rest;
  },

  /** Binary form: magic, version, fields, CRC-32C over everything before it. */
  encode(c: Commit): Uint8Array {
    const w = new ByteWriter(64)
      .u32(MAGIC)
      .u8(COMMIT_FORMAT_VERSION)
      .u8((c.hash ? HAS_HASH : 0) | (c.segment ? HAS_SEGMENT : 0) | (c.checkpoint ? HAS_CHECKPOINT : 0) | (c.ancestors?.length ? HAS_ANCESTORS : 0))
      .bytes(VolumeId.toBytes(c.vid))
      .varint(c.lsn)
      .varint(c.pageCount);
    if (c.hash) w.bytes(CommitHash.toBytes(c.hash));
    if (c.segment) {
      const seg = c.segment;
      const digests = seg.frames.length > 0 && seg.frames.every((f) => f.digest !== undefined);
      if (!digests && seg.frames.some((f) => f.digest !== undefined)) throw invalidInput(`Commit ${c.vid}@${c.lsn} has digests for some frames only.`);
      w.bytes(SegmentId.toBytes(seg.sid));
      w.u8((seg.home ? SEG_HAS_HOME : 0) | (digests ? SEG_HAS_DIGESTS : 0));
      if (seg.home) w.bytes(VolumeId.toBytes(seg.home));
      seg.pages.writeTo(w);
      w.varint(seg.frames.length);
      for (const f of seg.frames) {
        f.pages.writeTo(w);
        w.varint(f.bytes);
        if (digests) {
          if ((f.digest as Uint8Array).byteLength !== FRAME_DIGEST_BYTES) throw invalidInput(`A frame digest is ${FRAME_DIGEST_BYTES} bytes.`);
          w.bytes(f.digest as Uint8Array);
        }
      }
      w.varint(seg.hotFrames ?? 0);
    }
    if (c.checkpoint) {
      w.varint(c.checkpoint.length);
      for (const older of c.checkpoint) {
        if (older.checkpoint) throw invalidInput(`Commit ${older.vid}@${older.lsn} of a checkpoint carries a checkpoint itself.`);
        const bytes = Commit.encode(older);
        w.varint(bytes.byteLength).bytes(bytes);
      }
    }
    if (c.ancestors?.length) {
      if (!c.checkpoint) throw invalidInput(`Commit ${c.vid}@${c.lsn} lists ancestors without a checkpoint.`);
      w.varint(c.ancestors.length);
      for (const a of c.ancestors) w.bytes(VolumeId.toBytes(a));
    }
    return seal(w.finish());
  },

  /** Throws Corrupt (checksum, truncation, impossible fields) or InvalidInput (unknown version). */
  decode(bytes: Uint8Array): Commit {
    const r = new ByteReader(unseal(bytes, 'commit record'), 'commit record');
    if (r.u32() !== MAGIC) throw corrupt('Not a commit record: bad magic bytes.');
    const version = r.u8();
    if (version !== 1 && version !== COMMIT_FORMAT_VERSION) {
      throw invalidInput(`Unknown commit format version ${version}; this Scion reads versions 1 and ${COMMIT_FORMAT_VERSION}. Upgrade Scion.`);
    }
    const flags = r.u8();
    if (flags & ~(HAS_HASH | HAS_SEGMENT | (version === 1 ? 0 : HAS_CHECKPOINT | HAS_ANCESTORS))) throw corrupt(`A commit record has unknown flags 0x${flags.toString(16)}.`);
    const asCorrupt = <T>(parse: () => T): T => {
      try {
        return parse();
      } catch (e) {
        throw corrupt(`A commit record holds an invalid field: ${(e as Error).message}`);
      }
    };
    const vid = asCorrupt(() => VolumeId.fromBytes(r.bytes(16)));
    const lsn = asCorrupt(() => LSN.parse(r.varint()));
    const pageCount = asCorrupt(() => PageCount.parse(r.varint()));
    const hash = flags & HAS_HASH ? CommitHash.fromBytes(r.bytes(32)) : undefined;
    let segment: SegmentRef | undefined;
    if (flags & HAS_SEGMENT) {
      const sid = asCorrupt(() => SegmentId.fromBytes(r.bytes(16)));
      const segFlags = version === 1 ? 0 : r.u8();
      if (segFlags & ~(SEG_HAS_HOME | SEG_HAS_DIGESTS)) throw corrupt(`A commit record has unknown segment flags 0x${segFlags.toString(16)}.`);
      const home = segFlags & SEG_HAS_HOME ? asCorrupt(() => VolumeId.fromBytes(r.bytes(16))) : undefined;
      const pages = PageSet.readFrom(r);
      const frameCount = r.varint();
      if (frameCount > r.remaining) throw corrupt(`A commit record claims ${frameCount} frames but has ${r.remaining} bytes left.`);
      if (segFlags & SEG_HAS_DIGESTS && frameCount === 0) throw corrupt('A commit record has frame digests but no frames.');
      const frames: FrameRef[] = [];
      for (let i = 0; i < frameCount; i++) {
        const framePages = PageSet.readFrom(r);
        const bytes = r.varint();
        frames.push(segFlags & SEG_HAS_DIGESTS ? { pages: framePages, bytes, digest: r.bytes(FRAME_DIGEST_BYTES).slice() } : { pages: framePages, bytes });
      }
      const hotFrames = r.varint();
      if (hotFrames > frameCount) throw corrupt(`A commit record marks ${hotFrames} hot frames of ${frameCount}.`);
      segment = home ? { sid, home, pages, frames, hotFrames } : { sid, pages, frames, hotFrames };
    }
    let checkpoint: Commit[] | undefined;
    if (flags & HAS_CHECKPOINT) {
      checkpoint = [];
      const n = r.varint();
      if (n > r.remaining) throw corrupt(`A commit record claims a checkpoint of ${n} commits but has ${r.remaining} bytes left.`);
      for (let i = 0; i < n; i++) {
        const older = Commit.decode(r.bytes(r.varint()));
        if (older.vid !== vid || older.lsn >= lsn || older.lsn <= (checkpoint.at(-1)?.lsn ?? 0) || older.checkpoint || !older.hash) {
          throw corrupt(`The checkpoint of commit ${vid}@${lsn} holds commit ${older.vid}@${older.lsn}: not an earlier commit of the volume in order.`);
        }
        checkpoint.push(older);
      }
    }
    let ancestors: VolumeId[] | undefined;
    if (flags & HAS_ANCESTORS) {
      if (!checkpoint) throw corrupt(`Commit ${vid}@${lsn} lists ancestors without a checkpoint.`);
      const n = r.varint();
      if (n === 0 || n * 16 > r.remaining) throw corrupt(`A commit record claims ${n} ancestors but has ${r.remaining} bytes left.`);
      ancestors = [];
      for (let i = 0; i < n; i++) ancestors.push(asCorrupt(() => VolumeId.fromBytes(r.bytes(16))));
    }
    r.end();
    const commit: Commit = checkpoint
      ? { vid, lsn, pageCount, hash, segment, checkpoint, ...(ancestors ? { ancestors } : {}) }
      : { vid, lsn, pageCount, hash, segment };
    Commit.validate(commit);
    return commit;
  },

  /** Structural rules every commit obeys; throws Corrupt naming the broken one. */
  validate(c: Commit): void {
    const seg = c.segment;
    if (!seg) return;
    const last = seg.pages.last;
    if (last !== undefined && last > c.pageCount) {
      throw corrupt(`Commit ${c.vid}@${c.lsn} holds page ${last} beyond its page count ${c.pageCount}.`);
    }
    if (seg.frames.length === 0) return;
    let covered = PageSet.EMPTY;
    for (const f of seg.frames) {
      if (f.pages.isEmpty || f.pages.size > FRAME_MAX_PAGES || !f.pages.intersect(covered).isEmpty) {
        throw corrupt(`Commit ${c.vid}@${c.lsn} has an empty, oversized (> ${FRAME_MAX_PAGES} pages) or overlapping frame.`);
      }
      covered = covered.union(f.pages);
    }
    if (!covered.equals(seg.pages)) throw corrupt(`Commit ${c.vid}@${c.lsn} has frames that do not cover exactly its pages.`);
  },
} as const;
