import { invalidInput } from './errors.ts';
import { LSN } from './lsn.ts';
import { SegmentId } from './segment-id.ts';
import { VolumeId } from './volume-id.ts';

/**
 * The remote layout, version 1, relative to the bucket (and an optional prefix):
 *   volumes/{vid}/log/{lsn as 16 hex digits}   one commit object per remote LSN, created only if absent
 *   segments/{sid}                              immutable frames of pages, created only if absent
 */
export const RemoteKey = {
  commit: (vid: VolumeId, lsn: LSN): string => `volumes/${vid}/log/${LSN.format(lsn)}`,
  logPrefix: (vid: VolumeId): string => `volumes/${vid}/log/`,
  segment: (sid: SegmentId): string => `segments/${sid}`,
  SEGMENTS_PREFIX: 'segments/',
  VOLUMES_PREFIX: 'volumes/',

  /** What a key names; throws InvalidInput for a key outside the layout. */
  parse(key: string): { kind: 'commit'; vid: VolumeId; lsn: LSN } | { kind: 'segment'; sid: SegmentId } {
    const commit = /^volumes\/([0-9a-z]{26})\/log\/([0-9a-f]{16})$/.exec(key);
    if (commit) return { kind: 'commit', vid: VolumeId.parse(commit[1] as string), lsn: LSN.parse(commit[2] as string) };
    const segment = /^segments\/([0-9a-z]{26})$/.exec(key);
    if (segment) return { kind: 'segment', sid: SegmentId.parse(segment[1] as string) };
    throw invalidInput(`Not a Scion object key: ${JSON.stringify(key)}.`);
  },
} as const;
