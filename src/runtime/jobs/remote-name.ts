import { assert, RemoteName, type SharedName, type VolumeId } from '../../core/index.ts';
import type { Remote, RequestOptions } from '../../remote/index.ts';

/** The volume `name` points at in the bucket, or undefined if nobody created the name. Corrupt for a damaged object. */
export async function getRemoteName(remote: Remote, name: SharedName, options?: RequestOptions): Promise<VolumeId | undefined> {
  const bytes = await remote.getName(name, options);
  return bytes && RemoteName.decode(bytes, name).vid;
}

/**
 * Points `name` at `vid` unless the name exists: then it keeps pointing where it does (the bucket's
 * create-only PUT decides between devices claiming it at once). Returns the volume the name points at
 * now. Safe to retry after a lost answer: the retry reads the name it created.
 */
export async function claimRemoteName(remote: Remote, name: SharedName, vid: VolumeId, options?: RequestOptions): Promise<VolumeId> {
  const existing = await getRemoteName(remote, name, options);
  if (existing) return existing;
  if ((await remote.putName(name, vid, RemoteName.encode({ name, vid }), options)) === 'created') return vid;
  const winner = await getRemoteName(remote, name, options);
  // A name is never deleted, so one that was there a moment ago is there now.
  assert(winner, `the shared name ${name} existed at its create-only PUT and is gone`);
  return winner;
}
