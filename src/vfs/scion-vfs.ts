import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { ScionError, Tag, type Snapshot } from '../core/index.ts';
import type { Runtime } from '../runtime/index.ts';
import type { VfsStats } from '../protocol/index.ts';
import { MemoryFile } from '../local/index.ts';
import { refusePragma } from './pragmas.ts';
import { ReadOracle } from './read-oracle.ts';
import { RESULT_CODE } from './result-codes.ts';
import { Lock, VolumeFile, type VfsShared } from './volume-file.ts';


export interface ScionVfs {
  /** The registered VFS name: open databases with `{ vfs: name }`. */
  readonly name: string;
  readonly runtime: Runtime;
  /** The SQLite instance the VFS is registered in. */
  readonly sqlite3: Sqlite3Static;
  /** The typed error behind the last failed VFS callback, which SQLite reports only as a result code. */
  takeLastError(): ScionError | undefined;
  stats(): VfsStats;
  /** Registers a file name that opens read-only at `snapshot` (checkout); returns the name. */
  pinSnapshot(snapshot: Snapshot): string;
}

export interface ScionVfsOptions {
  name?: string;
  /** Most pages one page miss may fetch past its frame when reads move forward through the file; 0 turns read-ahead off. Default 960. */
  maxReadAheadPages?: number;
}

type Pointer = number;
type CallbackResult = number;

/**
 * Registers the Scion VFS with sqlite-wasm: the main database file of a connection is a tag (its
 * graft's volume); every other file (journals, temp files) lives in memory. Every callback is
 * synchronous and never throws into WebAssembly: errors become result codes, and the typed error is
 * kept for `takeLastError()` and `xGetLastError`.
 */
export function installScionVfs(sqlite3: Sqlite3Static, runtime: Runtime, options: ScionVfsOptions = {}): ScionVfs {
  const { capi, wasm } = sqlite3;
  const name = options.name ?? 'scion';
  if (capi.sqlite3_vfs_find(name)) throw new ScionError('InvalidInput', `A VFS named "${name}" is already registered. Pass another name.`);
  const shared: VfsShared = {
    runtime,
    writers: new Map(),
    stats: { xReads: 0, pagesRead: 0, pagesMissed: 0, readAheadPages: 0 },
  };
  const files = new Map<Pointer, { kind: 'volume'; path: string; file: VolumeFile } | { kind: 'memory'; path: string; file: MemoryFile; deleteOnClose: boolean }>();
  const memoryFiles = new Map<string, MemoryFile>();
  const pinned = new Map<string, Snapshot>();
  const releases = new Map<string, () => void>();
  let lastError: ScionError | undefined;
  let tempCounter = 0;

  // The typings name it ptrSizeof; this build has wasm.ptr.size.
  const pointerSize = (wasm as unknown as { ptr?: { size: number } }).ptr?.size ?? wasm.ptrSizeof;
  const code = (rc: string): number => (capi as unknown as Record<string, number>)[rc] as number;
  const fail = (e: unknown): CallbackResult => {
    lastError = ScionError.from(e);
    return code(RESULT_CODE[lastError.code]);
  };
  const heap = (p: Pointer, n: number): Uint8Array => wasm.heap8u().subarray(p, p + n);
  const volume = (pFile: Pointer): VolumeFile | undefined => {
    const f = files.get(pFile);
    return f?.kind === 'volume' ? f.file : undefined;
  };
  const memory = (pFile: Pointer): MemoryFile => {
    const f = files.get(pFile);
    if (f?.kind !== 'memory') throw new ScionError('Internal', `BUG: unknown file pointer ${pFile}`);
    return f.file;
  };

  const io = new capi.sqlite3_io_methods();
  (io as unknown as { $iVersion: number }).$iVersion = 1;
  const ioMethods = {
    xClose(pFile: Pointer): CallbackResult {
      try {
        const f = files.get(pFile);
        files.delete(pFile);
        if (f?.kind === 'volume') {
          f.file.unlock(Lock.None);
          // A checkout's name is good for one connection.
          if (f.file.pinned) {
            pinned.delete(f.path);
            releases.get(f.path)?.();
            releases.delete(f.path);
          }
        }
        if (f?.kind === 'memory' && f.deleteOnClose) memoryFiles.delete(f.path);
        return 0;
      } catch (e) {
        return fail(e);
      }
    },
    xRead(pFile: Pointer, pDest: Pointer, n: number, offset: bigint | number): CallbackResult {
      try {
        const dest = heap(Number(pDest), n);
        const got = volume(pFile)?.read(dest, Number(offset)) ?? memory(pFile).read(dest, { at: Number(offset) });
        if (got < n) {
          heap(Number(pDest), n).fill(0, got);
          return capi.SQLITE_IOERR_SHORT_READ;
        }
        return 0;
      } catch (e) {
        return fail(e);
      }
    },
    xWrite(pFile: Pointer, pSrc: Pointer, n: number, offset: bigint | number): CallbackResult {
      try {
        // No copy: the writer copies the page into a buffer of its own before anything can grow the wasm heap.
        const src = heap(Number(pSrc), n);
        const v = volume(pFile);
        if (v) v.write(src, Number(offset));
        else memory(pFile).write(src, { at: Number(offset) });
        return 0;
      } catch (e) {
        return fail(e);
      }
    },
    xTruncate(pFile: Pointer, size: bigint | number): CallbackResult {
      try {
        const v = volume(pFile);
        if (v) v.truncate(Number(size));
        else memory(pFile).truncate(Number(size));
        return 0;
      } catch (e) {
        return fail(e);
      }
    },
    xSync(): CallbackResult {
      // The commit is made durable at FCNTL_COMMIT_PHASETWO; memory files need nothing.
      return 0;
    },
    xFileSize(pFile: Pointer, pSize: Pointer): CallbackResult {
      try {
        const size = volume(pFile)?.size() ?? memory(pFile).getSize();
        wasm.poke64(pSize, BigInt(size));
        return 0;
      } catch (e) {
        return fail(e);
      }
    },
    xLock(pFile: Pointer, level: number): CallbackResult {
      try {
        const v = volume(pFile);
        if (!v || v.lock(level as 0 | 1 | 2 | 3 | 4) === 'ok') return 0;
        lastError = new ScionError('ConcurrentWrite', `Another connection is writing tag "${v.tag}". Retry when its transaction ends.`, { tag: v.tag ?? '' });
        return capi.SQLITE_BUSY;
      } catch (e) {
        return fail(e);
      }
    },
    xUnlock(pFile: Pointer, level: number): CallbackResult {
      try {
        volume(pFile)?.unlock(level as 0 | 1 | 2 | 3 | 4);
        return 0;
      } catch (e) {
        return fail(e);
      }
    },
    xCheckReservedLock(pFile: Pointer, pOut: Pointer): CallbackResult {
      try {
        wasm.poke32(pOut, volume(pFile)?.isReservedAnywhere() ? 1 : 0);
        return 0;
      } catch (e) {
        return fail(e);
      }
    },
    xFileControl(pFile: Pointer, op: number, pArg: Pointer): CallbackResult {
      try {
        const v = volume(pFile);
        if (!v) return capi.SQLITE_NOTFOUND;
        if (op === capi.SQLITE_FCNTL_SYNC) {
          if (v.hasWriter) v.stageCommit();
          return 0;
        }
        if (op === capi.SQLITE_FCNTL_COMMIT_PHASETWO) {
          v.commit();
          return 0;
        }
        if (op === capi.SQLITE_FCNTL_PRAGMA) {
          const arg = (i: number): string | undefined => {
            const p = wasm.peekPtr(Number(pArg) + i * pointerSize) as number;
            return p ? (wasm.cstrToJs(p) ?? undefined) : undefined;
          };
          const refusal = refusePragma((arg(1) ?? '').toLowerCase(), arg(2));
          if (refusal === undefined) return capi.SQLITE_NOTFOUND;
          wasm.pokePtr(Number(pArg), wasm.allocCString(refusal, false));
          return capi.SQLITE_ERROR;
        }
        return capi.SQLITE_NOTFOUND;
      } catch (e) {
        return fail(e);
      }
    },
    xSectorSize(): number {
      return 4096;
    },
    xDeviceCharacteristics(): number {
      return capi.SQLITE_IOCAP_SAFE_APPEND | capi.SQLITE_IOCAP_POWERSAFE_OVERWRITE | capi.SQLITE_IOCAP_SEQUENTIAL;
    },
  };

  const vfs = new capi.sqlite3_vfs();
  const defaultVfs = new capi.sqlite3_vfs(capi.sqlite3_vfs_find(null));
  const v = vfs as unknown as Record<string, unknown>;
  v.$iVersion = 2;
  v.$szOsFile = (capi.sqlite3_file as unknown as { structInfo: { sizeof: number } }).structInfo.sizeof;
  v.$mxPathname = 512;
  v.$xRandomness = (defaultVfs as unknown as Record<string, unknown>).$xRandomness;
  v.$xSleep = (defaultVfs as unknown as Record<string, unknown>).$xSleep;
  defaultVfs.dispose();

  const vfsMethods = {
    xOpen(_pVfs: Pointer, zName: Pointer, pFile: Pointer, flags: number, pOutFlags: Pointer): CallbackResult {
      try {
        const path = (zName && wasm.peek8(zName) ? wasm.cstrToJs(zName) : null) ?? `temp-${++tempCounter}`;
        if (flags & capi.SQLITE_OPEN_MAIN_DB) {
          const snapshot = pinned.get(path);
          const target: { tag: Tag; pinned?: undefined } | { pinned: Snapshot; tag?: undefined } = snapshot ? { pinned: snapshot } : { tag: Tag.parse(path.replace(/^\/+/, '')) };
          if (target.tag !== undefined) runtime.mustGetTag(target.tag);
          files.set(pFile, { kind: 'volume', path, file: new VolumeFile(shared, new ReadOracle(options.maxReadAheadPages ?? 960), target) });
        } else {
          let file = memoryFiles.get(path);
          if (!file) {
            if (!(flags & capi.SQLITE_OPEN_CREATE)) return capi.SQLITE_CANTOPEN;
            memoryFiles.set(path, (file = new MemoryFile()));
          }
          files.set(pFile, { kind: 'memory', path, file, deleteOnClose: (flags & capi.SQLITE_OPEN_DELETEONCLOSE) !== 0 });
        }
        const f = new capi.sqlite3_file(pFile);
        f.$pMethods = io.pointer;
        f.dispose();
        wasm.poke32(pOutFlags, flags);
        return 0;
      } catch (e) {
        return fail(e);
      }
    },
    xDelete(_pVfs: Pointer, zName: Pointer): CallbackResult {
      memoryFiles.delete(wasm.cstrToJs(zName) ?? '');
      return 0;
    },
    xAccess(_pVfs: Pointer, zName: Pointer, _flags: number, pOut: Pointer): CallbackResult {
      const path = wasm.cstrToJs(zName) ?? '';
      // Journals never outlive their connection here, so a "hot journal" never exists.
      wasm.poke32(pOut, memoryFiles.has(path) && !path.endsWith('-journal') ? 1 : 0);
      return 0;
    },
    xFullPathname(_pVfs: Pointer, zName: Pointer, nOut: number, pOut: Pointer): CallbackResult {
      return wasm.cstrncpy(pOut, zName, nOut) < nOut ? 0 : capi.SQLITE_CANTOPEN;
    },
    xGetLastError(_pVfs: Pointer, nOut: number, pOut: Pointer): CallbackResult {
      if (!lastError || nOut <= 0) return 0;
      const bytes = new TextEncoder().encode(lastError.message).subarray(0, nOut - 1);
      wasm.heap8u().set(bytes, pOut);
      wasm.poke8(pOut + bytes.byteLength, 0);
      return code(RESULT_CODE[lastError.code]);
    },
    xCurrentTime(_pVfs: Pointer, pOut: Pointer): CallbackResult {
      wasm.poke(pOut, 2440587.5 + Date.now() / 864e5, 'double');
      return 0;
    },
    xCurrentTimeInt64(_pVfs: Pointer, pOut: Pointer): CallbackResult {
      wasm.poke(pOut, 210866760000000 + Date.now(), 'i64');
      return 0;
    },
  };

  sqlite3.vfs.installVfs({
    io: { struct: io, methods: ioMethods as never },
    vfs: { struct: vfs, name, methods: vfsMethods as never },
  } as never);

  return {
    name,
    runtime,
    sqlite3,
    takeLastError() {
      const e = lastError;
      lastError = undefined;
      return e;
    },
    stats: () => ({ ...shared.stats }),
    pinSnapshot(snapshot) {
      const path = `checkout-${++tempCounter}`;
      pinned.set(path, snapshot);
      releases.set(path, runtime.retainSnapshot(snapshot)); // local GC keeps a checkout's pages
      return path;
    },
  };
}
