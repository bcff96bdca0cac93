import { ByteReader, ByteWriter, seal, unseal } from './codec.ts';
import { corrupt, invalidInput } from './errors.ts';
import { VolumeId } from './volume-id.ts';

/**
 * `volumes/{vid}/fork`: the ancestors whose segments a fork's commits name, as the presign service
 * attested them. The service signs its PUT only for a caller that may write the fork and read every
 * ancestor, and computes its bytes itself (they follow from the fork and the set of ancestors), so a
 * writer of the fork alone can neither create it nor name other volumes in it. Created once with
 * If-None-Match: *. It is what lets the service extend a grant of the fork to those ancestors'
 * segments. Format: magic "SFRK", version 1, vid, count, the ancestors' ids (ascending), CRC-32C.
 */
export interface RemoteFork {
  readonly vid: VolumeId;
  readonly ancestors: readonly VolumeId[];
}

const MAGIC = 0x4b52_4653; // "SFRK" little-endian
const VERSION = 1;
/** Most ancestors one fork record lists (a fork of a fork of … adds one per generation). */
export const FORK_MAX_ANCESTORS = 64;

export const RemoteFork = {
  /** The canonical form: ancestors deduplicated and sorted. Throws InvalidInput for none, too many, or the fork itself. */
  of(vid: VolumeId, ancestors: readonly VolumeId[]): RemoteFork {
    const sorted = [...new Set(ancestors)].sort();
    if (sorted.length === 0 || sorted.length > FORK_MAX_ANCESTORS) throw invalidInput(`A fork lists 1–${FORK_MAX_ANCESTORS} ancestors; got ${sorted.length}.`);
    if (sorted.includes(vid)) throw invalidInput(`The fork ${vid} cannot be its own ancestor.`);
    return { vid, ancestors: sorted };
  },

  encode(fork: RemoteFork): Uint8Array {
    const { vid, ancestors } = RemoteFork.of(fork.vid, fork.ancestors);
    const w = new ByteWriter(32 + 16 * ancestors.length).u32(MAGIC).u8(VERSION).bytes(VolumeId.toBytes(vid)).varint(ancestors.length);
    for (const a of ancestors) w.bytes(VolumeId.toBytes(a));
    return seal(w.finish());
  },

  /** Throws Corrupt for anything but the fork record of `vid`. */
  decode(bytes: Uint8Array, vid: VolumeId): RemoteFork {
    const r = new ByteReader(unseal(bytes, 'fork record'), 'fork record');
    if (r.u32() !== MAGIC || r.u8() !== VERSION) throw corrupt(`The fork record of ${vid} is not a Scion fork record (version ${VERSION}).`);
    let decoded: RemoteFork;
    try {
      const own = VolumeId.fromBytes(r.bytes(16));
      const count = r.varint();
      if (count > FORK_MAX_ANCESTORS) throw new Error(`${count} ancestors`);
      decoded = { vid: own, ancestors: Array.from({ length: count }, () => VolumeId.fromBytes(r.bytes(16))) };
    } catch (e) {
      throw corrupt(`The fork record of ${vid} holds an invalid field: ${(e as Error).message}`);
    }
    r.end();
    if (decoded.vid !== vid) throw corrupt(`The fork record of ${vid} names ${decoded.vid}.`);
    return decoded;
  },
} as const;
