// A SQLite VFS over Node's file system, for building the benchmark's datasets on disk: sqlite-wasm in Node has
// only in-memory databases, and its wasm heap stops at 2 GiB, so a 1 GB database (plus the copy VACUUM builds)
// does not fit in memory. One connection at a time, no locks; temporary files (VACUUM's) go to the OS temp dir.
import { closeSync, existsSync, fstatSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { FacadeVfs, type FacadeFile } from '../src/vfs/index.ts';

/** One open file: positioned reads and writes on its descriptor. */
class NodeFile implements FacadeFile {
  readonly #fd: number;
  readonly #deleteOnClose: string | undefined;

  constructor(fd: number, deleteOnClose: string | undefined) {
    this.#fd = fd;
    this.#deleteOnClose = deleteOnClose;
  }

  jRead(dest: Uint8Array, offset: number): number {
    let got = 0;
    while (got < dest.byteLength) {
      const n = readSync(this.#fd, dest, got, dest.byteLength - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got;
  }

  jWrite(src: Uint8Array, offset: number): void {
    for (let done = 0; done < src.byteLength; ) done += writeSync(this.#fd, src, done, src.byteLength - done, offset + done);
  }

  jTruncate(bytes: number): void {
    ftruncateSync(this.#fd, bytes);
  }

  jFileSize(): number {
    return fstatSync(this.#fd).size;
  }

  jClose(): void {
    closeSync(this.#fd);
    if (this.#deleteOnClose) unlinkSync(this.#deleteOnClose);
  }
}

/** The VFS: xOpen's name is a file path. Blocking; no durability calls (the caller renames the finished file). */
class NodeFileVfs extends FacadeVfs {
  readonly #tempDir: string;
  #temps = 0;

  constructor(sqlite3: Sqlite3Static, name: string) {
    super(sqlite3, name, { maxPathname: 1024 });
    this.#tempDir = mkdtempSync(join(tmpdir(), 'scion-dataset-'));
    this.install();
  }

  protected jOpen(path: string | undefined, flags: number): { file: FacadeFile; flags: number } {
    const { capi } = this.sqlite3;
    const temp = path === undefined || (flags & capi.SQLITE_OPEN_DELETEONCLOSE) !== 0;
    const filePath = path ?? join(this.#tempDir, `temp-${++this.#temps}`);
    const mode = existsSync(filePath) ? 'r+' : flags & capi.SQLITE_OPEN_CREATE ? 'w+' : undefined;
    if (!mode) throw new Error(`No such database file: ${filePath}`);
    return { file: new NodeFile(openSync(filePath, mode), temp ? filePath : undefined), flags };
  }

  protected override jDelete(path: string): void {
    if (existsSync(path)) unlinkSync(path);
  }

  protected override jAccess(path: string): boolean {
    return existsSync(path);
  }

  /** Removes the temporary directory (empty once every temporary file closed). */
  dispose(): void {
    rmSync(this.#tempDir, { recursive: true, force: true });
  }
}

/** Registers a VFS named `name`; open a database on it with `new sqlite3.oo1.DB({ filename: path, flags: 'c', vfs: name })`. */
export function installNodeFileVfs(sqlite3: Sqlite3Static, name: string): { name: string; dispose(): void } {
  return new NodeFileVfs(sqlite3, name);
}
