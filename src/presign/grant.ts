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
    case 'listLog':
      return hasVolume(grant, op.vid) ? undefined : `volume ${op.vid} is not granted`;
    case 'putCommit':
      if (!hasVolume(grant, op.vid)) return `volume ${op.vid} is not granted`;
      return grant.write ? undefined : 'the grant is read-only';
    case 'getSegment':
      // Segment ids are 72 random bits plus a timestamp, and a client learns one only from a commit
      // record of a volume it may read; the id is the read capability. Segments are shared across
      // volumes (a fork references its parent's), so there is no volume to check them against.
      return undefined;
    case 'putSegment':
      // Create-only, and unreachable until a commit the caller may write references it.
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
