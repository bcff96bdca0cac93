// SQLite's VFS plumbing apart from storage: FacadeVfs registers the x* callbacks with sqlite-wasm,
// turns C pointers into bytes, offsets and file objects, and never lets an exception reach WebAssembly.
// A storage class extends it and implements only j* methods on plain values (jOpen returns a
// FacadeFile, whose jRead fills a Uint8Array), as wa-sqlite splits FacadeVFS from its example VFSes.
import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';

/** SQLite's lock levels (sqlite3.h). */
export const Lock = { None: 0, Shared: 1, Reserved: 2, Pending: 3, Exclusive: 4 } as const;
export type LockLevel = (typeof Lock)[keyof typeof Lock];

/** The file controls a storage file may handle (SQLITE_FCNTL_SYNC, SQLITE_FCNTL_COMMIT_PHASETWO); others are SQLITE_NOTFOUND. */
export type FileControl = 'sync' | 'commit-phasetwo';

/**
 * One open file in plain terms. Any method may throw: the error is kept for xGetLastError and SQLite
 * gets the storage class's result code for it. An optional method left out behaves as a read-only,
 * lock-free file would (writes are SQLITE_READONLY, locks always granted).
 */
export interface FacadeFile {
  /** Fills `dest` from byte `offset`; returns how many bytes exist there (the facade zeroes the rest: a short read). */
  jRead(dest: Uint8Array, offset: number): number;
  /** `src` is a view of the wasm heap, valid only during the call: copy what must be kept. */
  jWrite?(src: Uint8Array, offset: number): void;
  jTruncate?(bytes: number): void;
  jFileSize(): number;
  /** Undefined when granted; an Error saying who holds it when busy (SQLITE_BUSY). */
  jLock?(level: LockLevel): Error | undefined;
  jUnlock?(level: LockLevel): void;
  jCheckReservedLock?(): boolean;
  jFileControl?(op: FileControl): void;
  /** A `PRAGMA name = value` SQLite is about to run: why it is refused, or undefined to let SQLite run it. */
  jPragma?(name: string, value: string | undefined): string | undefined;
  jClose?(): void;
}

type Pointer = number;

/** A VFS registered with sqlite-wasm whose storage is the subclass's j* methods. Blocking; DB worker only. */
export abstract class FacadeVfs {
  /** The registered VFS name: open databases with `{ vfs: name }`. */
  readonly name: string;
  /** The SQLite instance the VFS is registered in. */
  readonly sqlite3: Sqlite3Static;
  readonly #maxPathname: number;
  readonly #mapPointerToFile = new Map<Pointer, FacadeFile>();
  #lastError: Error | undefined;

  constructor(sqlite3: Sqlite3Static, name: string, options: { maxPathname?: number } = {}) {
    this.sqlite3 = sqlite3;
    this.name = name;
    this.#maxPathname = options.maxPathname ?? 512;
  }

  /** Opens `path` (undefined: a temporary file SQLite did not name) with SQLITE_OPEN_* `flags`; undefined is SQLITE_CANTOPEN. */
  protected abstract jOpen(path: string | undefined, flags: number): { file: FacadeFile; flags: number } | undefined;

  protected jDelete(_path: string): void {}

  /** Whether `path` exists (SQLite asks about journals). */
  protected jAccess(_path: string, _flags: number): boolean {
    return false;
  }

  /** SQLITE_IOCAP_* of every file. */
  protected jDeviceCharacteristics(): number {
    return 0;
  }

  /** How a thrown value is kept for xGetLastError and takeLastError. */
  protected jError(e: unknown): Error {
    return e instanceof Error ? e : new Error(String(e));
  }

  /** The result code SQLite gets for `error`; `fallback` is the failed callback's own SQLITE_IOERR_* code. */
  protected jErrorCode(_error: Error, fallback: number): number {
    return fallback;
  }

  /** What `run` throws for a failure of SQLite work: `kept` is the error a callback kept, if one failed. */
  protected jTranslate(e: unknown, kept: Error | undefined): unknown {
    return kept ?? e;
  }

  /** The error behind the last failed callback, which SQLite reports only as a result code; cleared by reading. */
  takeLastError(): Error | undefined {
    const e = this.#lastError;
    this.#lastError = undefined;
    return e;
  }

  /** Runs SQLite work on this VFS; a failure is thrown as jTranslate makes it (the typed error a callback kept, if any). */
  run<T>(work: () => T): T {
    this.#lastError = undefined;
    try {
      return work();
    } catch (e) {
      throw this.jTranslate(e, this.takeLastError());
    }
  }

  /** Registers the callbacks; the subclass calls it once its own fields are set. */
  protected install(): void {
    const { capi, wasm } = this.sqlite3;
    // The typings name it ptrSizeof; this build has wasm.ptr.size.
    const pointerSize = (wasm as unknown as { ptr?: { size: number } }).ptr?.size ?? wasm.ptrSizeof;
    const heap = (p: Pointer, n: number): Uint8Array => wasm.heap8u().subarray(Number(p), Number(p) + n);
    const files = this.#mapPointerToFile;
    const mustGetFile = (pFile: Pointer): FacadeFile => {
      const file = files.get(pFile);
      if (!file) throw new Error(`BUG: unknown file pointer ${pFile}`);
      return file;
    };
    const guard = (fallback: number, callback: () => number): number => {
      try {
        return callback();
      } catch (e) {
        this.#lastError = this.jError(e);
        return this.jErrorCode(this.#lastError, fallback);
      }
    };

    const io = new capi.sqlite3_io_methods();
    (io as unknown as { $iVersion: number }).$iVersion = 1;
    const ioMethods = {
      xClose: (pFile: Pointer): number => guard(capi.SQLITE_IOERR_CLOSE, () => {
        const file = files.get(pFile);
        files.delete(pFile);
        file?.jClose?.();
        return 0;
      }),
      xRead: (pFile: Pointer, pDest: Pointer, n: number, offset: bigint | number): number => guard(capi.SQLITE_IOERR_READ, () => {
        const got = mustGetFile(pFile).jRead(heap(pDest, n), Number(offset));
        if (got >= n) return 0;
        // SQLite requires the unread tail zeroed; a fresh view, as the read may have grown the heap.
        heap(pDest, n).fill(0, got);
        return capi.SQLITE_IOERR_SHORT_READ;
      }),
      xWrite: (pFile: Pointer, pSrc: Pointer, n: number, offset: bigint | number): number => guard(capi.SQLITE_IOERR_WRITE, () => {
        const file = mustGetFile(pFile);
        if (!file.jWrite) return capi.SQLITE_READONLY;
        // No copy: `src` is a view of the wasm heap, valid during this call (jWrite keeps no reference to it).
        file.jWrite(heap(pSrc, n), Number(offset));
        return 0;
      }),
      xTruncate: (pFile: Pointer, size: bigint | number): number => guard(capi.SQLITE_IOERR_TRUNCATE, () => {
        const file = mustGetFile(pFile);
        if (!file.jTruncate) return capi.SQLITE_READONLY;
        file.jTruncate(Number(size));
        return 0;
      }),
      // Storage classes make commits durable where they know a transaction ends (a file control).
      xSync: (): number => 0,
      xFileSize: (pFile: Pointer, pSize: Pointer): number => guard(capi.SQLITE_IOERR_FSTAT, () => {
        wasm.poke64(pSize, BigInt(mustGetFile(pFile).jFileSize()));
        return 0;
      }),
      xLock: (pFile: Pointer, level: number): number => guard(capi.SQLITE_IOERR_LOCK, () => {
        const busy = mustGetFile(pFile).jLock?.(level as LockLevel);
        if (!busy) return 0;
        this.#lastError = this.jError(busy);
        return capi.SQLITE_BUSY;
      }),
      xUnlock: (pFile: Pointer, level: number): number => guard(capi.SQLITE_IOERR_UNLOCK, () => {
        mustGetFile(pFile).jUnlock?.(level as LockLevel);
        return 0;
      }),
      xCheckReservedLock: (pFile: Pointer, pOut: Pointer): number => guard(capi.SQLITE_IOERR_CHECKRESERVEDLOCK, () => {
        wasm.poke32(pOut, mustGetFile(pFile).jCheckReservedLock?.() ? 1 : 0);
        return 0;
      }),
      xFileControl: (pFile: Pointer, op: number, pArg: Pointer): number => guard(capi.SQLITE_IOERR, () => {
        const file = mustGetFile(pFile);
        const named: FileControl | undefined = op === capi.SQLITE_FCNTL_SYNC ? 'sync' : op === capi.SQLITE_FCNTL_COMMIT_PHASETWO ? 'commit-phasetwo' : undefined;
        if (named && file.jFileControl) {
          file.jFileControl(named);
          return 0;
        }
        if (op === capi.SQLITE_FCNTL_PRAGMA && file.jPragma) {
          const arg = (i: number): string | undefined => {
            const p = wasm.peekPtr(Number(pArg) + i * pointerSize) as number;
            return p ? (wasm.cstrToJs(p) ?? undefined) : undefined;
          };
          const refusal = file.jPragma((arg(1) ?? '').toLowerCase(), arg(2));
          if (refusal === undefined) return capi.SQLITE_NOTFOUND;
          wasm.pokePtr(Number(pArg), wasm.allocCString(refusal, false));
          return capi.SQLITE_ERROR;
        }
        return capi.SQLITE_NOTFOUND;
      }),
      xSectorSize: (): number => 4096,
      xDeviceCharacteristics: (): number => this.jDeviceCharacteristics(),
    };

    const vfs = new capi.sqlite3_vfs();
    const defaultVfs = new capi.sqlite3_vfs(capi.sqlite3_vfs_find(null));
    const v = vfs as unknown as Record<string, unknown>;
    v.$iVersion = 2;
    v.$szOsFile = (capi.sqlite3_file as unknown as { structInfo: { sizeof: number } }).structInfo.sizeof;
    v.$mxPathname = this.#maxPathname;
    v.$xRandomness = (defaultVfs as unknown as Record<string, unknown>).$xRandomness;
    v.$xSleep = (defaultVfs as unknown as Record<string, unknown>).$xSleep;
    defaultVfs.dispose();

    const vfsMethods = {
      xOpen: (_pVfs: Pointer, zName: Pointer, pFile: Pointer, flags: number, pOutFlags: Pointer): number => guard(capi.SQLITE_CANTOPEN, () => {
        const path = zName && wasm.peek8(zName) ? (wasm.cstrToJs(zName) ?? undefined) : undefined;
        const opened = this.jOpen(path, flags);
        if (!opened) return capi.SQLITE_CANTOPEN;
        files.set(pFile, opened.file);
        const f = new capi.sqlite3_file(pFile);
        f.$pMethods = io.pointer;
        f.dispose();
        wasm.poke32(pOutFlags, opened.flags);
        return 0;
      }),
      xDelete: (_pVfs: Pointer, zName: Pointer): number => guard(capi.SQLITE_IOERR_DELETE, () => {
        this.jDelete(wasm.cstrToJs(zName) ?? '');
        return 0;
      }),
      xAccess: (_pVfs: Pointer, zName: Pointer, flags: number, pOut: Pointer): number => guard(capi.SQLITE_IOERR_ACCESS, () => {
        wasm.poke32(pOut, this.jAccess(wasm.cstrToJs(zName) ?? '', flags) ? 1 : 0);
        return 0;
      }),
      xFullPathname: (_pVfs: Pointer, zName: Pointer, nOut: number, pOut: Pointer): number =>
        wasm.cstrncpy(pOut, zName, nOut) < nOut ? 0 : capi.SQLITE_CANTOPEN,
      xGetLastError: (_pVfs: Pointer, nOut: number, pOut: Pointer): number => {
        const error = this.#lastError;
        if (!error || nOut <= 0) return 0;
        const bytes = new TextEncoder().encode(error.message).subarray(0, nOut - 1);
        wasm.heap8u().set(bytes, pOut);
        wasm.poke8(pOut + bytes.byteLength, 0);
        return this.jErrorCode(error, capi.SQLITE_IOERR);
      },
      xCurrentTime: (_pVfs: Pointer, pOut: Pointer): number => {
        wasm.poke(pOut, 2440587.5 + Date.now() / 864e5, 'double');
        return 0;
      },
      xCurrentTimeInt64: (_pVfs: Pointer, pOut: Pointer): number => {
        wasm.poke(pOut, 210866760000000 + Date.now(), 'i64');
        return 0;
      },
    };

    this.sqlite3.vfs.installVfs({
      io: { struct: io, methods: ioMethods as never },
      vfs: { struct: vfs, name: this.name, methods: vfsMethods as never },
    } as never);
  }
}
