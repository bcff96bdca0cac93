// A local store that lost acknowledged data fails to open with Corrupt naming volumes (or none, when the
// journal itself is damaged); the app thinks in database names, so the worker adds them from the catalog.
import { isScionError, ScionError, type VolumeId } from '../src/core/index.ts';
import type { Catalog } from '../src/local/index.ts';

/** `e` with the names of the databases it affects (all of the store's when it names no volume); other errors as they are. */
export async function nameDamagedDatabases(e: unknown, openCatalog: () => Promise<Catalog>): Promise<unknown> {
  if (!isScionError(e, 'Corrupt') || typeof e.details?.reason !== 'string') return e;
  let catalog: Catalog | undefined;
  try {
    catalog = await openCatalog();
    const { tags, grafts } = await catalog.load();
    const volumes = new Set(typeof e.details.volumes === 'string' ? (e.details.volumes.split(',') as VolumeId[]) : []);
    const hit = (vid: VolumeId) => {
      const g = grafts.find((x) => x.local === vid);
      return volumes.size === 0 || volumes.has(vid) || (g !== undefined && volumes.has(g.remote));
    };
    const names = [...tags].filter(([, vid]) => hit(vid)).map(([tag]) => tag).sort();
    if (names.length === 0) return e;
    const which = volumes.size === 0 ? 'Databases in this store (any may be affected)' : 'Affected databases';
    return new ScionError('Corrupt', `${e.message} ${which}: ${names.join(', ')}.`, { ...e.details, databases: names.join(',') }, { cause: e });
  } catch {
    return e; // the catalog cannot help: the store's own message stands
  } finally {
    catalog?.close();
  }
}
