import { ByteReader, ByteWriter, seal, unseal } from './codec.ts';
import { Commit, type SegmentRef } from './commit.ts';
import { corrupt, invalidInput } from './errors.ts';
import { LSN } from './lsn.ts';
import { PageCount } from './page-idx.ts';
import { PageSet } from './page-set.ts';
import { VolumeId } from './volume-id.ts';

/**
 * `volumes/{vid}/compacted` (remote format 2, written by the remote compactor with an admin grant):
 * the volume's live pages as of LSN `lsn`, copied into a few fresh segments under the volume's
 * prefix (sequential frames of 64 pages, each with its SHA-256). A read replica of the page index:
 * the commit records stay the truth. A page that a snapshot ending at or after `lsn` shows from a
 * commit at or before `lsn` has exactly these bytes, so a reader may fetch it from here (many pages
 * per request) instead of from the segment of the commit that wrote it; anything else, or a
 * compacted segment that is gone, is read as before.
 */
export interface CompactedIndex {
  readonly vid: VolumeId;
  readonly lsn: LSN;
  readonly pageCount: PageCount;
  /** Disjoint, each under `vid`'s prefix with every frame's digest. */
  readonly segments: readonly SegmentRef[];
}

const MAGIC = 0x5450_4353; // "SCPT" little-endian
export const COMPACTED_INDEX_VERSION = 1;

export const CompactedIndex = {
  /** Binary form: magic, version, volume, LSN, page count, the segments (each as a commit record of `lsn` without hash), CRC-32C. */
  encode(c: CompactedIndex): Uint8Array {
    const w = new ByteWriter(64).u32(MAGIC).u8(COMPACTED_INDEX_VERSION).bytes(VolumeId.toBytes(c.vid)).varint(c.lsn).varint(c.pageCount).varint(c.segments.length);
    for (const segment of c.segments) {
      if (segment.home !== c.vid || segment.frames.some((f) => f.digest === undefined)) throw invalidInput(`A compacted segment of ${c.vid} must live under its prefix and carry frame digests.`);
      const bytes = Commit.encode({ vid: c.vid, lsn: c.lsn, pageCount: c.pageCount, segment });
      w.varint(bytes.byteLength).bytes(bytes);
    }
    return seal(w.finish());
  },

  /** Throws Corrupt for anything but a compacted index of `vid` whose segments are disjoint, homed under `vid` and digested. */
  decode(bytes: Uint8Array, vid: VolumeId): CompactedIndex {
    const r = new ByteReader(unseal(bytes, 'compacted index'), 'compacted index');
    if (r.u32() !== MAGIC) throw corrupt(`The compacted index of ${vid} is not a Scion compacted index.`);
    const version = r.u8();
    if (version !== COMPACTED_INDEX_VERSION) throw invalidInput(`Unknown compacted index version ${version}; this Scion reads version ${COMPACTED_INDEX_VERSION}. Upgrade Scion.`);
    let head: { vid: VolumeId; lsn: LSN; pageCount: PageCount };
    try {
      head = { vid: VolumeId.fromBytes(r.bytes(16)), lsn: LSN.parse(r.varint()), pageCount: PageCount.parse(r.varint()) };
    } catch (e) {
      throw corrupt(`The compacted index of ${vid} holds an invalid field: ${(e as Error).message}`);
    }
    if (head.vid !== vid) throw corrupt(`The compacted index of ${vid} names volume ${head.vid}.`);
    const n = r.varint();
    if (n > r.remaining) throw corrupt(`The compacted index of ${vid} claims ${n} segments but has ${r.remaining} bytes left.`);
    const segments: SegmentRef[] = [];
    let seen = PageSet.EMPTY;
    for (let i = 0; i < n; i++) {
      const c = Commit.decode(r.bytes(r.varint()));
      const seg = c.segment;
      if (c.vid !== vid || c.lsn !== head.lsn || !seg || seg.home !== vid || seg.frames.length === 0 || seg.frames.some((f) => f.digest === undefined) || !seen.intersect(seg.pages).isEmpty) {
        throw corrupt(`The compacted index of ${vid} holds a segment that is not a disjoint, digested segment under its prefix.`);
      }
      seen = seen.union(seg.pages);
      segments.push(seg);
    }
    r.end();
    return { ...head, segments };
  },
} as const;
