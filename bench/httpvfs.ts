// A read-only SQLite VFS over HTTP Range requests, for the benchmark's "range-read VFS" peer (sql.js-httpvfs
// style, https://github.com/phiresky/sql.js-httpvfs/blob/master/src/lazyFile.ts). Dedicated worker only: every
// page miss is one synchronous XHR. The file name SQLite opens is the URL. Fetched pages stay cached until the
// file closes (as in sql.js-httpvfs, no eviction). Counts requests and bytes per VFS.
// Unlike sql.js-httpvfs, open sends no HEAD: it fetches page 1 (which SQLite reads first anyway) and takes the
// file size from Content-Range. That saves a round trip, works with presigned GET URLs (a HEAD needs its own
// signature), and avoids Vite's dev server, which reads the whole file to answer a HEAD (~60 ms for 50 MB).
import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';

const PAGE = 4096;

export interface HttpVfsOptions {
  /** Registered SQLite VFS name, e.g. `http`. */
  name: string;
  /**
   * false: exactly one 4 KiB page per request. true: sql.js-httpvfs read heads — up to 3 heads; a miss that falls
   * in a head's next window fetches that window at twice the head's previous span (1, 2, 4 … pages, ≤ 5 MiB).
   */
  readAhead: boolean;
}

/** Traffic since install (or the last reset). */
export interface HttpTraffic {
  requests: number;
  bytes: number;
  /** Time spent blocked in synchronous XHRs. */
  waitMs: number;
}

export interface HttpVfs {
  readonly name: string;
  traffic(): HttpTraffic;
  resetTraffic(): void;
}

interface ReadHead {
  /** First page (0-based) of the head's last fetch. */
  start: number;
  /** Pages in the head's last fetch. */
  span: number;
}

interface HttpFile {
  url: string;
  /** From the first response's Content-Range. */
  size: number;
  pages: Map<number, Uint8Array>;
  heads: ReadHead[];
}

const MAX_HEADS = 3;
const MAX_SPAN = (5 << 20) / PAGE;

/** Blocking: one synchronous ranged GET (bytes `from`–`to`, inclusive); returns the body and the file's size. */
function getRangeSync(url: string, from: number, to: number): { body: Uint8Array; size: number } {
  const xhr = new XMLHttpRequest();
  xhr.open('GET', url, false);
  xhr.responseType = 'arraybuffer';
  xhr.setRequestHeader('Range', `bytes=${from}-${to}`);
  xhr.send();
  if (xhr.status !== 206) throw new Error(`GET ${url} bytes ${from}-${to}: HTTP ${xhr.status}, expected 206`);
  const size = Number(/\/(\d+)$/.exec(xhr.getResponseHeader('Content-Range') ?? '')?.[1]);
  if (!Number.isSafeInteger(size)) throw new Error(`GET ${url}: no file size in Content-Range`);
  return { body: new Uint8Array(xhr.response as ArrayBuffer), size };
}

/** Registers a VFS named `options.name`. Open a database on it with `new sqlite3.oo1.DB({ filename: url, flags: 'r', vfs })`. */
export function installHttpVfs(sqlite3: Sqlite3Static, options: HttpVfsOptions): HttpVfs {
  const { capi, wasm } = sqlite3;
  const files = new Map<number, HttpFile>(); // keyed by the sqlite3_file pointer
  const counters: HttpTraffic = { requests: 0, bytes: 0, waitMs: 0 };
  let lastError: Error | undefined;
  // SQLite never sees an exception: it gets the code, and xGetLastError the message.
  const fail = (e: unknown, rc: number): number => {
    lastError = e instanceof Error ? e : new Error(String(e));
    return rc;
  };

  /** The pages (0-based) to fetch for a miss on `page`: the page alone, or a read head's next window. */
  const planFetch = (file: HttpFile, page: number): ReadHead => {
    if (!options.readAhead) return { start: page, span: 1 };
    const index = file.heads.findIndex((h) => {
      const next = h.start + h.span;
      return page >= next && page < next + Math.min(MAX_SPAN, h.span * 2);
    });
    let head: ReadHead;
    if (index >= 0) {
      head = file.heads.splice(index, 1)[0] as ReadHead;
      head.start += head.span;
      head.span = Math.min(MAX_SPAN, head.span * 2);
    } else {
      head = { start: page, span: 1 };
    }
    file.heads.unshift(head);
    file.heads.length = Math.min(file.heads.length, MAX_HEADS);
    return head;
  };

  const fetchPagesSync = (file: HttpFile, plan: ReadHead): void => {
    const from = plan.start * PAGE;
    const to = Math.min(file.size, (plan.start + plan.span) * PAGE) - 1;
    const started = performance.now();
    const { body, size } = getRangeSync(file.url, from, to);
    file.size = size;
    counters.waitMs += performance.now() - started;
    counters.requests++;
    counters.bytes += body.byteLength;
    for (let i = 0; i * PAGE < body.byteLength; i++) {
      if (!file.pages.has(plan.start + i)) file.pages.set(plan.start + i, body.subarray(i * PAGE, (i + 1) * PAGE));
    }
  };

  const io = new capi.sqlite3_io_methods();
  (io as unknown as { $iVersion: number }).$iVersion = 1;
  const ioMethods = {
    xClose(pFile: number): number {
      files.delete(Number(pFile));
      return 0;
    },
    xRead(pFile: number, pDest: number, n: number, offset64: bigint | number): number {
      try {
        const file = files.get(Number(pFile));
        if (!file) throw new Error('BUG: xRead on a file that is not open');
        const offset = Number(offset64);
        const end = Math.min(offset + n, file.size);
        for (let page = Math.floor(offset / PAGE); page * PAGE < end; page++) {
          if (!file.pages.has(page)) fetchPagesSync(file, planFetch(file, page));
        }
        // Fetch the heap view after the XHRs: nothing above allocates in wasm, but a grown heap detaches old views.
        const dest = wasm.heap8u().subarray(Number(pDest), Number(pDest) + n);
        for (let at = offset; at < end; ) {
          const page = Math.floor(at / PAGE);
          const data = file.pages.get(page) as Uint8Array;
          const inPage = at - page * PAGE;
          const count = Math.min(end - at, data.byteLength - inPage);
          dest.set(data.subarray(inPage, inPage + count), at - offset);
          at += count;
        }
        if (end - offset < n) {
          dest.fill(0, Math.max(0, end - offset)); // SQLite requires the unread tail zeroed
          return capi.SQLITE_IOERR_SHORT_READ;
        }
        return 0;
      } catch (e) {
        return fail(e, capi.SQLITE_IOERR_READ);
      }
    },
    xWrite: (): number => capi.SQLITE_READONLY,
    xTruncate: (): number => capi.SQLITE_READONLY,
    xSync: (): number => 0,
    xFileSize(pFile: number, pSize64: number): number {
      const file = files.get(Number(pFile));
      if (!file) return capi.SQLITE_IOERR_FSTAT;
      wasm.poke64(pSize64, BigInt(file.size));
      return 0;
    },
    xLock: (): number => 0,
    xUnlock: (): number => 0,
    xCheckReservedLock(_pFile: number, pOut: number): number {
      wasm.poke32(pOut, 0);
      return 0;
    },
    xFileControl: (): number => capi.SQLITE_NOTFOUND,
    xSectorSize: (): number => PAGE,
    // Immutable: SQLite takes no locks and never looks for a hot journal, so no requests besides page reads.
    xDeviceCharacteristics: (): number => capi.SQLITE_IOCAP_IMMUTABLE,
  };

  const vfs = new capi.sqlite3_vfs();
  vfs.$iVersion = 2;
  vfs.$szOsFile = (capi.sqlite3_file as unknown as { structInfo: { sizeof: number } }).structInfo.sizeof;
  vfs.$mxPathname = 1024;
  const defaultVfs = new capi.sqlite3_vfs(capi.sqlite3_vfs_find(null));
  (vfs as unknown as { $xRandomness: number }).$xRandomness = (defaultVfs as unknown as { $xRandomness: number }).$xRandomness;
  defaultVfs.dispose();
  const vfsMethods = {
    xOpen(_pVfs: number, zName: number, pFile: number, flags: number, pOutFlags: number): number {
      try {
        if (!zName || !(flags & capi.SQLITE_OPEN_MAIN_DB)) throw new Error('The HTTP VFS opens only a main database, read-only');
        const file: HttpFile = { url: wasm.cstrToJs(zName) ?? '', size: Infinity, pages: new Map(), heads: [] };
        fetchPagesSync(file, planFetch(file, 0)); // page 1 (index 0) and the size
        files.set(Number(pFile), file);
        const sqliteFile = new capi.sqlite3_file(pFile);
        sqliteFile.$pMethods = io.pointer;
        sqliteFile.dispose();
        wasm.poke32(pOutFlags, capi.SQLITE_OPEN_READONLY);
        return 0;
      } catch (e) {
        return fail(e, capi.SQLITE_CANTOPEN);
      }
    },
    xDelete: (): number => capi.SQLITE_READONLY,
    xAccess(_pVfs: number, _zName: number, _flags: number, pOut: number): number {
      wasm.poke32(pOut, 0); // no journal or WAL beside a remote file
      return 0;
    },
    xFullPathname: (_pVfs: number, zName: number, nOut: number, pOut: number): number =>
      wasm.cstrncpy(pOut, zName, nOut) < nOut ? 0 : capi.SQLITE_CANTOPEN,
    xGetLastError(_pVfs: number, nOut: number, pOut: number): number {
      if (!lastError) return 0;
      const message = wasm.allocCString(lastError.message, false);
      wasm.cstrncpy(pOut, message, nOut);
      wasm.dealloc(message);
      lastError = undefined;
      return capi.SQLITE_IOERR;
    },
    xSleep: (): number => 0,
    xCurrentTime(_pVfs: number, pOut: number): number {
      wasm.poke(pOut, 2440587.5 + Date.now() / 864e5, 'double');
      return 0;
    },
    xCurrentTimeInt64(_pVfs: number, pOut: number): number {
      wasm.poke(pOut, 0xbfc83e532200 + Date.now(), 'i64');
      return 0;
    },
  };
  sqlite3.vfs.installVfs({
    io: { struct: io, methods: ioMethods as never },
    vfs: { struct: vfs, name: options.name, methods: vfsMethods as never },
  });
  return {
    name: options.name,
    traffic: () => ({ ...counters }),
    resetTraffic() {
      counters.requests = 0;
      counters.bytes = 0;
      counters.waitMs = 0;
    },
  };
}
