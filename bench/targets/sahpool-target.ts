// Peer: sqlite-wasm's `opfs-sahpool` VFS (a pool of pre-opened OPFS sync access handles). The reference for
// the local rows runs with SQLite's defaults (rollback journal in the pool, synchronous=FULL, normal locking),
// as an app gets it. An opt-in variant takes the exclusive lock once per connection: sahpool serves one
// connection anyway, and it skips the per-statement lock and cache-validation I/O.
import type { SAHPoolUtil } from '@sqlite.org/sqlite-wasm';
import { opfsDirectoryBytes, type Db, type TargetFactory } from './target.ts';

const VFS_NAME = 'bench-sahpool';
/** Its own OPFS directory, so a run never touches another test's pool. */
const DIRECTORY = '.bench-sahpool';

function createSahpool(name: string, pragmas: string): TargetFactory {
  return (sqlite3) => {
    let pool: SAHPoolUtil | undefined;
    // Installing opens every handle in the pool: part of what "open" costs, so it happens inside the timed calls.
    const installPool = async (): Promise<SAHPoolUtil> => {
      pool ??= await sqlite3.installOpfsSAHPoolVfs({ name: VFS_NAME, directory: DIRECTORY });
      performance.mark('pool installed');
      return pool;
    };
    const path = (dbName: string): string => `/${dbName}`;
    const configure = (db: Db): Db => {
      if (pragmas) db.exec(pragmas);
      performance.mark('db opened');
      return db;
    };
    return {
      name,
      async open(dbName) {
        const p = await installPool();
        p.unlink(path(dbName)); // a new, empty database: drop the one an earlier run left
        p.unlink(`${path(dbName)}-journal`);
        return configure(new p.OpfsSAHPoolDb(path(dbName)));
      },
      async prepareExisting(dbName, bytes) {
        await (await installPool()).importDb(path(dbName), bytes);
      },
      existingBytes: () => opfsDirectoryBytes(DIRECTORY),
      async openExisting(dbName) {
        const p = await installPool();
        if (!p.getFileNames().includes(path(dbName))) throw new Error(`${name}: ${dbName} was not imported`);
        return configure(new p.OpfsSAHPoolDb(path(dbName)));
      },
      async openKept(dbName, fresh) {
        const p = await installPool();
        if (fresh) {
          p.unlink(path(dbName));
          p.unlink(`${path(dbName)}-journal`);
        }
        return configure(new p.OpfsSAHPoolDb(path(dbName)));
      },
      keptBytes: () => opfsDirectoryBytes(DIRECTORY),
      async dispose() {
        // Releases the access handles now; a terminated worker would release them only eventually.
        if (pool && !pool.isPaused()) pool.pauseVfs();
      },
      async cleanup() {
        await (await installPool()).removeVfs();
        pool = undefined;
      },
    };
  };
}

export const createSahpoolTarget = createSahpool('opfs-sahpool', '');
export const createSahpoolExclusiveTarget = createSahpool('opfs-sahpool, locking_mode=EXCLUSIVE', 'PRAGMA locking_mode = EXCLUSIVE;');
