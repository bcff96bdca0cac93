import { ByteReader, ByteWriter, seal, unseal } from './codec.ts';
import { corrupt, invalidInput } from './errors.ts';
import { LSN } from './lsn.ts';
import { VolumeId } from './volume-id.ts';

/** Per ancestor of a fork, the newest LSN of its log whose commit objects the fork's readers may read. */
export type LogBounds = Readonly<Partial<Record<VolumeId, LSN>>>;

/**
 * `volumes/{vid}/fork`: the ancestors whose segments a fork's commits name, as the presign service
 * attested them. The service signs its PUT only for a caller that may write the fork and read every
 * ancestor (up to its bound), and computes its bytes itself (they follow from the op), so a writer of
 * the fork alone can neither create it nor name other volumes in it. Created once with If-None-Match: *.
 * It is what lets the service extend a grant of the fork to those ancestors' segments, and to their
 * commit objects (a small push's frames live there) at LSNs up to `logBounds` only, never later ones.
 * Format: magic "SFRK", version 2, vid, count, the ancestors' ids (ascending) each followed by its
 * bound (0: none), CRC-32C. Version 1 (no bounds) still decodes, with `logBounds` absent.
 */
export interface RemoteFork {
  readonly vid: VolumeId;
  readonly ancestors: readonly VolumeId[];
  /**
   * An ancestor without a bound has no commit readable through the fork. Absent only in a version 1
   * record, which bounds nothing: no commit is readable through it.
   */
  readonly logBounds?: LogBounds | undefined;
}

const MAGIC = 0x4b52_4653; // "SFRK" little-endian
const VERSION_WITHOUT_BOUNDS = 1;
const VERSION = 2;
/** Most ancestors one fork record lists (a fork of a fork of … adds one per generation). */
export const FORK_MAX_ANCESTORS = 64;

export const RemoteFork = {
  /**
   * The canonical form (what `encode` writes): ancestors deduplicated and sorted, bounds of listed
   * ancestors only. Throws InvalidInput for no ancestor, too many, the fork itself, or a bound of a
   * volume not listed.
   */
  of(vid: VolumeId, ancestors: readonly VolumeId[], logBounds: LogBounds = {}): RemoteFork & { readonly logBounds: LogBounds } {
    const sorted = [...new Set(ancestors)].sort();
    if (sorted.length === 0 || sorted.length > FORK_MAX_ANCESTORS) throw invalidInput(`A fork lists 1–${FORK_MAX_ANCESTORS} ancestors; got ${sorted.length}.`);
    if (sorted.includes(vid)) throw invalidInput(`The fork ${vid} cannot be its own ancestor.`);
    for (const [a, lsn] of Object.entries(logBounds)) {
      if (lsn !== undefined && !sorted.includes(a as VolumeId)) throw invalidInput(`The fork ${vid} bounds the log of ${a}, which it does not list as an ancestor.`);
    }
    const bounds: Partial<Record<VolumeId, LSN>> = {};
    for (const a of sorted) if (logBounds[a] !== undefined) bounds[a] = LSN.parse(logBounds[a]);
    return { vid, ancestors: sorted, logBounds: bounds };
  },

  /** Always version 2 (`logBounds` absent: none). */
  encode(fork: RemoteFork): Uint8Array {
    const { vid, ancestors, logBounds } = RemoteFork.of(fork.vid, fork.ancestors, fork.logBounds);
    const w = new ByteWriter(32 + 24 * ancestors.length).u32(MAGIC).u8(VERSION).bytes(VolumeId.toBytes(vid)).varint(ancestors.length);
    for (const a of ancestors) w.bytes(VolumeId.toBytes(a)).varint(logBounds[a] ?? 0);
    return seal(w.finish());
  },

  /** Throws Corrupt for anything but the fork record of `vid`. */
  decode(bytes: Uint8Array, vid: VolumeId): RemoteFork {
    const r = new ByteReader(unseal(bytes, 'fork record'), 'fork record');
    const magic = r.u32();
    const version = r.u8();
    if (magic !== MAGIC || (version !== VERSION && version !== VERSION_WITHOUT_BOUNDS)) {
      throw corrupt(`The fork record of ${vid} is not a Scion fork record (version ${VERSION_WITHOUT_BOUNDS}–${VERSION}).`);
    }
    let decoded: RemoteFork;
    try {
      const own = VolumeId.fromBytes(r.bytes(16));
      const count = r.varint();
      if (count > FORK_MAX_ANCESTORS) throw new Error(`${count} ancestors`);
      const ancestors: VolumeId[] = [];
      const logBounds: Partial<Record<VolumeId, LSN>> = {};
      for (let i = 0; i < count; i++) {
        const a = VolumeId.fromBytes(r.bytes(16));
        ancestors.push(a);
        const bound = version === VERSION ? r.varint() : 0;
        if (bound !== 0) logBounds[a] = LSN.parse(bound);
      }
      decoded = version === VERSION ? { vid: own, ancestors, logBounds } : { vid: own, ancestors };
    } catch (e) {
      throw corrupt(`The fork record of ${vid} holds an invalid field: ${(e as Error).message}`);
    }
    r.end();
    if (decoded.vid !== vid) throw corrupt(`The fork record of ${vid} names ${decoded.vid}.`);
    return decoded;
  },
} as const;
