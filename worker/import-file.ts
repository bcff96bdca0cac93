// Import of a plain SQLite file in bounded memory: the file (bytes, or a Blob / File read a run of
// pages at a time) is written into a staging volume no graft names, SQLite checks it there through
// the Scion VFS (pages read back from the store on demand, never the whole file in its wasm heap),
// and only then does it become one commit of the database, referring to the staged pages.
import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { isScionError, PAGE_SIZE, PageIdx, ScionError, Snapshot, type VolumeId } from '../src/core/index.ts';
import type { ImportFile } from '../src/protocol/index.ts';
import type { Runtime } from '../src/runtime/index.ts';
import { openScionDb, type ScionVfs } from '../src/vfs/index.ts';
import { asInvalidFile, checkHeader, clearWalMode, keepSchemaCookieApart, normalizeSqliteFile } from './sqlite-file.ts';


export interface ImportedFile {
  /** Pages of the imported content (4096 bytes each). */
  pages: number;
  sourcePageSize: number;
  /** Local LSN of the commit that holds it. */
  lsn: number;
}

/** `between(done, total)` runs after every step; an error it throws ends the import with nothing committed. */
export type ImportStep = (done: number, total: number) => Promise<void>;

/** How an import runs: `between` steps of `stepPages`; `isAborted` (blocking) is asked during the check, which no message interrupts. */
export interface ImportSteps {
  readonly between: ImportStep;
  readonly isAborted?: (() => boolean) | undefined;
  readonly stepPages?: number | undefined;
}

/** Pages read and staged per step (8 MiB): the import's working memory, whatever the file's size. */
export const IMPORT_STEP_PAGES = 2048;

/** Bytes of a file, read by range. */
interface FileBytes {
  readonly size: number;
  read(from: number, to: number): Promise<Uint8Array>;
}

function fileBytes(input: ImportFile): FileBytes {
  if (input instanceof Uint8Array) return { size: input.byteLength, read: async (from, to) => input.subarray(from, to) };
  if (input instanceof ArrayBuffer) return fileBytes(new Uint8Array(input));
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    return { size: input.size, read: async (from, to) => new Uint8Array(await input.slice(from, to).arrayBuffer()) };
  }
  throw new ScionError('InvalidInput', 'import() takes the file as a Uint8Array, an ArrayBuffer, a Blob or a File.');
}

export interface ImportParts {
  readonly sqlite3: Sqlite3Static;
  readonly vfs: ScionVfs;
  readonly runtime: Runtime;
}

/**
 * Replaces the graft's content with the SQLite file `input` as one local commit. InvalidInput for a
 * file that is not a SQLite database, whose header's page count disagrees with its length, or that
 * fails `PRAGMA quick_check`; ConcurrentWrite if the graft changed meanwhile. Whatever fails,
 * nothing is committed and the staged pages are dropped (after a crash: at the next open).
 * A file of 4096-byte pages is streamed; another page size is rewritten by SQLite in its wasm heap
 * first (normalizeSqliteFile), so that file is held whole.
 */
export async function importSqliteFile(parts: ImportParts, vid: VolumeId, input: ImportFile, steps: ImportSteps): Promise<ImportedFile> {
  const file = fileBytes(input);
  const stepPages = steps.stepPages ?? IMPORT_STEP_PAGES;
  const sourcePageSize = checkHeader(await file.read(0, Math.min(file.size, 100)), file.size);
  if (sourcePageSize !== PAGE_SIZE || file.size % PAGE_SIZE !== 0) {
    const normalized = normalizeSqliteFile(parts.sqlite3, await file.read(0, file.size));
    const lsn = await stageAndCommit(parts, vid, fileBytes(normalized.bytes), { between: steps.between, stepPages }, () => undefined);
    return { pages: normalized.bytes.byteLength / PAGE_SIZE, sourcePageSize, lsn };
  }
  const isAborted = steps.isAborted ?? (() => false);
  const lsn = await stageAndCommit(parts, vid, file, { between: steps.between, stepPages }, (snapshot) => quickCheck(parts, snapshot, isAborted));
  return { pages: file.size / PAGE_SIZE, sourcePageSize, lsn };
}

async function stageAndCommit(parts: ImportParts, vid: VolumeId, file: FileBytes, steps: { between: ImportStep; stepPages: number }, check: (staged: Snapshot) => void): Promise<number> {
  const { runtime } = parts;
  const version = runtime.graftVersion(vid);
  const before = runtime.graftSnapshot(vid);
  const oldPage1 = before.pageCount > 0 ? runtime.readPage(before, PageIdx.FIRST) : undefined;
  const total = file.size / PAGE_SIZE;
  const staged = runtime.volumeStage();
  try {
    for (let done = 0; done < total; ) {
      const end = Math.min(total, done + steps.stepPages);
      const bytes = await file.read(done * PAGE_SIZE, end * PAGE_SIZE);
      if (bytes.byteLength !== (end - done) * PAGE_SIZE) {
        throw new ScionError('InvalidInput', `The file changed while it was imported: bytes ${done * PAGE_SIZE}..${end * PAGE_SIZE} read as ${bytes.byteLength} bytes. Nothing was imported; import it again.`);
      }
      if (done === 0) {
        clearWalMode(bytes);
        keepSchemaCookieApart(oldPage1, bytes);
      }
      staged.append(Array.from({ length: end - done }, (_, i) => bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)));
      done = end;
      await steps.between(done, total);
    }
    check(staged.snapshot);
    return Snapshot.head(runtime.graftCommitStaged(vid, version, staged))?.lsn ?? 0;
  } finally {
    staged.discard();
  }
}

/** Pages (and VM steps) of the check between two calls of its progress handler: an abort stops it within ~1,000 pages. */
const CHECK_PROGRESS_STEPS = 1000;

/**
 * SQLite's `quick_check` of the staged pages, read through the Scion VFS (its page cache is all it holds).
 * It runs in one synchronous call; its progress handler asks `isAborted` and stops it (Interrupted).
 */
function quickCheck({ sqlite3, vfs }: ImportParts, staged: Snapshot, isAborted: () => boolean): void {
  let db: ReturnType<typeof openScionDb> | undefined;
  try {
    db = openScionDb(sqlite3, vfs, '', { snapshot: staged });
    const open = db;
    sqlite3.capi.sqlite3_progress_handler(open.pointer as number, CHECK_PROGRESS_STEPS, () => (isAborted() ? 1 : 0), 0);
    const check = String(vfs.run(() => open.selectValue('PRAGMA quick_check')));
    if (check !== 'ok') throw new ScionError('InvalidInput', `Not a valid SQLite database: quick_check reports "${check}".`);
  } catch (e) {
    // SQLite's verdict on the file is bad input; a typed error of the VFS (the store) stays what it is, and so
    // does a stop by the progress handler.
    const err = ScionError.from(e);
    throw err.details?.sqlite === undefined || isScionError(err, 'Interrupted') ? err : asInvalidFile(err, e);
  } finally {
    db?.close();
  }
}
