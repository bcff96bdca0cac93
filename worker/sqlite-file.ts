// Plain SQLite files in and out of volumes: import rewrites other page sizes to 4096, export reads
// the pages of one snapshot as they are stored.
import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { Page, PAGE_SIZE, PageCount, PageIdx, ScionError, Snapshot, type VolumeId } from '../src/core/index.ts';
import type { Runtime } from '../src/runtime/index.ts';
import { toScionError } from '../src/vfs/index.ts';

const MAGIC = new TextEncoder().encode('SQLite format 3\0');
/** Scratch file for conversions, in sqlite-wasm's in-memory POSIX file system (the `unix-none` VFS). */
const SCRATCH = '/scion-import.sqlite3';

/** Bytes of a plain SQLite database, with every page 4096 bytes long. */
export interface NormalizedFile {
  bytes: Uint8Array;
  sourcePageSize: number;
}

/**
 * Checks the header of a `size`-byte file whose first bytes are `head` (at least 100 of them if the
 * file has them): InvalidInput unless it is a SQLite database whose header's page count agrees with
 * its length.
 */
export function checkHeader(head: Uint8Array, size: number): number {
  if (size < 100 || head.byteLength < 100 || MAGIC.some((b, i) => head[i] !== b)) {
    throw new ScionError('InvalidInput', `Not a SQLite database file: it does not start with the "SQLite format 3" header (${size} bytes).`, { bytes: size });
  }
  const raw = ((head[16] as number) << 8) | (head[17] as number);
  const sourcePageSize = raw === 1 ? 65536 : raw;
  if (sourcePageSize < 512 || (sourcePageSize & (sourcePageSize - 1)) !== 0) {
    throw new ScionError('InvalidInput', `Not a SQLite database file: its header names page size ${raw}.`, { pageSize: raw });
  }
  checkHeaderSize(head, size, sourcePageSize);
  return sourcePageSize;
}

/** A WAL-mode header: its content is what the file holds (a -wal file never comes along), so open it as rollback. */
export function clearWalMode(page1: Uint8Array): void {
  if (page1[18] === 2 || page1[19] === 2) page1.set([1, 1], 18);
}

/**
 * Checks that `bytes` is a SQLite database (InvalidInput otherwise, naming what is wrong) and returns
 * it with 4096-byte pages and a rollback-journal header: another page size or a length that is not
 * whole 4096-byte pages is rewritten by SQLite itself (`PRAGMA page_size=4096; VACUUM` on a scratch
 * copy in its wasm heap, after `quick_check`).
 */
export function normalizeSqliteFile(sqlite3: Sqlite3Static, input: Uint8Array): NormalizedFile {
  if (!(input instanceof Uint8Array)) throw new ScionError('InvalidInput', 'import() takes the file as a Uint8Array, an ArrayBuffer or a Blob.');
  const sourcePageSize = checkHeader(input, input.byteLength);
  // The worker owns `input` (it came by postMessage), so it is used as is: no second copy of a large file.
  const bytes = input;
  clearWalMode(bytes);

  const { capi, oo1 } = sqlite3;
  capi.sqlite3_js_posix_create_file(SCRATCH, bytes);
  let db: InstanceType<typeof oo1.DB> | undefined;
  try {
    db = new oo1.DB({ filename: SCRATCH, flags: 'w', vfs: 'unix-none' });
    const check = String(db.selectValue('PRAGMA quick_check'));
    if (check !== 'ok') throw new ScionError('InvalidInput', `Not a valid SQLite database: quick_check reports "${check}".`);
    if (sourcePageSize === PAGE_SIZE && bytes.byteLength % PAGE_SIZE === 0) return { bytes, sourcePageSize };
    db.exec('PRAGMA journal_mode=MEMORY; PRAGMA page_size=4096; VACUUM');
    const out = capi.sqlite3_js_db_export(db);
    if (out.byteLength % PAGE_SIZE !== 0 || Number(db.selectValue('PRAGMA page_size')) !== PAGE_SIZE) {
      throw new ScionError('Internal', `BUG: rewriting a ${sourcePageSize}-byte-page file gave ${out.byteLength} bytes`);
    }
    return { bytes: out, sourcePageSize };
  } catch (e) {
    throw asInvalidFile(toScionError(sqlite3, e), e);
  } finally {
    db?.close();
    capi.sqlite3_js_posix_create_file(SCRATCH, new Uint8Array(0));
  }
}

/** SQLite's verdict on a damaged file (Corrupt, or any SQLite error) is bad input; other failures stay as they are. */
export function asInvalidFile(err: ScionError, cause: unknown): ScionError {
  if (err.code === 'InvalidInput' && err.message.startsWith('Not a valid SQLite database')) return err;
  if (err.code === 'Corrupt' || err.details?.sqlite !== undefined) {
    return new ScionError('InvalidInput', `Not a valid SQLite database: ${err.message}`, err.details, { cause });
  }
  return err;
}

/**
 * The header's own page count (bytes 28..31, valid when the change counter at 24 equals the one at
 * 92, as SQLite decides) must match the file's length: a truncated or padded file is refused here
 * rather than stored and then failing every query with Corrupt.
 */
function checkHeaderSize(head: Uint8Array, size: number, pageSize: number): void {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const pages = view.getUint32(28, false);
  const valid = pages > 0 && view.getUint32(24, false) === view.getUint32(92, false);
  if (valid && pages * pageSize !== size) {
    throw new ScionError('InvalidInput', `Not a whole SQLite database file: its header says ${pages} pages of ${pageSize} bytes (${pages * pageSize} bytes), but the file is ${size} bytes (truncated or padded). Export it again from SQLite, e.g. with VACUUM INTO.`, {
      headerPages: pages, pageSize, bytes: size,
    });
  }
}

/** Replaces the graft's content with `file` as one local commit; returns its LSN. Throws ConcurrentWrite. */
export function writeSqliteFile(runtime: Runtime, vid: VolumeId, file: Uint8Array): number {
  const write = startFileWrite(runtime, vid, file);
  write.pages(0, write.total);
  return write.commit();
}

/** Pages between two calls of a step callback (16 MiB). */
const STEP_PAGES = 4096;
type Step = (done: number, total: number) => Promise<void>;

function startFileWrite(runtime: Runtime, vid: VolumeId, file: Uint8Array) {
  const writer = runtime.graftWriter(vid);
  keepSchemaCookieApart(writer.pageCount > 0 ? writer.readPage(PageIdx.FIRST) : undefined, file);
  const total = file.byteLength / PAGE_SIZE;
  return {
    total,
    /** Pages [from, to), 0-based; views of the file, not copies: the file is the import's only copy of its pages until the store holds them. */
    pages(from: number, to: number): void {
      for (let i = from; i < to; i++) writer.adoptPage(PageIdx.parse(i + 1), Page.from(file.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)));
    },
    commit(): number {
      writer.softTruncate(PageCount.parse(total));
      return Snapshot.head(writer.commit().snapshot)?.lsn ?? 0;
    },
  };
}

/**
 * SQLite reloads a connection's schema only when the schema cookie (header bytes 40..43) changed. An
 * imported file is not a successor of the content it replaces, so its cookie may equal the old one
 * while its tables differ: then the cookie is moved one past the old one (SQLite bumps it on every
 * schema change anyway).
 */
export function keepSchemaCookieApart(oldPage1: Uint8Array | undefined, file: Uint8Array): void {
  if (!oldPage1) return;
  const cookie = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(40, false);
  const old = cookie(oldPage1);
  if (cookie(file) === old) new DataView(file.buffer, file.byteOffset, file.byteLength).setUint32(40, (old + 1) >>> 0, false);
}

/**
 * The snapshot's pages as one plain SQLite file, calling `between(done, total)` after every STEP_PAGES
 * pages (an error it throws ends the read). Pages not held locally are fetched one frame at a time
 * (hydrate first).
 */
export async function readSqliteFileInSteps(runtime: Runtime, snapshot: Snapshot, between: Step): Promise<Uint8Array> {
  const reader = runtime.volumeReader(snapshot);
  const total = snapshot.pageCount;
  const out = new Uint8Array(total * PAGE_SIZE);
  for (let i = 1; i <= total; i++) {
    out.set(reader.readPage(PageIdx.parse(i)), (i - 1) * PAGE_SIZE);
    if (i % STEP_PAGES === 0 || i === total) await between(i, total);
  }
  return out;
}
