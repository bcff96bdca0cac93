import { ByteReader, ByteWriter, seal, unseal } from './codec.ts';
import { Commit } from './commit.ts';
import { corrupt } from './errors.ts';
import { LSN } from './lsn.ts';
import { VolumeId } from './volume-id.ts';

/**
 * `volumes/{vid}/latest`: the newest LSN a pusher landed, overwritten after each push. Only a hint:
 * the create-only commit keys stay the truth, so a reader that trusts a stale hint merely sees an
 * older snapshot, and every pusher probes past it.
 *
 * Version 2 also names a checkpoint commit at or below `lsn` and carries the `tail`: copies of the
 * commit records after that checkpoint up to `lsn`, ascending. A clone then reads the hint, the
 * checkpoint commit and the LSN after the hint (absent) — three requests whatever the log's length.
 * Version 1 (the LSN only) is still read.
 */
export interface LatestHint {
  readonly vid: VolumeId;
  readonly lsn: LSN;
  /**
   * Where the tail starts: the checkpoint commit's LSN (whose record carries the page index as of
   * it), or 0 when the tail starts at LSN 1. Absent with `tail` (version 1, or a writer that did not
   * hold the tail).
   */
  readonly checkpoint?: number | undefined;
  /** The commits (checkpoint, lsn], ascending, each with its hash. */
  readonly tail?: readonly Commit[] | undefined;
}

const MAGIC = 0x5441_4c53; // "SLAT" little-endian
export const LATEST_HINT_VERSION = 2;
const HAS_TAIL = 1;

export const LatestHint = {
  encode(h: LatestHint): Uint8Array {
    const w = new ByteWriter(64).u32(MAGIC).u8(LATEST_HINT_VERSION).bytes(VolumeId.toBytes(h.vid)).varint(h.lsn);
    if (h.tail === undefined || h.checkpoint === undefined) return seal(w.u8(0).finish());
    w.u8(HAS_TAIL).varint(h.checkpoint).varint(h.tail.length);
    for (const c of h.tail) {
      const bytes = Commit.encode(Commit.withoutCheckpoint(c));
      w.varint(bytes.byteLength).bytes(bytes);
    }
    return seal(w.finish());
  },

  /** Throws Corrupt for anything but a hint of `vid` whose tail is the commits (checkpoint, lsn] of `vid`. */
  decode(bytes: Uint8Array, vid: VolumeId): LatestHint {
    const r = new ByteReader(unseal(bytes, 'latest hint'), 'latest hint');
    const [magic, version] = [r.u32(), r.u8()];
    if (magic !== MAGIC || (version !== 1 && version !== LATEST_HINT_VERSION)) throw corrupt(`The latest hint of ${vid} is not a Scion hint (versions 1 and ${LATEST_HINT_VERSION}).`);
    let hint: LatestHint;
    try {
      hint = { vid: VolumeId.fromBytes(r.bytes(16)), lsn: LSN.parse(r.varint()) };
    } catch (e) {
      throw corrupt(`The latest hint of ${vid} holds an invalid field: ${(e as Error).message}`);
    }
    if (hint.vid !== vid) throw corrupt(`The latest hint of ${vid} names volume ${hint.vid}.`);
    if (version === 1) {
      r.end();
      return hint;
    }
    const flags = r.u8();
    if (flags & ~HAS_TAIL) throw corrupt(`The latest hint of ${vid} has unknown flags 0x${flags.toString(16)}.`);
    if (!(flags & HAS_TAIL)) {
      r.end();
      return hint;
    }
    const checkpoint = r.varint();
    const n = r.varint();
    if (checkpoint > hint.lsn || n !== hint.lsn - checkpoint) throw corrupt(`The latest hint of ${vid} at ${hint.lsn} carries ${n} commits after checkpoint ${checkpoint}.`);
    const tail: Commit[] = [];
    for (let i = 0; i < n; i++) {
      const c = Commit.decode(r.bytes(r.varint()));
      if (c.vid !== vid || c.lsn !== checkpoint + 1 + i || !c.hash || c.checkpoint) {
        throw corrupt(`The latest hint of ${vid} carries commit ${c.vid}@${c.lsn} where ${vid}@${checkpoint + 1 + i} belongs.`);
      }
      tail.push(c);
    }
    r.end();
    return { ...hint, checkpoint, tail };
  },
} as const;
