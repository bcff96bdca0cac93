// A read-only SQLite VFS over HTTP Range requests, for the benchmark's "range-read VFS" peer (in the style of
// sql.js-httpvfs's lazy file), a storage class over src/vfs/facade-vfs.ts. Dedicated worker only: every
// page miss is one synchronous XHR. The file name SQLite opens is the URL. Fetched pages stay cached until the
// file closes (as in sql.js-httpvfs, no eviction). Counts requests and bytes per VFS.
// Unlike sql.js-httpvfs, open sends no HEAD: it fetches page 1 (which SQLite reads first anyway) and takes the
// file size from Content-Range. That saves a round trip, works with presigned GET URLs (a HEAD needs its own
// signature), and avoids Vite's dev server, which reads the whole file to answer a HEAD (~60 ms for 50 MB).
import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { FacadeVfs, type FacadeFile } from '../src/vfs/index.ts';

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
  /** Each GET's span (performance.now() ms). */
  spans: { kind: string; start: number; end: number }[];
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
  return new RangeReadVfs(sqlite3, options);
}

/** The storage side: xOpen's name is the URL; no locks, no writes, no journals (immutable). */
class RangeReadVfs extends FacadeVfs implements HttpVfs {
  readonly #readAhead: boolean;
  readonly #counters: HttpTraffic = { requests: 0, bytes: 0, waitMs: 0, spans: [] };

  constructor(sqlite3: Sqlite3Static, options: HttpVfsOptions) {
    super(sqlite3, options.name, { maxPathname: 1024 });
    this.#readAhead = options.readAhead;
    this.install();
  }

  traffic(): HttpTraffic {
    return { ...this.#counters, spans: [...this.#counters.spans] };
  }

  resetTraffic(): void {
    this.#counters.requests = 0;
    this.#counters.bytes = 0;
    this.#counters.waitMs = 0;
    this.#counters.spans = [];
  }

  protected jOpen(url: string | undefined, flags: number): { file: FacadeFile; flags: number } {
    if (!url || !(flags & this.sqlite3.capi.SQLITE_OPEN_MAIN_DB)) throw new Error('The HTTP VFS opens only a main database, read-only');
    return { file: new HttpFile(url, this.#readAhead, this.#counters), flags: this.sqlite3.capi.SQLITE_OPEN_READONLY };
  }

  // Immutable: SQLite takes no locks and never looks for a hot journal, so no requests besides page reads.
  protected override jDeviceCharacteristics(): number {
    return this.sqlite3.capi.SQLITE_IOCAP_IMMUTABLE;
  }
}

/** One remote file: its pages fetched so far (kept until it closes) and its read heads. */
class HttpFile implements FacadeFile {
  readonly #url: string;
  readonly #readAhead: boolean;
  readonly #counters: HttpTraffic;
  /** From the first response's Content-Range. */
  #size = Infinity;
  readonly #pages = new Map<number, Uint8Array>();
  readonly #heads: ReadHead[] = [];

  constructor(url: string, readAhead: boolean, counters: HttpTraffic) {
    this.#url = url;
    this.#readAhead = readAhead;
    this.#counters = counters;
    this.#fetchPagesSync(this.#planFetch(0)); // page 1 (index 0) and the size
  }

  jRead(dest: Uint8Array, offset: number): number {
    const end = Math.min(offset + dest.byteLength, this.#size);
    for (let page = Math.floor(offset / PAGE); page * PAGE < end; page++) {
      if (!this.#pages.has(page)) this.#fetchPagesSync(this.#planFetch(page));
    }
    for (let at = offset; at < end; ) {
      const page = Math.floor(at / PAGE);
      const data = this.#pages.get(page) as Uint8Array;
      const inPage = at - page * PAGE;
      const count = Math.min(end - at, data.byteLength - inPage);
      dest.set(data.subarray(inPage, inPage + count), at - offset);
      at += count;
    }
    return Math.max(0, end - offset);
  }

  jFileSize(): number {
    return this.#size;
  }

  /** The pages (0-based) to fetch for a miss on `page`: the page alone, or a read head's next window. */
  #planFetch(page: number): ReadHead {
    if (!this.#readAhead) return { start: page, span: 1 };
    const heads = this.#heads;
    const index = heads.findIndex((h) => {
      const next = h.start + h.span;
      return page >= next && page < next + Math.min(MAX_SPAN, h.span * 2);
    });
    let head: ReadHead;
    if (index >= 0) {
      head = heads.splice(index, 1)[0] as ReadHead;
      head.start += head.span;
      head.span = Math.min(MAX_SPAN, head.span * 2);
    } else {
      head = { start: page, span: 1 };
    }
    heads.unshift(head);
    heads.length = Math.min(heads.length, MAX_HEADS);
    return head;
  }

  #fetchPagesSync(plan: ReadHead): void {
    const from = plan.start * PAGE;
    const to = Math.min(this.#size, (plan.start + plan.span) * PAGE) - 1;
    const started = performance.now();
    const { body, size } = getRangeSync(this.#url, from, to);
    this.#size = size;
    const ended = performance.now();
    this.#counters.waitMs += ended - started;
    this.#counters.spans.push({ kind: 'page', start: started, end: ended });
    this.#counters.requests++;
    this.#counters.bytes += body.byteLength;
    for (let i = 0; i * PAGE < body.byteLength; i++) {
      if (!this.#pages.has(plan.start + i)) this.#pages.set(plan.start + i, body.subarray(i * PAGE, (i + 1) * PAGE));
    }
  }
}
