// Peers for the speed suite only (bench/speed-suite.ts): wa-sqlite's OPFS and IndexedDB VFSes from the published
// `wa-sqlite` npm package (1.0.0: AccessHandlePoolVFS on the synchronous build, IDBBatchAtomicVFS on the
// Asyncify build; OPFSCoopSyncVFS is not in a published release). wa-sqlite ships its own SQLite build, so these
// targets run scripts through its API (`openScript`), not sqlite-wasm's oo1. Each open starts from an empty store.
import * as SQLite from 'wa-sqlite';
import SQLiteAsyncESMFactory from 'wa-sqlite/dist/wa-sqlite-async.mjs';
import SQLiteESMFactory from 'wa-sqlite/dist/wa-sqlite.mjs';
import { AccessHandlePoolVFS } from 'wa-sqlite/src/examples/AccessHandlePoolVFS.js';
import { IDBBatchAtomicVFS } from 'wa-sqlite/src/examples/IDBBatchAtomicVFS.js';
import type { ScriptDb } from '../speed-suite.ts';
import { deleteIdb, removeEntry } from './browser-storage.ts';
import type { TargetFactory } from './target.ts';

const AHP_DIRECTORY = 'bench-wa-ahp';
const IDB_NAME = 'bench-wa-idb';

interface WaVfs {
  readonly name: string;
  close?(): Promise<void>;
}

function createWaSqlite(name: string, make: () => Promise<{ module: unknown; vfs: WaVfs }>, wipe: () => Promise<void>): TargetFactory {
  return () => {
    let vfs: WaVfs | undefined;
    return {
      name,
      async openScript(dbName): Promise<ScriptDb> {
        await wipe();
        const made = await make();
        vfs = made.vfs;
        const sqlite3 = SQLite.Factory(made.module);
        sqlite3.vfs_register(made.vfs as never, false);
        const db = await sqlite3.open_v2(dbName, SQLite.SQLITE_OPEN_CREATE | SQLite.SQLITE_OPEN_READWRITE, made.vfs.name);
        return {
          exec: async (sql) => {
            await sqlite3.exec(db, sql);
          },
          count: async (table) => {
            let n = -1;
            await sqlite3.exec(db, `SELECT count(*) FROM ${table}`, (row) => {
              n = Number(row[0]);
            });
            return n;
          },
          close: async () => {
            await sqlite3.close(db);
          },
        };
      },
      async dispose() {
        await vfs?.close?.();
        vfs = undefined;
      },
      cleanup: wipe,
    };
  };
}

export const createWaAccessHandlePoolTarget = createWaSqlite(
  'wa-sqlite AccessHandlePoolVFS',
  async () => {
    const vfs = new AccessHandlePoolVFS(`/${AHP_DIRECTORY}`);
    await vfs.isReady;
    return { module: await SQLiteESMFactory(), vfs };
  },
  () => removeEntry(AHP_DIRECTORY),
);

export const createWaIdbBatchAtomicTarget = createWaSqlite(
  'wa-sqlite IDBBatchAtomicVFS',
  async () => ({ module: await SQLiteAsyncESMFactory(), vfs: new IDBBatchAtomicVFS(IDB_NAME) }),
  () => deleteIdb(IDB_NAME),
);
