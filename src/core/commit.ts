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
  /**
   * The object is the commit object `volumes/{home}/log/{inLog}` (a small push's frames travel
   * inside its commit), not a segment object. Only ever an address of frame bytes to read.
   */
  readonly inLog?: LSN | undefined;
}

/** One object of a segment split over several (a large push uploads them while it builds the next): `frames` consecutive frames under `volumes/{home}/segments/{sid}`. */
export interface SegmentPart {
  readonly sid: SegmentId;
  readonly frames: number;
}

/** A small push's frames, back to back from byte `offset` of the commit object at `lsn` of the segment's home. */
export interface InlineFrames {
  readonly lsn: LSN;
  readonly offset: number;
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
  /** Format 2: the frames are split over these objects, in order (none: one object under `sid`). */
  readonly parts?: readonly SegmentPart[] | undefined;
  /** Format 2: the frames are inside a commit object, not in a segment object. */
  readonly inline?: InlineFrames | undefined;
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
/** The inline frames of the segment follow the record's fields (the commit object itself, never a copy in a tail or checkpoint). */
const HAS_INLINE_DATA = 16;
// Segment flags (format 2).
const SEG_HAS_HOME = 1;
const SEG_HAS_DIGESTS = 2;
const SEG_HAS_PARTS = 4;
const SEG_INLINE = 8;
/** Most bytes of frames a commit object carries inline (a small push: no segment object, one round trip less). */
export const INLINE_MAX_BYTES = 16 * 1024;
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

  /**
   * The commit object of a small push: `c` with its segment's frames (`frames`, back to back) inside,
   * at the offset the returned commit records. Readers fetch them from the object at its key.
   */
  withInlineFrames(c: Commit, frames: Uint8Array): { commit: Commit; bytes: Uint8Array } {
    const seg = c.segment;
    if (!seg || seg.parts || seg.frames.reduce((n, f) => n + f.bytes, 0) !== frames.byteLength) throw invalidInput(`Commit ${c.vid}@${c.lsn} has no single segment of ${frames.byteLength} bytes of frames to carry inline.`);
    const at = (offset: number): Commit => ({ ...c, segment: { ...seg, inline: { lsn: c.lsn, offset } } });
    // The offset field has a fixed width, so the record's length does not depend on its value.
    const offset = Commit.encode(at(0)).byteLength - 4;
    const commit = at(offset);
    return { commit, bytes: encodeCommit(commit, frames) };
  },

  /** Binary form: magic, version, fields, CRC-32C over everything before it. */
  encode(c: Commit): Uint8Array {
    return encodeCommit(c, undefined);
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
    if (flags & ~(HAS_HASH | HAS_SEGMENT | (version === 1 ? 0 : HAS_CHECKPOINT | HAS_ANCESTORS | HAS_INLINE_DATA))) throw corrupt(`A commit record has unknown flags 0x${flags.toString(16)}.`);
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
      if (segFlags & ~(SEG_HAS_HOME | SEG_HAS_DIGESTS | SEG_HAS_PARTS | SEG_INLINE)) throw corrupt(`A commit record has unknown segment flags 0x${segFlags.toString(16)}.`);
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
      if (segFlags & (SEG_HAS_PARTS | SEG_INLINE) && (segFlags & (SEG_HAS_HOME | SEG_HAS_DIGESTS)) !== (SEG_HAS_HOME | SEG_HAS_DIGESTS)) {
        throw corrupt('A commit record splits or inlines a segment without a home and digests.');
      }
      if ((segFlags & (SEG_HAS_PARTS | SEG_INLINE)) === (SEG_HAS_PARTS | SEG_INLINE)) throw corrupt('A commit record has a segment both split and inline.');
      let parts: SegmentPart[] | undefined;
      if (segFlags & SEG_HAS_PARTS) {
        const n = r.varint();
        if (n === 0 || n * 17 > r.remaining) throw corrupt(`A commit record claims ${n} segment parts but has ${r.remaining} bytes left.`);
        parts = [];
        for (let i = 0; i < n; i++) parts.push({ sid: asCorrupt(() => SegmentId.fromBytes(r.bytes(16))), frames: r.varint() });
        if (parts.some((p) => p.frames === 0) || parts.reduce((sum, p) => sum + p.frames, 0) !== frameCount) throw corrupt(`A commit record splits ${frameCount} frames into parts that do not cover them.`);
      }
      const inline = segFlags & SEG_INLINE ? { lsn: asCorrupt(() => LSN.parse(r.varint())), offset: r.u32() } : undefined;
      segment = { sid, ...(home ? { home } : {}), pages, frames, hotFrames, ...(parts ? { parts } : {}), ...(inline ? { inline } : {}) };
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
    if (flags & HAS_INLINE_DATA) {
      // The object's own frames: where its record says, of the size its frames add up to.
      const inline = segment?.inline;
      if (!segment || !inline || inline.lsn !== lsn || inline.offset !== r.position) throw corrupt(`Commit ${vid}@${lsn} carries frames its record does not place.`);
      r.bytes(segment.frames.reduce((n, f) => n + f.bytes, 0));
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
    const framePages = seg.frames.map((f) => f.pages);
    const covered = framePages.some((p) => p.isEmpty || p.size > FRAME_MAX_PAGES) ? undefined : PageSet.disjointUnion(framePages);
    if (!covered) throw corrupt(`Commit ${c.vid}@${c.lsn} has an empty, oversized (> ${FRAME_MAX_PAGES} pages) or overlapping frame.`);
    if (!covered.equals(seg.pages)) throw corrupt(`Commit ${c.vid}@${c.lsn} has frames that do not cover exactly its pages.`);
  },
} as const;

function encodeCommit(c: Commit, inlineData: Uint8Array | undefined): Uint8Array {
  const w = new ByteWriter(64 + (inlineData?.byteLength ?? 0))
    .u32(MAGIC)
    .u8(COMMIT_FORMAT_VERSION)
    .u8((c.hash ? HAS_HASH : 0) | (c.segment ? HAS_SEGMENT : 0) | (c.checkpoint ? HAS_CHECKPOINT : 0) | (c.ancestors?.length ? HAS_ANCESTORS : 0) | (inlineData ? HAS_INLINE_DATA : 0))
    .bytes(VolumeId.toBytes(c.vid))
    .varint(c.lsn)
    .varint(c.pageCount);
  if (c.hash) w.bytes(CommitHash.toBytes(c.hash));
  if (c.segment) {
    const seg = c.segment;
    const digests = seg.frames.length > 0 && seg.frames.every((f) => f.digest !== undefined);
    if (!digests && seg.frames.some((f) => f.digest !== undefined)) throw invalidInput(`Commit ${c.vid}@${c.lsn} has digests for some frames only.`);
    w.bytes(SegmentId.toBytes(seg.sid));
    if ((seg.parts || seg.inline) && !(seg.home && digests)) throw invalidInput(`Commit ${c.vid}@${c.lsn} splits or inlines a segment without a home and digests.`);
    if (seg.parts && seg.inline) throw invalidInput(`Commit ${c.vid}@${c.lsn} has a segment both split and inline.`);
    w.u8((seg.home ? SEG_HAS_HOME : 0) | (digests ? SEG_HAS_DIGESTS : 0) | (seg.parts ? SEG_HAS_PARTS : 0) | (seg.inline ? SEG_INLINE : 0));
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
    if (seg.parts) {
      w.varint(seg.parts.length);
      for (const part of seg.parts) w.bytes(SegmentId.toBytes(part.sid)).varint(part.frames);
    }
    if (seg.inline) w.varint(seg.inline.lsn).u32(seg.inline.offset);
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
  if (inlineData) w.bytes(inlineData);
  return seal(w.finish());
}
