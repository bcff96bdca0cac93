// Deleting databases and the grafts they left behind, with their local data. A graft still in use (an
// open connection, a checkout pinned to its snapshot) is never deleted.
import { ScionError, Tag, type VolumeId } from '../src/core/index.ts';
import type { DeleteResult } from '../src/protocol/index.ts';
import type { Session } from './session.ts';

/** Volumes that open connections read: their databases' grafts and the volumes their checkouts pin. */
function volumesInUse(session: Session): Set<VolumeId> {
  const used = new Set<VolumeId>();
  for (const { tag, graft } of session.runtime.tagList()) {
    for (const handle of session.handlesOf(tag)) {
      used.add(graft);
      for (const range of session.mustGetConnection(handle).checkout?.snapshot.path ?? []) used.add(range.vid);
    }
  }
  return used;
}

/**
 * Deletes database `name`: its graft, every name pointing at that graft, and the local data (the
 * remote is never touched). Throws TagNotFound, or InvalidInput while a connection on it is open.
 */
export async function deleteDatabase(session: Session, name: string): Promise<DeleteResult> {
  const tag = Tag.parse(name);
  const vid = session.runtime.mustGetTag(tag);
  const open = session.handlesOf(tag).length;
  if (open > 0 || volumesInUse(session).has(vid)) {
    throw new ScionError('InvalidInput', `Database "${tag}" has ${open} open connection(s) (or a checkout of it is open). Close them, then delete it.`, { name: tag, open });
  }
  await session.runtime.graftDelete(vid);
  return { grafts: 1 };
}

/**
 * Deletes every graft no database name points at and no open connection uses: what a reset or a
 * clone leaves behind (the old graft, and with it any changes it never pushed).
 */
export async function deleteAbandoned(session: Session): Promise<DeleteResult> {
  const named = new Set(session.runtime.tagList().map((t) => t.graft));
  const used = volumesInUse(session);
  let grafts = 0;
  for (const graft of session.runtime.graftList()) {
    if (named.has(graft.local) || used.has(graft.local)) continue;
    await session.runtime.graftDelete(graft.local);
    grafts++;
  }
  return { grafts };
}
