import type { SegmentAddress } from './commit.ts';
import { invalidInput } from './errors.ts';
import type { PresignOp } from './presign-wire.ts';
import { LSN } from './lsn.ts';
import { SharedName } from './remote-name.ts';
import { SegmentId } from './segment-id.ts';
import { VolumeId } from './volume-id.ts';

/** What an object key names. A segment without `home` is format 1's shared `segments/{sid}`. */
export type ParsedKey =
  | { readonly kind: 'commit'; readonly vid: VolumeId; readonly lsn: LSN }
  | { readonly kind: 'segment'; readonly sid: SegmentId; readonly home?: VolumeId | undefined }
  | { readonly kind: 'latest'; readonly vid: VolumeId }
  | { readonly kind: 'fork'; readonly vid: VolumeId }
  | { readonly kind: 'compacted'; readonly vid: VolumeId }
  | { readonly kind: 'name'; readonly name: SharedName };

/**
 * The remote layout, relative to the bucket (and an optional prefix). Format 2 keeps everything of
 * a volume under its prefix, so a write grant (or a bucket policy) is per volume:
 *   volumes/{vid}/log/{lsn as 16 hex digits}   one commit object per remote LSN, created only if absent
 *   volumes/{vid}/segments/{sid}               immutable frames of pages, created only if absent
 *   volumes/{vid}/latest                       a hint: the newest LSN a pusher landed (overwritten)
 *   volumes/{vid}/fork                         a fork's ancestors, attested by the presign service, created only if absent
 *   volumes/{vid}/compacted                    the live pages as of an LSN in a few segments (remote compactor; overwritten)
 *   names/{name}                               a shared database name → its volume, created once, never overwritten
 * Format 1 kept segments in one shared folder, still read:
 *   segments/{sid}
 */
export const RemoteKey = {
  commit: (vid: VolumeId, lsn: LSN): string => `volumes/${vid}/log/${LSN.format(lsn)}`,
  logPrefix: (vid: VolumeId): string => `volumes/${vid}/log/`,
  /** The object holding a segment's bytes: its own, or (inline frames) its commit object. */
  segment: (at: SegmentAddress): string => (at.home ? (at.inLog !== undefined ? RemoteKey.commit(at.home, at.inLog) : `volumes/${at.home}/segments/${at.sid}`) : `segments/${at.sid}`),
  latest: (vid: VolumeId): string => `volumes/${vid}/latest`,
  fork: (vid: VolumeId): string => `volumes/${vid}/fork`,
  compacted: (vid: VolumeId): string => `volumes/${vid}/compacted`,
  name: (name: SharedName): string => `names/${name}`,
  /** Format 1's shared segment folder. */
  SEGMENTS_PREFIX: 'segments/',
  VOLUMES_PREFIX: 'volumes/',

  /** The key a presigned op reads, writes or deletes, or the prefix it lists: how requests are named in events and errors. */
  ofOp(op: PresignOp): string {
    switch (op.op) {
      case 'getCommit':
      case 'putCommit':
      case 'deleteCommit':
        return RemoteKey.commit(op.vid, op.lsn);
      case 'getLatest':
      case 'putLatest':
      case 'readLog':
        return RemoteKey.latest(op.vid);
      case 'getFork':
      case 'putFork':
        return RemoteKey.fork(op.vid);
      case 'getCompacted':
      case 'putCompacted':
        return RemoteKey.compacted(op.vid);
      case 'getSegment':
      case 'putSegment':
      case 'deleteSegment':
        return RemoteKey.segment({ sid: op.sid, home: op.vid });
      case 'listLog':
        return RemoteKey.logPrefix(op.vid);
      case 'listSegments':
        return RemoteKey.SEGMENTS_PREFIX;
      case 'listVolumes':
        return RemoteKey.VOLUMES_PREFIX;
      case 'getName':
      case 'putName':
        return RemoteKey.name(op.name);
    }
  },

  /** What a key names; throws InvalidInput for a key outside the layout. */
  parse(key: string): ParsedKey {
    const commit = /^volumes\/([0-9a-z]{26})\/log\/([0-9a-f]{16})$/.exec(key);
    if (commit) return { kind: 'commit', vid: VolumeId.parse(commit[1] as string), lsn: LSN.parse(commit[2] as string) };
    const homed = /^volumes\/([0-9a-z]{26})\/segments\/([0-9a-z]{26})$/.exec(key);
    if (homed) return { kind: 'segment', home: VolumeId.parse(homed[1] as string), sid: SegmentId.parse(homed[2] as string) };
    const latest = /^volumes\/([0-9a-z]{26})\/latest$/.exec(key);
    if (latest) return { kind: 'latest', vid: VolumeId.parse(latest[1] as string) };
    const fork = /^volumes\/([0-9a-z]{26})\/fork$/.exec(key);
    if (fork) return { kind: 'fork', vid: VolumeId.parse(fork[1] as string) };
    const compacted = /^volumes\/([0-9a-z]{26})\/compacted$/.exec(key);
    if (compacted) return { kind: 'compacted', vid: VolumeId.parse(compacted[1] as string) };
    const name = /^names\/([A-Za-z0-9][A-Za-z0-9._-]{0,127})$/.exec(key);
    if (name) return { kind: 'name', name: SharedName.parse(name[1]) };
    const segment = /^segments\/([0-9a-z]{26})$/.exec(key);
    if (segment) return { kind: 'segment', sid: SegmentId.parse(segment[1] as string) };
    throw invalidInput(`Not a Scion object key: ${JSON.stringify(key)}.`);
  },
} as const;
