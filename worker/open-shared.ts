// Opening a database shared by name: the bucket's `names/{name}` object says which remote volume
// the database of that name is, so devices pass names around instead of volume ids.
import { isScionError, ScionError, type Graft, type SharedName, type Tag } from '../src/core/index.ts';
import type { Runtime } from '../src/runtime/index.ts';

/**
 * Makes `tag` the local database of the shared name `name` and returns the graft when it was just
 * cloned (its hot frames are worth fetching), else undefined.
 * - A new local database claims the name for a fresh volume, or clones the volume the name already
 *   points at (an empty graft on it when nobody pushed yet). With `create: false` a name nobody
 *   created is TagNotFound. This needs the network; offline it fails with RemoteUnavailable.
 * - An existing one must be on the volume the name points at (GraftRemoteMismatch otherwise); if the
 *   name is free, it is created pointing at this database's remote volume (publishing it). Offline,
 *   an existing database opens as it is and is checked at its next open online.
 */
export async function openShared(runtime: Runtime, tag: Tag, name: SharedName, options: { create?: boolean | undefined }): Promise<Graft | undefined> {
  const existing = runtime.tagGet(tag);
  if (existing) {
    const graft = runtime.mustGetGraft(existing);
    let target;
    try {
      target = await runtime.remoteNameClaim(name, graft.remote);
    } catch (e) {
      if (isScionError(e, 'RemoteUnavailable')) return undefined;
      throw e;
    }
    if (target !== graft.remote) {
      throw new ScionError(
        'GraftRemoteMismatch',
        `The local database "${tag}" is on remote volume ${graft.remote}, but the shared name "${name}" points at volume ${target}. ` +
          'Open it without { shared }, or keep its changes with fork({ name }), delete it (scion.delete) and open the shared one again.',
        { name: tag, expected: target, actual: graft.remote },
      );
    }
    return undefined;
  }
  const target = options.create === false ? await runtime.remoteNameGet(name) : await runtime.remoteNameClaim(name);
  if (!target) throw new ScionError('TagNotFound', `No database is shared as "${name}" in the bucket. Open it with { shared: true, create: true } to create it.`, { tag: name });
  const graft = await runtime.graftClone(target, { tag, allowEmpty: true });
  return runtime.graftSnapshot(graft.local).pageCount > 0 ? graft : undefined;
}
