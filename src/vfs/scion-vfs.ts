// The Scion VFS: the main database file of a connection is a tag (its graft's volume, a VolumeFile);
// every other file (journals, temp files) lives in memory. FacadeVfs does SQLite's plumbing.
import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { ScionError, Tag, type Snapshot } from '../core/index.ts';
import type { Runtime } from '../runtime/index.ts';
import type { VfsStats } from '../protocol/index.ts';
import { MemoryFile } from '../local/index.ts';
import { FacadeVfs, type FacadeFile } from './facade-vfs.ts';
import { ReadOracle } from './read-oracle.ts';
import { RESULT_CODE } from './result-codes.ts';
import { toScionError } from './sql-errors.ts';
import { VolumeFile, type VfsShared } from './volume-file.ts';

export interface ScionVfsOptions {
  name?: string;
  /** Most pages one page miss may fetch past its frame when reads move forward through the file; 0 turns read-ahead off. Default 960. */
  maxReadAheadPages?: number;
}

/**
 * Registers the Scion VFS with sqlite-wasm. Every callback is synchronous and never throws into
 * WebAssembly: errors become result codes (RESULT_CODE), and the typed error is kept for
 * `takeLastError()` and xGetLastError. Throws InvalidInput if the name is taken.
 */
export function installScionVfs(sqlite3: Sqlite3Static, runtime: Runtime, options: ScionVfsOptions = {}): ScionVfs {
  const name = options.name ?? 'scion';
  if (sqlite3.capi.sqlite3_vfs_find(name)) throw new ScionError('InvalidInput', `A VFS named "${name}" is already registered. Pass another name.`);
  return new ScionVfs(sqlite3, runtime, name, options.maxReadAheadPages ?? 960);
}

export class ScionVfs extends FacadeVfs {
  readonly runtime: Runtime;
  readonly #shared: VfsShared;
  readonly #maxReadAheadPages: number;
  readonly #memoryFiles = new Map<string, MemoryFile>();
  /** Checkout names not opened yet, and local GC's hold on each checkout's snapshot. */
  readonly #pinned = new Map<string, { snapshot: Snapshot; release: () => void }>();
  #tempCounter = 0;

  constructor(sqlite3: Sqlite3Static, runtime: Runtime, name: string, maxReadAheadPages: number) {
    super(sqlite3, name);
    this.runtime = runtime;
    this.#maxReadAheadPages = maxReadAheadPages;
    this.#shared = { runtime, writers: new Map(), stats: { xReads: 0, pagesRead: 0, pagesMissed: 0, readAheadPages: 0 } };
    this.install();
  }

  stats(): VfsStats {
    return { ...this.#shared.stats };
  }

  /** Registers a file name that opens read-only at `snapshot` (checkout); returns the name. Good for one connection. */
  pinSnapshot(snapshot: Snapshot): string {
    const path = `checkout-${++this.#tempCounter}`;
    this.#pinned.set(path, { snapshot, release: this.runtime.retainSnapshot(snapshot) }); // local GC keeps a checkout's pages
    return path;
  }

  override takeLastError(): ScionError | undefined {
    return super.takeLastError() as ScionError | undefined;
  }

  protected jOpen(given: string | undefined, flags: number): { file: FacadeFile; flags: number } | undefined {
    const { capi } = this.sqlite3;
    const path = given ?? `temp-${++this.#tempCounter}`;
    if (flags & capi.SQLITE_OPEN_MAIN_DB) return { file: this.#openVolume(path), flags };
    let file = this.#memoryFiles.get(path);
    if (!file) {
      if (!(flags & capi.SQLITE_OPEN_CREATE)) return undefined;
      this.#memoryFiles.set(path, (file = new MemoryFile()));
    }
    const deleteOnClose = (flags & capi.SQLITE_OPEN_DELETEONCLOSE) !== 0;
    return { file: new MemoryVfsFile(file, deleteOnClose ? () => this.#memoryFiles.delete(path) : undefined), flags };
  }

  protected override jDelete(path: string): void {
    this.#memoryFiles.delete(path);
  }

  protected override jAccess(path: string): boolean {
    // Journals never outlive their connection here, so a "hot journal" never exists.
    return this.#memoryFiles.has(path) && !path.endsWith('-journal');
  }

  protected override jDeviceCharacteristics(): number {
    const { capi } = this.sqlite3;
    return capi.SQLITE_IOCAP_SAFE_APPEND | capi.SQLITE_IOCAP_POWERSAFE_OVERWRITE | capi.SQLITE_IOCAP_SEQUENTIAL;
  }

  protected override jError(e: unknown): ScionError {
    return ScionError.from(e);
  }

  protected override jErrorCode(error: Error): number {
    return (this.sqlite3.capi as unknown as Record<string, number>)[RESULT_CODE[(error as ScionError).code]] as number;
  }

  /** A failure becomes a ScionError: the typed error the VFS kept (PageNotLocal, ConcurrentWrite, …) if there is one, else SQLite's code translated. */
  protected override jTranslate(e: unknown, kept: Error | undefined): ScionError {
    if (kept) return new ScionError((kept as ScionError).code, kept.message, (kept as ScionError).details, { cause: e });
    return toScionError(this.sqlite3, e);
  }

  #openVolume(path: string): VolumeFile {
    const pin = this.#pinned.get(path);
    const oracle = new ReadOracle(this.#maxReadAheadPages);
    if (pin) {
      const onClose = () => {
        this.#pinned.delete(path);
        pin.release();
      };
      return new VolumeFile(this.#shared, oracle, { pinned: pin.snapshot, onClose });
    }
    const tag = Tag.parse(path.replace(/^\/+/, ''));
    this.runtime.mustGetTag(tag);
    return new VolumeFile(this.#shared, oracle, { tag });
  }
}

/** A journal or temp file: bytes in memory, gone when SQLite deletes it (or closes it, if it asked so). */
class MemoryVfsFile implements FacadeFile {
  readonly #file: MemoryFile;
  readonly #onClose: (() => void) | undefined;

  constructor(file: MemoryFile, onClose: (() => void) | undefined) {
    this.#file = file;
    this.#onClose = onClose;
  }

  jRead(dest: Uint8Array, offset: number): number {
    return this.#file.read(dest, { at: offset });
  }

  jWrite(src: Uint8Array, offset: number): void {
    this.#file.write(src, { at: offset });
  }

  jTruncate(bytes: number): void {
    this.#file.truncate(bytes);
  }

  jFileSize(): number {
    return this.#file.getSize();
  }

  jClose(): void {
    this.#onClose?.();
  }
}
