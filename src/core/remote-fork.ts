import { ByteReader, ByteWriter, seal, unseal } from './codec.ts';
import { corrupt, invalidInput } from './errors.ts';
import { LSN } from './lsn.ts';
import { VolumeId } from './volume-id.ts';

/** Per ancestor of a fork, the LSNs of its log whose commit objects (inline frames) the fork's commits name. */
export type InlineCommits = Readonly<Partial<Record<VolumeId, readonly LSN[]>>>;

/**
 * `volumes/{vid}/fork`: the ancestors whose segments a fork's commits name, as the presign service
 * attested them. The service signs its PUT only for a caller that may write the fork and read every
 * ancestor (and each commit it lists), and computes its bytes itself (they follow from the op), so a
 * writer of the fork alone can neither create it nor name other volumes in it. Created once with
 * If-None-Match: *. It is what lets the service extend a grant of the fork to those ancestors'
 * segments, and to exactly the commit objects `inlineCommits` lists (a small push's frames live
 * there): never an ancestor's other commits, whose pages it may have overwritten before the fork.
 * Format: magic "SFRK", version 2, vid, count, the ancestors' ids (ascending) each followed by the
 * count of its listed LSNs and those LSNs ascending as varint deltas, CRC-32C. Version 1 (no
 * commits) still decodes, with `inlineCommits` absent.
 */
export interface RemoteFork {
  readonly vid: VolumeId;
  readonly ancestors: readonly VolumeId[];
  /**
   * An ancestor without an entry has no commit readable through the fork. Absent only in a version 1
   * record, through which no commit is readable.
   */
  readonly inlineCommits?: InlineCommits | undefined;
}

const MAGIC = 0x4b52_4653; // "SFRK" little-endian
const VERSION_WITHOUT_COMMITS = 1;
const VERSION = 2;
/** Most ancestors one fork record lists (a fork of a fork of … adds one per generation). */
export const FORK_MAX_ANCESTORS = 64;
/** Most commits one fork record lists, over all its ancestors (at most one per commit of its first push). */
export const FORK_MAX_COMMITS = 65_536;

export const RemoteFork = {
  /**
   * The canonical form (what `encode` writes): ancestors deduplicated and sorted, LSNs deduplicated
   * and sorted, listed ancestors only, none empty. Throws InvalidInput for no ancestor, too many, the
   * fork itself, commits of a volume not listed, or too many commits.
   */
  of(vid: VolumeId, ancestors: readonly VolumeId[], inlineCommits: InlineCommits = {}): RemoteFork & { readonly inlineCommits: InlineCommits } {
    const sorted = [...new Set(ancestors)].sort();
    if (sorted.length === 0 || sorted.length > FORK_MAX_ANCESTORS) throw invalidInput(`A fork lists 1–${FORK_MAX_ANCESTORS} ancestors; got ${sorted.length}.`);
    if (sorted.includes(vid)) throw invalidInput(`The fork ${vid} cannot be its own ancestor.`);
    for (const [a, lsns] of Object.entries(inlineCommits)) {
      if (lsns !== undefined && lsns.length > 0 && !sorted.includes(a as VolumeId)) throw invalidInput(`The fork ${vid} lists commits of ${a}, which it does not list as an ancestor.`);
    }
    const commits: Partial<Record<VolumeId, LSN[]>> = {};
    let total = 0;
    for (const a of sorted) {
      const lsns = [...new Set((inlineCommits[a] ?? []).map((lsn) => LSN.parse(lsn)))].sort((x, y) => x - y);
      total += lsns.length;
      if (lsns.length > 0) commits[a] = lsns;
    }
    if (total > FORK_MAX_COMMITS) throw invalidInput(`A fork record lists at most ${FORK_MAX_COMMITS} commits of its ancestors; got ${total}.`);
    return { vid, ancestors: sorted, inlineCommits: commits };
  },

  /** Always version 2 (`inlineCommits` absent: none). */
  encode(fork: RemoteFork): Uint8Array {
    const { vid, ancestors, inlineCommits } = RemoteFork.of(fork.vid, fork.ancestors, fork.inlineCommits);
    const w = new ByteWriter(32 + 24 * ancestors.length).u32(MAGIC).u8(VERSION).bytes(VolumeId.toBytes(vid)).varint(ancestors.length);
    for (const a of ancestors) {
      const lsns = inlineCommits[a] ?? [];
      w.bytes(VolumeId.toBytes(a)).varint(lsns.length);
      lsns.forEach((lsn, i) => w.varint(lsn - (i === 0 ? 0 : lsns[i - 1]!)));
    }
    return seal(w.finish());
  },

  /** Throws Corrupt for anything but the fork record of `vid`. */
  decode(bytes: Uint8Array, vid: VolumeId): RemoteFork {
    const r = new ByteReader(unseal(bytes, 'fork record'), 'fork record');
    const magic = r.u32();
    const version = r.u8();
    if (magic !== MAGIC || (version !== VERSION && version !== VERSION_WITHOUT_COMMITS)) {
      throw corrupt(`The fork record of ${vid} is not a Scion fork record (version ${VERSION_WITHOUT_COMMITS}–${VERSION}).`);
    }
    let decoded: RemoteFork;
    try {
      const own = VolumeId.fromBytes(r.bytes(16));
      const count = r.varint();
      if (count > FORK_MAX_ANCESTORS) throw new Error(`${count} ancestors`);
      const ancestors: VolumeId[] = [];
      const inlineCommits: Partial<Record<VolumeId, LSN[]>> = {};
      let total = 0;
      for (let i = 0; i < count; i++) {
        const a = VolumeId.fromBytes(r.bytes(16));
        ancestors.push(a);
        const n = version === VERSION ? r.varint() : 0;
        total += n;
        if (total > FORK_MAX_COMMITS) throw new Error(`more than ${FORK_MAX_COMMITS} commits`);
        const lsns: LSN[] = [];
        // Deltas of an ascending set: the first is the LSN itself (≥ 1), every later one ≥ 1.
        for (let j = 0; j < n; j++) {
          const delta = r.varint();
          if (delta === 0) throw new Error(`commits of ${a} not strictly ascending`);
          lsns.push(LSN.parse((lsns[j - 1] ?? 0) + delta));
        }
        if (lsns.length > 0) inlineCommits[a] = lsns;
      }
      decoded = version === VERSION ? { vid: own, ancestors, inlineCommits } : { vid: own, ancestors };
    } catch (e) {
      throw corrupt(`The fork record of ${vid} holds an invalid field: ${(e as Error).message}`);
    }
    r.end();
    if (decoded.vid !== vid) throw corrupt(`The fork record of ${vid} names ${decoded.vid}.`);
    return decoded;
  },
} as const;
