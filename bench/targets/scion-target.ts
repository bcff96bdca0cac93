// Scion itself: its engine (Runtime over an OPFS page store and an IndexedDB catalog) and its VFS, in the bench
// worker under the same sqlite-wasm build as the peers, with no client or comlink in between: VFS against VFS.
// Two targets: `scion` (default read oracle: up to 960 pages read ahead while misses move forward) for every
// group, and `scion-no-oracle` (one frame per miss) for the cold reads only (the oracle never acts on local data).
// Each timed open builds its own Runtime on a fresh OPFS directory (and catalog), so cold means cold.
import type { Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { PAGE_SIZE, PageCount, PageIdx, RemoteKey, SegmentId, UploadBody, VolumeId, type PresignOp, type PresignedRequest } from '../../src/core/index.ts';
import { IdbCatalog, MemoryCatalog, MemoryStore, OpfsStore } from '../../src/local/index.ts';
import { PresignClient, S3Remote, type RemoteRequestEvent } from '../../src/remote/index.ts';
import { Runtime } from '../../src/runtime/index.ts';
import { installScionVfs, openScionDb, planSqliteFrames } from '../../src/vfs/index.ts';
import { importSqliteFile } from '../../worker/import-file.ts';
import { normalizeSqliteFile, writeSqliteFile } from '../../worker/sqlite-file.ts';
import { sequentialRoundTrips, type Span } from '../round-trips.ts';
import { deleteIdb, removeEntry } from './browser-storage.ts';
import { opfsDirectoryBytes, type BenchTarget, type Db, type ExtraSample, type RemoteDataset, type TargetFactory, type Traffic } from './target.ts';

/** Every OPFS entry and IndexedDB catalog of this target starts with it; cleanup() removes them all. */
const PREFIX = 'bench-scion';
const EXISTING_DIR = `${PREFIX}-existing`;
/** The storage-over-time database: kept across workers (openKept). */
const KEPT_DIR = `${PREFIX}-kept`;
/** Written by prepareRemote, read by openRemote and runExtra in later workers. */
const REMOTE_INFO = `${PREFIX}-remote.json`;
const REMOTE_TAG = 'remote';

/** What prepareRemote left: the pushed volume and how to reach the bucket. */
interface RemoteInfo {
  vid: VolumeId;
  datasetUrl: string;
  datasetBytes: number;
  presignUrl: string;
  token: string;
  /** Bytes of the pushed segment (compressed frames). */
  pushedBytes: number;
}

/** Bucket requests (onRequest of S3Remote) and presign-service round trips, counted apart; the spans of both. */
class Counter {
  requests = 0;
  bytes = 0;
  waitMs = 0;
  presign = 0;
  presignBytes = 0;
  spans: (Span & { kind: string })[] = [];
  /** Bucket requests per object kind (commit record, latest hint, segment), for results.json. */
  byKind = { commit: 0, latest: 0, segment: 0, name: 0, fork: 0, compacted: 0, list: 0 };
  reset(): void {
    this.requests = this.bytes = this.waitMs = this.presign = this.presignBytes = 0;
    this.spans = [];
    this.byKind = { commit: 0, latest: 0, segment: 0, name: 0, fork: 0, compacted: 0, list: 0 };
  }
  onRequest = (e: RemoteRequestEvent): void => {
    this.requests++;
    // A LIST names a prefix (a volume's log), not an object.
    const kind = e.key.endsWith('/') ? 'list' : RemoteKey.parse(e.key).kind;
    this.byKind[kind]++;
    this.bytes += e.bytes;
    this.waitMs += e.ms;
    const end = performance.now();
    this.spans.push({ kind, start: end - e.ms, end });
  };
  /** `bytes`: the answer's length (a clone's carries commit records and hot frames). */
  onPresign(start: number, bytes = 0): void {
    this.presign++;
    this.presignBytes += bytes;
    this.spans.push({ kind: 'presign', start, end: performance.now() });
  }
  get roundTrips(): number {
    return sequentialRoundTrips(this.spans);
  }
  traffic(): Traffic {
    return {
      requests: this.requests, bytes: this.bytes, waitMs: this.waitMs, presignRequests: this.presign, presignBytes: this.presignBytes, roundTrips: this.roundTrips,
      byKind: this.byKind, spans: this.spans,
    };
  }
  /** For a sample's `detail`. */
  detail(): Record<string, number> {
    return { presignRequests: this.presign, commitRequests: this.byKind.commit, latestRequests: this.byKind.latest, segmentRequests: this.byKind.segment };
  }
}

// The presign client signs with fetch (counted through its `fetch` option) and, on the blocking miss path,
// with a synchronous XHR: count and time those by wrapping XMLHttpRequest once per worker.
let presignEndpoint: string | undefined;
let presignCounter: Counter | undefined;
let xhrPatched = false;
const presignXhrs = new WeakSet<XMLHttpRequest>();
function countPresignXhr(): void {
  if (xhrPatched || typeof XMLHttpRequest === 'undefined') return;
  xhrPatched = true;
  const open = XMLHttpRequest.prototype.open as (this: XMLHttpRequest, ...args: unknown[]) => void;
  XMLHttpRequest.prototype.open = function (this: XMLHttpRequest, ...args: unknown[]): void {
    if (presignEndpoint && String(args[1]) === presignEndpoint) presignXhrs.add(this);
    open.apply(this, args);
  } as typeof XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send as (this: XMLHttpRequest, ...args: unknown[]) => void;
  XMLHttpRequest.prototype.send = function (this: XMLHttpRequest, ...args: unknown[]): void {
    if (!presignXhrs.has(this) || !presignCounter) return send.apply(this, args);
    const started = performance.now(); // synchronous: send returns with the answer
    try {
      send.apply(this, args);
    } finally {
      presignCounter.onPresign(started);
    }
  } as typeof XMLHttpRequest.prototype.send;
}

function makeRemote(info: { presignUrl: string; token: string }, counter?: Counter): S3Remote {
  countPresignXhr();
  if (counter) {
    presignEndpoint = info.presignUrl;
    presignCounter = counter;
  }
  const presign = new PresignClient({
    endpoint: info.presignUrl,
    token: info.token,
    fetch: async (input, init) => {
      const started = performance.now();
      let res: Response | undefined;
      try {
        return (res = await fetch(input, init));
      } finally {
        counter?.onPresign(started, Number(res?.headers.get('content-length') ?? 0));
      }
    },
  });
  return new S3Remote({ presign, ...(counter ? { onRequest: counter.onRequest } : {}) });
}

async function scionConfig(): Promise<{ presignUrl: string; token: string }> {
  const res = await fetch('/scion-config.json');
  if (!res.ok) throw new Error(`GET /scion-config.json: HTTP ${res.status}`);
  const c = (await res.json()) as { presignUrl?: string; token?: string };
  if (!c.presignUrl) throw new Error('/scion-config.json has no presignUrl');
  return { presignUrl: c.presignUrl, token: c.token ?? '' };
}

async function opfsRoot(): Promise<FileSystemDirectoryHandle> {
  return navigator.storage.getDirectory();
}

async function readRemoteInfo(): Promise<RemoteInfo | undefined> {
  try {
    const file = await (await (await opfsRoot()).getFileHandle(REMOTE_INFO)).getFile();
    return JSON.parse(await file.text()) as RemoteInfo;
  } catch (e) {
    if ((e as Error).name === 'NotFoundError') return undefined;
    throw e;
  }
}

async function mustRemoteInfo(): Promise<RemoteInfo> {
  const info = await readRemoteInfo();
  if (!info) throw new Error('scion: no remote volume; prepareRemote must run first');
  return info;
}

async function writeRemoteInfo(info: RemoteInfo): Promise<void> {
  const handle = await (await opfsRoot()).getFileHandle(REMOTE_INFO, { create: true });
  const w = await handle.createWritable();
  await w.write(JSON.stringify(info));
  await w.close();
}

let uniq = 0;
const freshName = (kind: string): string => `${PREFIX}-${kind}-${Date.now().toString(36)}-${(uniq++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** A VFS name free in this worker's SQLite: each timed open installs its own VFS on its own Runtime. */
function freeVfsName(sqlite3: Sqlite3Static): string {
  let name = `scion-bench-${uniq++}`;
  while (sqlite3.capi.sqlite3_vfs_find(name)) name = `scion-bench-${uniq++}`;
  return name;
}

/** The dataset's pages, for the push/pull workloads (realistic content: they compress as real pages do). */
async function datasetPages(url: string): Promise<Uint8Array[]> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const pages: Uint8Array[] = [];
  for (let o = 0; o + PAGE_SIZE <= bytes.byteLength; o += PAGE_SIZE) pages.push(bytes.subarray(o, o + PAGE_SIZE));
  return pages;
}

/** Page `i` (1-based) of a synthetic volume built from dataset pages, changed in its last byte by `salt`. */
function pageFor(pages: Uint8Array[], i: number, salt: number): Uint8Array {
  const p = (pages[(i - 1) % pages.length] as Uint8Array).slice();
  p[PAGE_SIZE - 1] = ((p[PAGE_SIZE - 1] as number) ^ (salt & 0xff)) & 0xff;
  return p;
}

function writePages(rt: Runtime, vid: VolumeId, idxs: Iterable<number>, page: (i: number) => Uint8Array, pageCount?: number): void {
  const w = rt.graftWriter(vid);
  for (const i of idxs) w.writePage(PageIdx.parse(i), page(i));
  if (pageCount !== undefined) w.softTruncate(PageCount.parse(pageCount));
  w.commit();
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, k) => from + k);
const k = (n: number): string => n.toLocaleString('en');
const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(0)} MiB`;

/** Pull sizes (remote commits of one page); push sizes come with the job (bench/config.ts). */
const PULL_COMMITS = [1, 10, 50] as const;
/** The volume the pulls run against: 2,500 pages (~10 MiB), so O(database) would show. */
const PULL_BASE_PAGES = 2_500;
const GROUP = 'push/pull';
const RAW_PUT = 'raw presigned PUT';

function createScion(name: string, options: { maxReadAheadPages?: number; local: boolean }): TargetFactory {
  return (sqlite3): BenchTarget => {
    /** Runtimes this job opened (closed with their connection, or at dispose) and directories to delete. */
    const runtimes = new Set<Runtime>();
    const scratch: string[] = [];
    const counter = new Counter();

    const track = (rt: Runtime): Runtime => (runtimes.add(rt), rt);
    /** Closing the connection closes its Runtime, releasing the OPFS handle before the next open. */
    const bindClose = (db: Db, rt: Runtime): Db => {
      const close = db.close.bind(db);
      (db as { close: () => unknown }).close = () => {
        try {
          return close();
        } finally {
          rt.close();
          runtimes.delete(rt);
        }
      };
      return db;
    };
    const openLocal = async (directory: string, remote?: S3Remote, autoGc?: { everyCommits: number }): Promise<Runtime> => {
      // As the DB worker does: the catalog (IndexedDB) opens beside the store (OPFS).
      const [store, catalog] = await Promise.all([
        OpfsStore.open({ directory }).then((s) => (performance.mark('store opened'), s)),
        IdbCatalog.open(directory).then((c) => (performance.mark('catalog opened'), c)),
      ]);
      const rt = track(await Runtime.open({ store, catalog, ...(remote ? { remote } : {}), ...(autoGc ? { autoGc } : {}), planFrames: planSqliteFrames }));
      performance.mark('runtime opened');
      return rt;
    };
    const install = (rt: Runtime) =>
      installScionVfs(sqlite3, rt, { name: freeVfsName(sqlite3), ...(options.maxReadAheadPages === undefined ? {} : { maxReadAheadPages: options.maxReadAheadPages }) });

    const importExisting = async (dbName: string, file: Uint8Array | Blob): Promise<void> => {
      await removeEntry(EXISTING_DIR);
      await deleteIdb(EXISTING_DIR);
      const rt = await openLocal(EXISTING_DIR);
      try {
        const graft = await rt.tagOpen(dbName);
        await importSqliteFile({ sqlite3, vfs: install(rt), runtime: rt }, graft.local, file, { between: async (done, total) => void (done === total && performance.mark('import staged')) });
      } finally {
        rt.close();
        runtimes.delete(rt);
      }
    };

    const target: BenchTarget = {
      name,

      async prepareRemote(dataset: RemoteDataset) {
        const known = await readRemoteInfo();
        if (known && known.datasetUrl === dataset.url && known.datasetBytes === dataset.bytes) return; // the other Scion target pushed it
        const config = await scionConfig();
        const res = await fetch(dataset.url);
        if (!res.ok) throw new Error(`GET ${dataset.url}: HTTP ${res.status}`);
        const file = normalizeSqliteFile(sqlite3, new Uint8Array(await res.arrayBuffer()));
        // The publisher is another device: an in-memory runtime that imports the file and pushes it.
        const rt = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote: makeRemote(config), planFrames: planSqliteFrames });
        try {
          const graft = await rt.graftOpen();
          writeSqliteFile(rt, graft.local, file.bytes);
          const pushed = await rt.graftPush(graft.local);
          if (pushed.outcome !== 'pushed') throw new Error(`scion: pushing the dataset ended ${pushed.outcome}`);
          await writeRemoteInfo({ vid: graft.remote, datasetUrl: dataset.url, datasetBytes: dataset.bytes, ...config, pushedBytes: pushed.bytes });
        } finally {
          rt.close();
        }
      },

      async openRemote(dataset) {
        counter.reset();
        const info = await mustRemoteInfo();
        performance.mark('remote info read');
        const directory = freshName('cold');
        scratch.push(directory);
        const rt = await openLocal(directory, makeRemote({ presignUrl: dataset.network.presignUrl, token: info.token }, counter));
        const vfs = install(rt);
        performance.mark('vfs installed');
        // Commit records only (probes for the log's end), then the hot frames (page 1 + B-tree interior pages).
        const graft = await rt.graftClone(info.vid, { tag: REMOTE_TAG });
        performance.mark('cloned');
        await rt.graftHydrate(graft.local, { hotOnly: true });
        performance.mark('hot frames cached');
        const db = openScionDb(sqlite3, vfs, REMOTE_TAG);
        performance.mark('db opened');
        return bindClose(db, rt);
      },
      traffic: () => counter.traffic(),

      async dispose() {
        for (const rt of runtimes) rt.close();
        runtimes.clear();
        for (const dir of scratch.splice(0)) {
          await removeEntry(dir);
          await deleteIdb(dir);
        }
      },

      async cleanup() {
        const root = await opfsRoot();
        const names: string[] = [];
        for await (const n of (root as unknown as { keys(): AsyncIterable<string> }).keys()) if (n.startsWith(PREFIX)) names.push(n);
        for (const n of names) await removeEntry(n);
        for (const db of await indexedDB.databases()) if (db.name?.startsWith(PREFIX)) await deleteIdb(db.name);
      },
    };

    if (!options.local) return target;

    return {
      ...target,

      async open(dbName) {
        const directory = freshName('oltp');
        scratch.push(directory);
        const rt = await openLocal(directory);
        const vfs = install(rt);
        await rt.tagOpen(dbName);
        return bindClose(openScionDb(sqlite3, vfs, dbName), rt);
      },

      async openKept(dbName, fresh) {
        if (fresh) {
          await removeEntry(KEPT_DIR);
          await deleteIdb(KEPT_DIR);
        }
        // As the DB worker runs it: automatic local GC every 256 commits.
        const rt = await openLocal(KEPT_DIR, undefined, { everyCommits: 256 });
        const vfs = install(rt);
        await rt.tagOpen(dbName);
        performance.mark('vfs installed');
        const db = openScionDb(sqlite3, vfs, dbName);
        performance.mark('db opened');
        return bindClose(db, rt);
      },
      keptBytes: () => opfsDirectoryBytes(KEPT_DIR),
      async settle() {
        for (const rt of runtimes) await rt.storeUpkeep();
      },

      // As db.import does it: staged in steps, checked through the VFS, then committed.
      async prepareExisting(dbName, bytes) {
        await importExisting(dbName, bytes);
      },
      async prepareExistingFile(dbName, file) {
        await importExisting(dbName, file);
      },

      existingBytes: () => opfsDirectoryBytes(EXISTING_DIR),

      // As the DB worker runs it (automatic local GC), to the bench bucket over loopback.
      async pushExisting(dbName) {
        const rt = await openLocal(EXISTING_DIR, makeRemote(await scionConfig()), { everyCommits: 256 });
        try {
          const vid = rt.tagGet(dbName);
          if (!vid) throw new Error(`${name}: ${dbName} was not imported`);
          const opfsBefore = await opfsDirectoryBytes(EXISTING_DIR);
          const started = performance.now();
          const pushed = await rt.graftPush(vid);
          const ms = performance.now() - started;
          if (pushed.outcome !== 'pushed') throw new Error(`${name}: the first push of ${dbName} ended ${pushed.outcome}`);
          await rt.hintsSettled();
          await rt.storeUpkeep();
          return { ms, pages: pushed.pages, uploadedBytes: pushed.bytes, opfsBefore, opfsAfter: await opfsDirectoryBytes(EXISTING_DIR) };
        } finally {
          rt.close();
          runtimes.delete(rt);
        }
      },

      async openExisting(dbName) {
        const rt = await openLocal(EXISTING_DIR);
        if (!rt.tagGet(dbName)) throw new Error(`${name}: ${dbName} was not imported`);
        const vfs = install(rt);
        performance.mark('vfs installed');
        const db = openScionDb(sqlite3, vfs, dbName);
        performance.mark('db opened');
        return bindClose(db, rt);
      },

      async runExtra(run, network, { pushPages }) {
        const info = await mustRemoteInfo();
        /** Timed clients go over `network`; untimed setup (another device's pushes) over loopback. */
        const over = { presignUrl: network.presignUrl, token: info.token };
        const pages = await datasetPages(info.datasetUrl);
        const samples: ExtraSample[] = [];
        const presign = new PresignClient({ endpoint: over.presignUrl, token: over.token });

        // ── Push N changed pages, against one presigned PUT of N × 4 KiB ──
        for (const n of pushPages) {
          const workload = `push ${k(n)} changed pages (${mib(n * PAGE_SIZE) === '0 MiB' ? `${k(n * PAGE_SIZE)} B` : mib(n * PAGE_SIZE)} of pages)`;
          const raw = async (): Promise<void> => {
            const body = new Uint8Array(n * PAGE_SIZE);
            for (let i = 1; i <= n; i++) body.set(pageFor(pages, i, run + 1), (i - 1) * PAGE_SIZE);
            const sid = SegmentId.random();
            const vid = VolumeId.random();
            const ops: PresignOp[] = [{ op: 'putSegment', vid, sid, upload: UploadBody.of(body) }, { op: 'deleteSegment', vid, sid }];
            const [put, del] = (await presign.sign(ops)) as [PresignedRequest, PresignedRequest];
            const started = performance.now();
            const res = await fetch(put.url, { method: put.method, headers: put.headers, body });
            const ms = performance.now() - started;
            if (!res.ok) throw new Error(`raw PUT: HTTP ${res.status}`);
            samples.push({ group: GROUP, workload, target: RAW_PUT, unit: 'ms', value: ms, requests: 1, roundTrips: 1, bytes: body.byteLength });
            await fetch(del.url, { method: del.method, headers: del.headers }); // untimed: keep the bucket small
          };
          const scion = async (): Promise<void> => {
            const directory = freshName('push');
            scratch.push(directory);
            const pushCounter = new Counter();
            const rt = await openLocal(directory, makeRemote(over, pushCounter));
            try {
              // Untimed: a volume of N pages, pushed; then the same N pages changed locally.
              const graft = await rt.graftOpen();
              writePages(rt, graft.local, range(1, n), (i) => pageFor(pages, i, 0), n);
              if ((await rt.graftPush(graft.local)).outcome !== 'pushed') throw new Error('scion: base push failed');
              writePages(rt, graft.local, range(1, n), (i) => pageFor(pages, i, run + 1));
              pushCounter.reset();
              const started = performance.now();
              const pushed = await rt.graftPush(graft.local);
              const ms = performance.now() - started;
              if (pushed.outcome !== 'pushed' || pushed.pages !== n) throw new Error(`scion: push of ${n} pages: ${JSON.stringify(pushed)}`);
              samples.push({
                group: GROUP, workload, target: name, unit: 'ms', value: ms, requests: pushCounter.requests, roundTrips: pushCounter.roundTrips, bytes: pushCounter.bytes,
                detail: { ...pushCounter.detail(), segmentBytes: pushed.bytes, pageBytes: n * PAGE_SIZE },
              });
            } finally {
              rt.close();
              runtimes.delete(rt);
            }
          };
          // Alternate which goes first, as the runner does for targets.
          for (const step of run % 2 === 1 ? [scion, raw] : [raw, scion]) await step();
        }

        // ── Pull after N remote commits (1 page each) by another runtime ──
        const writer = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote: makeRemote(info), planFrames: planSqliteFrames });
        const directory = freshName('pull');
        scratch.push(directory);
        const pullCounter = new Counter();
        const reader = await openLocal(directory, makeRemote(over, pullCounter));
        try {
          const w = await writer.graftOpen();
          writePages(writer, w.local, range(1, PULL_BASE_PAGES), (i) => pageFor(pages, i, 0), PULL_BASE_PAGES);
          if ((await writer.graftPush(w.local)).outcome !== 'pushed') throw new Error('scion: pull base push failed');
          const r = await reader.graftClone(w.remote);
          let salt = 1;
          for (const n of PULL_COMMITS) {
            for (let c = 0; c < n; c++) {
              const idx = 1 + ((salt * 7919) % PULL_BASE_PAGES);
              writePages(writer, w.local, [idx], (i) => pageFor(pages, i, salt++));
              if ((await writer.graftPush(w.local)).outcome !== 'pushed') throw new Error('scion: writer push failed');
            }
            // The writer's last hint is written after its push resolved: a reader elsewhere sees it landed.
            await writer.hintsSettled();
            pullCounter.reset();
            const started = performance.now();
            const pulled = await reader.graftPull(r.local);
            const ms = performance.now() - started;
            if (pulled.outcome !== 'pulled' || pulled.to - (pulled.from ?? 0) !== n) throw new Error(`scion: pull after ${n} commits: ${JSON.stringify(pulled)}`);
            samples.push({
              group: GROUP, workload: `pull after ${n} remote commit${n === 1 ? '' : 's'} of 1 page (${mib(PULL_BASE_PAGES * PAGE_SIZE)} volume)`,
              target: name, unit: 'ms', value: ms, requests: pullCounter.requests, roundTrips: pullCounter.roundTrips, bytes: pullCounter.bytes,
              detail: { ...pullCounter.detail(), commits: n },
            });
          }
        } finally {
          writer.close();
          reader.close();
          runtimes.delete(reader);
        }
        return samples;
      },
    };
  };
}

export const createScionTarget = createScion('scion', { local: true });
export const createScionNoOracleTarget = createScion('scion, no read oracle', { maxReadAheadPages: 0, local: false });
