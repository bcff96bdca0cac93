// The page-miss read path stays short: the files on the stack when a SELECT on a cold clone sends its
// ranged GET, from the worker's SQL down to the remote (README "Developing" lists the whole way).
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { expect, it } from 'vitest';
import type { SegmentAddress } from '../src/core/index.ts';
import { MemoryRemote, type ByteRange } from '../src/remote/index.ts';
import { WorkerApi } from './api.ts';
import { BrowserNetwork } from './network.ts';
import { value } from './testing.ts';

/** The bucket, noting the stack of the first blocking range read once armed. */
class StackNotingRemote extends MemoryRemote {
  armed = false;
  stack: string | undefined;

  override getSegmentRangeSync(at: SegmentAddress, range: ByteRange): Uint8Array {
    if (this.armed && this.stack === undefined) {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 200;
      this.stack = new Error().stack;
      Error.stackTraceLimit = limit;
    }
    return super.getSegmentRangeSync(at, range);
  }
}

/** The repository files in a stack trace, innermost last, a file called from itself counted once. */
function filesOf(stack: string): string[] {
  const files: string[] = [];
  for (const line of stack.split('\n').reverse()) {
    const file = /(?:^|[(\s])(?:file:\/\/)?\/[^()\s]*?\/((?:src|worker)\/[^():\s]+\.ts):\d+:\d+\)?$/.exec(line.trim())?.[1];
    if (file && !file.endsWith('.test.ts') && files.at(-1) !== file) files.push(file);
  }
  return files;
}

it('a SELECT that misses a page reaches the remote through eight files of the worker', async () => {
  const sqlite3 = await sqlite3InitModule();
  const bucket = new StackNotingRemote();
  const device = async (vfsName: string) => {
    const api = new WorkerApi({ loadSqlite: async () => sqlite3, makeRemote: () => bucket, network: new BrowserNetwork({}), vfsName });
    value(await api.init({ storage: 'memory' }));
    return api;
  };
  const a = await device('read-path-a');
  const da = value(await a.open('t'));
  value(await a.exec(da.handle, "CREATE TABLE x(id INTEGER PRIMARY KEY, body TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500) INSERT INTO x SELECT i, printf('%.200c', 'x') FROM n"));
  value(await a.push(da.handle));
  const b = await device('read-path-b');
  const db = value(await b.open('t', { clone: value(await a.status(da.handle)).remote }));
  bucket.armed = true;
  expect(value(await b.query(db.handle, 'SELECT id FROM x WHERE id = 1234'))).toEqual([{ id: 1234 }]);
  // From the last await on (worker/api.ts is above it; in the browser, s3-remote.ts and presign-client.ts below): the database's lock, then SQL, SQLite's xRead, the page read, the remote's wrappers.
  expect(filesOf(bucket.stack ?? '')).toEqual([
    'worker/keyed-lock.ts', 'worker/session.ts', 'src/vfs/facade-vfs.ts', 'worker/session.ts', 'worker/statements.ts', 'src/vfs/facade-vfs.ts',
    'src/vfs/volume-file.ts', 'src/runtime/volume-reader.ts', 'src/runtime/counting-remote.ts', 'worker/offline-remote.ts',
  ]);
});
