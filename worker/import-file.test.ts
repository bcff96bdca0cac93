// Import in bounded memory: a file is staged in steps, checked by SQLite through the Scion VFS, and
// committed only then; whatever fails (a damaged file, a close or a crash midway) commits nothing and
// leaves no staged pages behind.
import sqlite3InitModule, { type Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { isScionError, PAGE_SIZE, type ErrorCode, type VolumeId } from '../src/core/index.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../src/local/index.ts';
import { Runtime } from '../src/runtime/index.ts';
import { installScionVfs, openScionDb } from '../src/vfs/index.ts';
import { importSqliteFile, type ImportStep } from './import-file.ts';

let sqlite3: Sqlite3Static;
beforeAll(async () => {
  sqlite3 = await sqlite3InitModule();
});

let vfsCount = 0;
/** A runtime + VFS on `dir` with a database "main" holding the table `old` (one row), unless it exists already. */
async function device(dir = new MemoryDirectory(), catalog = new MemoryCatalog()) {
  const store = MemoryStore.open(dir);
  const runtime = await Runtime.open({ store, catalog });
  const vfs = installScionVfs(sqlite3, runtime, { name: `import-test-${++vfsCount}` });
  const fresh = !runtime.tagGet('main');
  const vid = (await runtime.tagOpen('main')).local;
  const db = openScionDb(sqlite3, vfs, 'main');
  if (fresh) db.exec('CREATE TABLE old(x); INSERT INTO old VALUES (1)');
  const rows = (sql: string) => db.exec({ sql, rowMode: 'object', returnValue: 'resultRows' });
  const run = (input: Parameters<typeof importSqliteFile>[2], between: ImportStep = async () => undefined, stepPages = 64, isAborted?: () => boolean) =>
    importSqliteFile({ sqlite3, vfs, runtime }, vid, input, { between, stepPages, isAborted });
  return { dir, catalog, store, runtime, vid, db, rows, run };
}

/**
 * A plain SQLite file of 4096-byte pages: table t with `n` rows of 200 bytes (about 20 per page). `notNull`: a
 * NOT NULL body, which makes quick_check read every row (a long check).
 */
function sqliteFile(n: number, notNull = false): Uint8Array<ArrayBuffer> {
  const db = new sqlite3.oo1.DB(':memory:');
  db.exec(`PRAGMA page_size=4096; VACUUM; CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT${notNull ? ' NOT NULL' : ''})`);
  db.exec(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${n}) INSERT INTO t SELECT i, printf('%0200d', i) FROM c`);
  const bytes = sqlite3.capi.sqlite3_js_db_export(db);
  db.close();
  return new Uint8Array(bytes);
}

/** A Blob that records the length of every slice read from it. */
class CountingBlob extends Blob {
  readonly reads: number[];
  constructor(parts: BlobPart[], reads: number[] = []) {
    super(parts);
    this.reads = reads;
  }
  override slice(start?: number, end?: number): Blob {
    const part = super.slice(start, end);
    this.reads.push(part.size);
    return part;
  }
}

async function rejection(p: Promise<unknown>, code: ErrorCode): Promise<Error> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(isScionError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
  return e as Error;
}

/** Only the database's own volume is held, in exactly `slots` slots: no staged pages are left. */
function expectNothingStaged(store: { volumesSync(): VolumeId[]; statsSync(): { slots: number } }, vid: VolumeId, slots: number): void {
  expect(store.volumesSync()).toEqual([vid]);
  expect(store.statsSync().slots).toBe(slots);
}

describe('importSqliteFile', () => {
  it('streams a Blob into the store a step at a time (no read larger than a step) and commits the file\'s rows', async () => {
    const d = await device();
    const file = sqliteFile(3000);
    const blob = new CountingBlob([file]);
    const progress: number[] = [];
    const slotsBefore = d.store.statsSync().slots;
    const result = await d.run(blob, async (done) => void progress.push(done), 64);
    const pages = file.byteLength / PAGE_SIZE;
    expect(pages).toBeGreaterThan(2 * 64);
    expect(result).toMatchObject({ pages, sourcePageSize: 4096, lsn: 3 });
    expect(Math.max(...blob.reads)).toBe(64 * PAGE_SIZE);
    expect(progress).toEqual(Array.from({ length: Math.ceil(pages / 64) }, (_, i) => Math.min(pages, (i + 1) * 64)));
    expect(d.rows('SELECT count(*) AS n, sum(length(body)) AS bytes FROM t')).toEqual([{ n: 3000, bytes: 600_000 }]);
    expect(d.rows('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    // The commit refers to the staged pages: each is stored once, and the staging volume is gone.
    expect(d.store.volumesSync()).toEqual([d.vid]);
    expect(d.store.statsSync().slots).toBe(slotsBefore + pages);
    // An ArrayBuffer works as well, and writes go on after an import.
    expect(await d.run(sqliteFile(10).buffer)).toMatchObject({ lsn: 4 });
    d.db.exec("INSERT INTO t(body) VALUES ('after')");
    expect(d.rows('SELECT count(*) AS n FROM t')).toEqual([{ n: 11 }]);
  });

  it('refuses a file whose B-tree is damaged with InvalidInput: the database is as it was and no staged page is left, before and after a reopen', async () => {
    const d = await device();
    const file = sqliteFile(3000);
    const probe = new sqlite3.oo1.DB(':memory:');
    const root = (() => {
      const p = sqlite3.wasm.allocFromTypedArray(file.slice());
      sqlite3.capi.sqlite3_deserialize(probe, 'main', p, file.byteLength, file.byteLength, sqlite3.capi.SQLITE_DESERIALIZE_FREEONCLOSE);
      return Number(probe.selectValue("SELECT rootpage FROM sqlite_schema WHERE name = 't'"));
    })();
    probe.close();
    // The header and the length stay right: only SQLite's own check can tell.
    file[(root - 1) * PAGE_SIZE] = 0x07; // not a B-tree page type
    const slots = d.store.statsSync().slots;
    const err = await rejection(d.run(new Blob([file])), 'InvalidInput');
    expect(err.message).toMatch(/Not a valid SQLite database/);
    expect(d.rows('SELECT x FROM old')).toEqual([{ x: 1 }]);
    expect(d.runtime.graftStatus(d.vid).localLsn).toBe(2);
    expectNothingStaged(d.store, d.vid, slots);
    d.db.close();
    d.runtime.close();
    const again = await device(d.dir, d.catalog);
    expectNothingStaged(again.store, again.vid, slots);
    expect(again.rows('SELECT x FROM old')).toEqual([{ x: 1 }]);
  });

  it('a runtime closed midway (the worker ended) committed nothing; a crash midway leaves staged pages that the next open drops', async () => {
    const d = await device();
    const slots = d.store.statsSync().slots;
    let crashed: MemoryDirectory | undefined;
    const err = await d.run(new Blob([sqliteFile(3000)]), async (done) => {
      if (done < 128) return;
      // The bytes as a crash would leave them: two steps staged.
      crashed = d.dir.copy();
      d.db.close();
      d.runtime.close();
    }).then(() => undefined, (e: unknown) => e);
    expect(isScionError(err, 'Closed'), String(err)).toBe(true);
    if (!crashed) throw new Error('BUG: the import never reached its second step');
    expect(MemoryStore.open(crashed.copy()).volumesSync()).toHaveLength(2); // the staging volume is there…

    for (const dir of [crashed, d.dir]) {
      const again = await device(dir, d.catalog);
      expectNothingStaged(again.store, again.vid, slots); // …and gone after the open
      expect(again.rows('SELECT x FROM old')).toEqual([{ x: 1 }]);
      expect(again.runtime.graftStatus(again.vid).localLsn).toBe(2);
      again.db.close();
      again.runtime.close();
    }
  });

  it('an abort during the integrity check stops it partway with Interrupted: nothing committed, no staged page left', async () => {
    const file = sqliteFile(20_000, true);
    // The whole check asks many times whether it was aborted…
    const full = await device();
    let asked = 0;
    await full.run(file, undefined, 64, () => (asked++, false));
    expect(asked).toBeGreaterThan(5);
    // …an aborted one stops at the first answer.
    const d = await device();
    const slots = d.store.statsSync().slots;
    let askedAborted = 0;
    await rejection(d.run(file, undefined, 64, () => (askedAborted++, true)), 'Interrupted');
    expect(askedAborted).toBe(1);
    expect(d.rows('SELECT x FROM old')).toEqual([{ x: 1 }]);
    expect(d.runtime.graftStatus(d.vid).localLsn).toBe(2);
    expectNothingStaged(d.store, d.vid, slots);
  });

  it('a commit to the database during the import fails it with ConcurrentWrite, keeping that commit and nothing staged', async () => {
    const d = await device();
    const slots = d.store.statsSync().slots;
    let wrote = false;
    await rejection(d.run(new Blob([sqliteFile(3000)]), async () => {
      if (wrote) return;
      wrote = true;
      d.db.exec('INSERT INTO old VALUES (2)');
    }), 'ConcurrentWrite');
    expect(d.rows('SELECT x FROM old')).toEqual([{ x: 1 }, { x: 2 }]);
    expect(d.store.volumesSync()).toEqual([d.vid]);
    expect(d.store.statsSync().slots).toBeLessThanOrEqual(slots + 2);
  });
});
