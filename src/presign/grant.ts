import { ScionError, type PresignOp, type VolumeId } from '../core/index.ts';

/** What an authenticated caller may do; returned by the pluggable `authorize`. */
export interface Grant {
  /** Volumes whose commit logs the caller may read (and, with `write`, append to). */
  readonly volumes: '*' | ReadonlySet<VolumeId>;
  /** May create segments and commit to the granted volumes. */
  readonly write: boolean;
  /** May delete segments and list the whole bucket (GC, operators). */
  readonly admin: boolean;
}

const hasVolume = (grant: Grant, vid: VolumeId): boolean => grant.volumes === '*' || grant.volumes.has(vid);

/** Why `grant` does not cover `op`, or undefined if it does. */
export function refusalOf(grant: Grant, op: PresignOp): string | undefined {
  switch (op.op) {
    case 'getCommit':
    case 'getLatest':
    case 'listLog':
      return hasVolume(grant, op.vid) ? undefined : `volume ${op.vid} is not granted`;
    case 'getSegment':
      // Format 2: a segment lives under its volume, and reading it needs that volume. Format 1's
      // shared segments/{sid}: the id (72 random bits plus a timestamp, learnt only from a commit
      // of a volume the caller may read) is the read capability.
      return op.vid === undefined || hasVolume(grant, op.vid) ? undefined : `volume ${op.vid} is not granted`;
    case 'putCommit':
    case 'putLatest':
    case 'putSegment':
      // Only under the volume's own prefix (format 2 writes nothing to the shared segments/).
      if (!hasVolume(grant, op.vid)) return `volume ${op.vid} is not granted`;
      return grant.write ? undefined : 'the grant is read-only';
    case 'deleteSegment':
    case 'listSegments':
    case 'listVolumes':
      return grant.admin ? undefined : `${op.op} needs an admin grant`;
  }
}

/** Throws Forbidden naming the first op of the batch that `grant` does not cover; a batch is all or nothing. */
export function checkGrant(grant: Grant, ops: readonly PresignOp[]): void {
  ops.forEach((op, i) => {
    const why = refusalOf(grant, op);
    if (why !== undefined) throw new ScionError('Forbidden', `Op ${i} (${op.op}) is not allowed: ${why}.`, { op: i });
  });
}
