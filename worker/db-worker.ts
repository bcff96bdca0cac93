// The DB worker entry: a dedicated module worker that runs SQLite on Scion volumes. The page talks to
// it through src/client (comlink); configuration arrives in the first call, init().
import { getLogger } from '@logtape/logtape';
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import * as Comlink from 'comlink';
import { WorkerApi } from './api.ts';

// sqlite-wasm warns on the console about every failed statement; those failures reach the app as typed
// errors already, so its messages go to the logger (silent unless the app configures LogTape).
const sqliteLogger = getLogger(['scion', 'sqlite']);
(globalThis as { sqlite3ApiConfig?: object }).sqlite3ApiConfig = {
  warn: (...args: unknown[]) => sqliteLogger.debug(args.map(String).join(' ')),
};

Comlink.expose(new WorkerApi({ loadSqlite: () => sqlite3InitModule() }));
