import { ScionError, type LSN, type PresignOp, type RemoteFork, type SharedName, type VolumeId } from '../core/index.ts';

/** What an authenticated caller may do; returned by the pluggable `authorize`. */
export interface Grant {
  /** Volumes whose commit logs the caller may read (and, with `write`, append to). `'*'` covers every name too. */
  readonly volumes: '*' | ReadonlySet<VolumeId>;
  /**
   * Shared database names the caller may open: read the name, and use the volume it points at as if
   * that volume were in `volumes`; with `write`, create the name (pointing at a volume it may use, or
   * at one with no commits and no fork record yet). Nothing else: another name, or that name's volume, stays refused.
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
  /** Whether the volume has no commit yet (with no fork record either, a fresh id: nobody's data). */
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
  // fork only at the LSNs its record lists: the service checked that its creator could read those
  // (putFork, below). Never the ancestor's other commits, earlier or later, which may name pages it
  // overwrote or deleted before the fork.
  const commitRefusal = async (vid: VolumeId, lsn: LSN, via: VolumeId): Promise<string | undefined> => {
    const fork = await forkThrough(via, vid);
    if (!fork) return `volume ${vid} is not granted, nor an ancestor of the granted fork ${via}`;
    if (!fork.inlineCommits) {
      return `the fork record of ${via} predates listed commits (version 1), so no commit of its ancestor ${vid} is readable through it: grant ${vid} to this reader, or fork ${vid} again (a new fork's record lists the commits it names)`;
    }
    const listed = fork.inlineCommits[vid] ?? [];
    if (listed.includes(lsn)) return undefined;
    if (listed.length === 0) {
      return `the fork record of ${via} names none of the commits of its ancestor ${vid}, so no commit of ${vid} is readable through it: grant ${vid} to this reader, or have ${vid} push with inlineMaxBytes: 0 (its pages then live in segments, readable through the fork) and fork it again`;
    }
    return `the fork record of ${via} lets its readers read only the commits ${lsnList(listed)} of its ancestor ${vid}, not LSN ${lsn}`;
  };
  // A new fork record's commits of an ancestor: ones the creator may read now, directly (they exist)
  // or through another of its ancestors (each listed in that one's record).
  const listedRefusal = async (ancestor: VolumeId, lsns: readonly LSN[], others: readonly VolumeId[]): Promise<string | undefined> => {
    if (await covers(ancestor)) {
      const missing = await firstMissing(directory, ancestor, lsns);
      return missing === undefined ? undefined : `the log of ${ancestor} holds no commit at LSN ${missing}; name a commit that exists`;
    }
    let seen: string | undefined;
    for (const through of others) {
      const allowed = through === ancestor ? undefined : (await forkThrough(through, ancestor))?.inlineCommits?.[ancestor];
      if (!allowed) continue;
      const readable = new Set(allowed);
      const extra = lsns.find((lsn) => !readable.has(lsn));
      if (extra === undefined) return undefined;
      seen ??= `the fork lists LSN ${extra} of ${ancestor}, which is not granted; through ${through} only its commits ${lsnList(allowed)} are readable`;
    }
    return seen ?? `the fork lists commits of ${ancestor}, which is not granted, and no fork record of its other ancestors lists any of its commits: grant ${ancestor} to the caller`;
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
      // somebody else's data, which would hand it to every holder of this name. A fork record alone
      // (a fork's first push that failed after writing it) is data too: it reaches the ancestors.
      if (await covers(op.vid)) return undefined;
      if (!(await directory.isUnused(op.vid))) return `volume ${op.vid} already has commits and is not granted`;
      return (await directory.forkOf(op.vid)) === undefined ? undefined : `volume ${op.vid} has a fork record (it is a fork of other volumes) and is not granted: point the name at a fresh volume id`;
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
      const lsns = op.inlineCommits?.[ancestor] ?? [];
      const why = lsns.length === 0 ? undefined : await listedRefusal(ancestor, lsns, op.ancestors);
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

/** At most 8 LSNs, for an error message. */
function lsnList(lsns: readonly LSN[]): string {
  return lsns.length <= 8 ? lsns.join(', ') : `${lsns.slice(0, 8).join(', ')} and ${lsns.length - 8} more`;
}

/** The first of `lsns` whose commit the volume's log lacks, asked 16 at a time. */
async function firstMissing(directory: NameDirectory, vid: VolumeId, lsns: readonly LSN[]): Promise<LSN | undefined> {
  for (let i = 0; i < lsns.length; i += 16) {
    const batch = lsns.slice(i, i + 16);
    const held = await Promise.all(batch.map((lsn) => directory.hasCommit(vid, lsn)));
    const missing = batch.find((_, j) => !held[j]);
    if (missing !== undefined) return missing;
  }
  return undefined;
}

async function namedVolumes(grant: Grant, directory: NameDirectory): Promise<'*' | ReadonlySet<VolumeId>> {
  if (grant.volumes === '*' || !grant.names || grant.names.size === 0) return grant.volumes;
  const targets = await Promise.all([...grant.names].map((name) => directory.volumeOf(name)));
  return new Set([...grant.volumes, ...targets.filter((v): v is VolumeId => v !== undefined)]);
}
