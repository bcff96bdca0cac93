import { ScionError, type LSN, type PresignOp, type RemoteFork, type SharedName, type VolumeId } from '../core/index.ts';

/** What an authenticated caller may do; returned by the pluggable `authorize`. */
export interface Grant {
  /** Volumes whose commit logs the caller may read (and, with `write`, append to). `'*'` covers every name too. */
  readonly volumes: '*' | ReadonlySet<VolumeId>;
  /**
   * Shared database names the caller may open: read the name, and use the volume it points at as if
   * that volume were in `volumes`; with `write`, create the name (pointing at a volume it may use, or
   * at one with no commits yet). Nothing else: another name, or that name's volume, stays refused.
   */
  readonly names?: ReadonlySet<SharedName> | undefined;
  /** May create segments and commit to the granted volumes. */
  readonly write: boolean;
  /** May delete segments and list the whole bucket (GC, operators). */
  readonly admin: boolean;
}

/** What the service reads from the bucket to apply name and fork grants. */
export interface NameDirectory {
  /** The volume the name points at, or undefined if nobody created the name yet. */
  volumeOf(name: SharedName): Promise<VolumeId | undefined>;
  /** Whether the volume has no commit yet (a fresh id: nobody's data). */
  isUnused(vid: VolumeId): Promise<boolean>;
  /** The volume's fork record (`volumes/{vid}/fork`, written only through `putFork`), or undefined without one. */
  forkOf(vid: VolumeId): Promise<RemoteFork | undefined>;
  /** Whether the volume's log holds a commit at `lsn`. */
  hasCommit(vid: VolumeId, lsn: LSN): Promise<boolean>;
}

const hasName = (grant: Grant, name: SharedName): boolean => grant.volumes === '*' || grant.names?.has(name) === true;

/** The volume an op reads or writes, if any. */
function volumeOfOp(op: PresignOp): VolumeId | undefined {
  switch (op.op) {
    case 'getCommit':
    case 'getLatest':
    case 'readLog':
    case 'getCompacted':
    case 'listLog':
    case 'putCommit':
    case 'putLatest':
    case 'putSegment':
    case 'getFork':
    case 'putFork':
      return op.vid;
    case 'getSegment':
      // Format 1's shared segments/{sid} (no vid): the id (72 random bits plus a timestamp, learnt
      // only from a commit of a volume the caller may read) is the read capability.
      return op.vid;
    case 'getName':
    case 'putName':
    case 'deleteSegment':
    case 'deleteCommit':
    case 'putCompacted':
    case 'listSegments':
    case 'listVolumes':
      return undefined;
  }
}

/**
 * Why `grant` does not cover `op`, or undefined if it does. `volumes` is what the grant covers with
 * its names resolved (`grant.volumes` plus the volumes its names point at).
 */
async function refusalOf(grant: Grant, op: PresignOp, volumes: () => Promise<'*' | ReadonlySet<VolumeId>>, directory: NameDirectory): Promise<string | undefined> {
  const covers = async (vid: VolumeId): Promise<boolean> => {
    if (grant.volumes === '*' || grant.volumes.has(vid)) return true;
    const all = await volumes();
    return all === '*' || all.has(vid);
  };
  // An ancestor's segments are readable through a covered fork (`via`) whose fork record lists it.
  // That record was signed only for a caller who could read the ancestor then (putFork, below), so
  // a writer of a volume cannot reach another volume by naming it in its commits.
  const forkThrough = async (via: VolumeId, vid: VolumeId): Promise<RemoteFork | undefined> => {
    if (!(await covers(via))) return undefined;
    const fork = await directory.forkOf(via);
    return fork?.ancestors.includes(vid) ? fork : undefined;
  };
  const readsSegmentsOf = async (vid: VolumeId, via: VolumeId | undefined): Promise<boolean> =>
    (await covers(vid)) || (via !== undefined && (await forkThrough(via, vid)) !== undefined);
  // An ancestor's commit objects (a small push's frames live there) are readable through a covered
  // fork only up to the bound its record holds: the service checked that its creator could read
  // them then (putFork, below); the ancestor's later commits stay its own.
  const commitRefusal = async (vid: VolumeId, lsn: LSN, via: VolumeId): Promise<string | undefined> => {
    const fork = await forkThrough(via, vid);
    if (!fork) return `volume ${vid} is not granted, nor an ancestor of the granted fork ${via}`;
    if (!fork.logBounds) {
      return `the fork record of ${via} predates log bounds (version 1), so no commit of its ancestor ${vid} is readable through it: grant ${vid} to this reader, or fork ${vid} again (a new fork's record bounds its ancestors' logs)`;
    }
    const bound = fork.logBounds[vid];
    return bound !== undefined && lsn <= bound ? undefined : `the fork ${via} reads the log of its ancestor ${vid} up to LSN ${bound ?? 0} only, not ${lsn}`;
  };
  // A new fork record's bound of an ancestor: a commit the creator may read now, directly (it
  // exists) or through another of its ancestors (within that one's bound).
  const boundRefusal = async (ancestor: VolumeId, bound: LSN, others: readonly VolumeId[]): Promise<string | undefined> => {
    if (await covers(ancestor)) return (await directory.hasCommit(ancestor, bound)) ? undefined : `the fork bounds the log of ${ancestor} at LSN ${bound}, which it does not hold`;
    for (const through of others) {
      const bounds = through === ancestor ? undefined : (await forkThrough(through, ancestor))?.logBounds;
      if (bounds && bound <= (bounds[ancestor] ?? 0)) return undefined;
    }
    return `the fork bounds the log of ${ancestor} at LSN ${bound}, past what its granted ancestors may read of it`;
  };
  switch (op.op) {
    case 'deleteSegment':
    case 'deleteCommit':
    case 'putCompacted':
    case 'listSegments':
    case 'listVolumes':
      return grant.admin ? undefined : `${op.op} needs an admin grant`;
    case 'getName':
      return hasName(grant, op.name) ? undefined : `the name ${op.name} is not granted`;
    case 'putName':
      if (!hasName(grant, op.name)) return `the name ${op.name} is not granted`;
      if (!grant.write) return 'the grant is read-only';
      // A name may point only at a volume the caller may already use, or at a fresh one: never at
      // somebody else's data, which would hand it to every holder of this name.
      return (await covers(op.vid)) || (await directory.isUnused(op.vid)) ? undefined : `volume ${op.vid} already has commits and is not granted`;
  }
  const vid = volumeOfOp(op);
  if (op.op === 'getSegment' && vid !== undefined) {
    if (await readsSegmentsOf(vid, op.via)) return undefined;
    return op.via === undefined ? `volume ${vid} is not granted` : `volume ${vid} is not granted, nor an ancestor of the granted fork ${op.via}`;
  }
  if (op.op === 'getCommit' && op.via !== undefined && !(await covers(op.vid))) return commitRefusal(op.vid, op.lsn, op.via);
  if (vid !== undefined && !(await covers(vid))) return `volume ${vid} is not granted`;
  // Writes only under the volume's own prefix (format 2 writes nothing to the shared segments/).
  if ((op.op === 'putCommit' || op.op === 'putLatest' || op.op === 'putSegment' || op.op === 'putFork') && !grant.write) return 'the grant is read-only';
  if (op.op === 'putFork') {
    // Each ancestor readable directly, or through another ancestor it is a fork of (a fork of a fork).
    for (const ancestor of op.ancestors) {
      let readable = await covers(ancestor);
      for (const through of op.ancestors) if (!readable && through !== ancestor) readable = await readsSegmentsOf(ancestor, through);
      if (!readable) return `the fork's ancestor ${ancestor} is not granted`;
      const bound = op.logBounds?.[ancestor];
      const why = bound === undefined ? undefined : await boundRefusal(ancestor, bound, op.ancestors);
      if (why !== undefined) return why;
    }
  }
  return undefined;
}

/**
 * Throws Forbidden naming the first op of the batch that `grant` does not cover; a batch is all or
 * nothing. The grant's names are resolved (read from the bucket) only if an op needs a volume that
 * `grant.volumes` lacks.
 */
export async function checkGrant(grant: Grant, ops: readonly PresignOp[], directory: NameDirectory): Promise<void> {
  let named: Promise<'*' | ReadonlySet<VolumeId>> | undefined;
  const volumes = () => (named ??= namedVolumes(grant, directory));
  for (const [i, op] of ops.entries()) {
    const why = await refusalOf(grant, op, volumes, directory);
    if (why !== undefined) throw new ScionError('Forbidden', `Op ${i} (${op.op}) is not allowed: ${why}.`, { op: i });
  }
}

async function namedVolumes(grant: Grant, directory: NameDirectory): Promise<'*' | ReadonlySet<VolumeId>> {
  if (grant.volumes === '*' || !grant.names || grant.names.size === 0) return grant.volumes;
  const targets = await Promise.all([...grant.names].map((name) => directory.volumeOf(name)));
  return new Set([...grant.volumes, ...targets.filter((v): v is VolumeId => v !== undefined)]);
}
