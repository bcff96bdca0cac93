import { ByteReader, ByteWriter, seal, unseal } from './codec.ts';
import { corrupt } from './errors.ts';
import { LSN } from './lsn.ts';
import { VolumeId } from './volume-id.ts';

/**
 * `volumes/{vid}/latest`: the newest LSN a pusher landed, overwritten after each push. Only a hint:
 * the create-only commit keys stay the truth, so a reader that trusts a stale hint merely sees an
 * older snapshot, and every pusher probes past it. Format: magic "SLAT", version 1, vid, LSN, CRC-32C.
 */
export interface LatestHint {
  readonly vid: VolumeId;
  readonly lsn: LSN;
}

const MAGIC = 0x5441_4c53; // "SLAT" little-endian
const VERSION = 1;

export const LatestHint = {
  encode: (h: LatestHint): Uint8Array => seal(new ByteWriter(32).u32(MAGIC).u8(VERSION).bytes(VolumeId.toBytes(h.vid)).varint(h.lsn).finish()),

  /** Throws Corrupt for anything but a hint of `vid`. */
  decode(bytes: Uint8Array, vid: VolumeId): LatestHint {
    const r = new ByteReader(unseal(bytes, 'latest hint'), 'latest hint');
    if (r.u32() !== MAGIC || r.u8() !== VERSION) throw corrupt(`The latest hint of ${vid} is not a Scion hint (version ${VERSION}).`);
    let hint: LatestHint;
    try {
      hint = { vid: VolumeId.fromBytes(r.bytes(16)), lsn: LSN.parse(r.varint()) };
    } catch (e) {
      throw corrupt(`The latest hint of ${vid} holds an invalid field: ${(e as Error).message}`);
    }
    r.end();
    if (hint.vid !== vid) throw corrupt(`The latest hint of ${vid} names volume ${hint.vid}.`);
    return hint;
  },
} as const;
