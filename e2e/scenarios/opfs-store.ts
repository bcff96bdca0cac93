// OpfsStore + IdbCatalog + Runtime in the dedicated worker: commit, reopen, verify, and tamper with the log file.
// Every scenario that opens a runtime closes it before returning, unless told to hold it (see `held`).
import { LSN, PageIdx, Snapshot } from '../../src/core/index.ts';
import { IdbCatalog, OpfsStore, type Catalog, type SlotStore } from '../../src/local/index.ts';
import { Runtime } from '../../src/runtime/index.ts';
import { expectedChecksum, fillPage, pageCountOf, patternPage, samePage, seedAt, type PageRange } from './page-pattern.ts';

/** Where a store lives: an OPFS directory and an IndexedDB catalog name; both default to "scion-e2e". */
export interface StoreLocation {
  directory?: string;
  catalog?: string;
  tag?: string;
}

/** The log's file name inside the store's directory; mirrors LOG_FILE in src/local/opfs-store.ts. */
export const LOG_FILE = 'volumes.log';
const DEFAULT_NAME = 'scion-e2e';

export interface TailDrop {
  offset: number;
  bytes: number;
  reason: string;
}

// Stores and runtimes kept open across scenario calls (the lock tests); `storeRelease` closes them.
const held: { close(): void }[] = [];

async function openRuntime(where: StoreLocation, drops: TailDrop[] = []): Promise<{ runtime: Runtime; store: SlotStore }> {
  const store = await OpfsStore.open({ directory: where.directory ?? DEFAULT_NAME, onTailDropped: (d) => drops.push(d) });
  let catalog: Catalog | undefined;
  try {
    catalog = await IdbCatalog.open(where.catalog ?? DEFAULT_NAME);
    return { runtime: await Runtime.open({ store, catalog }), store };
  } catch (e) {
    store.closeSync();
    catalog?.close();
    throw e;
  }
}

export interface CommitResult {
  vid: string;
  /** One entry per commit, in order: its LSN and the log's size once it was durable. */
  commits: { lsn: number; fileBytes: number }[];
}

/**
 * Opens the runtime, `tagOpen`s the tag (default "main"), and commits each range as one commit of the
 * pattern pages. Closes the runtime afterwards unless `hold` (then `storeRelease` closes it).
 */
export async function storeCommit(where: StoreLocation, ranges: PageRange[], options: { hold?: boolean } = {}): Promise<CommitResult> {
  const { runtime, store } = await openRuntime(where);
  try {
    const graft = await runtime.tagOpen(where.tag ?? 'main');
    const commits: CommitResult['commits'] = [];
    for (const range of ranges) {
      const writer = runtime.graftWriter(graft.local);
      // One scratch page: writePage copies what it is given.
      const scratch = new Uint8Array(4096);
      for (let idx = range.from; idx <= range.to; idx++) writer.writePage(PageIdx.parse(idx), fillPage(scratch, range.seed, idx));
      const head = Snapshot.head(writer.commit().snapshot);
      commits.push({ lsn: head?.lsn ?? 0, fileBytes: store.statsSync().fileBytes });
    }
    return { vid: graft.local, commits };
  } finally {
    if (options.hold) held.push(runtime);
    else runtime.close();
  }
}

export interface VerifyResult {
  vid: string;
  latestLsn: number | undefined;
  /** The LSN the pages were read at (the latest, or `at`). */
  readLsn: number;
  pageCount: number;
  checked: number;
  mismatchCount: number;
  /** Up to 10 page indexes whose bytes differ from the pattern. */
  mismatches: number[];
  checksum: string;
  expectedChecksum: string;
  /** Torn or corrupt tails the store cut off while opening. */
  tailDropped: TailDrop[];
  fileBytes: number;
  commits: number;
}

/**
 * Reopens the runtime, resolves the tag, and checks every page of the latest snapshot (or of `at`, by
 * volumeCheckout) against the pattern that `layers`, committed in order, leave behind.
 */
export async function storeVerify(where: StoreLocation, layers: PageRange[], options: { at?: number } = {}): Promise<VerifyResult> {
  const tailDropped: TailDrop[] = [];
  const { runtime, store } = await openRuntime(where, tailDropped);
  try {
    const vid = runtime.mustGetTag(where.tag ?? 'main');
    const latestLsn = store.latestLsnSync(vid);
    const snapshot = options.at === undefined ? runtime.graftSnapshot(vid) : runtime.volumeCheckout(vid, LSN.parse(options.at));
    const reader = runtime.volumeReader(snapshot);
    const expectedCount = pageCountOf(layers);
    const zero = new Uint8Array(4096);
    const scratch = new Uint8Array(4096);
    const mismatches: number[] = [];
    let mismatchCount = 0;
    // Check one page past the end too: it must read as zeros.
    const last = Math.max(reader.pageCount, expectedCount) + 1;
    for (let idx = 1; idx <= last; idx++) {
      const seed = seedAt(layers, idx);
      const want = seed === undefined ? zero : fillPage(scratch, seed, idx);
      if (!samePage(reader.readPage(PageIdx.parse(idx)), want)) {
        mismatchCount++;
        if (mismatches.length < 10) mismatches.push(idx);
      }
    }
    const stats = store.statsSync();
    return {
      vid,
      latestLsn,
      readLsn: Snapshot.head(snapshot)?.lsn ?? 0,
      pageCount: reader.pageCount,
      checked: last,
      mismatchCount,
      mismatches,
      checksum: runtime.snapshotChecksum(snapshot),
      expectedChecksum: expectedChecksum(layers),
      tailDropped,
      fileBytes: stats.fileBytes,
      commits: stats.commits,
    };
  } finally {
    runtime.close();
  }
}

/** Reads one page of the tag's latest snapshot; throws what the runtime throws (Corrupt, for one). */
export async function storeReadPage(where: StoreLocation, pageIdx: number): Promise<{ matchesSeed: number | undefined }> {
  const { runtime } = await openRuntime(where);
  try {
    const page = runtime.graftReader(runtime.mustGetTag(where.tag ?? 'main')).readPage(PageIdx.parse(pageIdx));
    const view = new DataView(page.buffer, page.byteOffset);
    const seed = view.getUint32(0, true);
    return { matchesSeed: samePage(page, patternPage(seed, pageIdx)) ? seed : undefined };
  } finally {
    runtime.close();
  }
}

/** Opens the OPFS store alone and keeps it open (its sync access handle locks the log file). */
export async function storeHold(where: StoreLocation = {}): Promise<{ medium: string; volumes: string[] }> {
  const store = await OpfsStore.open({ directory: where.directory ?? DEFAULT_NAME });
  held.push({ close: () => store.closeSync() });
  return { medium: store.medium, volumes: store.volumesSync() };
}

/** Closes everything held open by earlier scenarios; returns how many. */
export function storeRelease(): number {
  const n = held.length;
  for (const r of held.splice(0)) r.close();
  return n;
}

// ── Direct access to the log file (the store must be closed) ───────────────────────────────

async function withLogFile<T>(where: StoreLocation, fn: (file: FileSystemSyncAccessHandle) => T): Promise<T> {
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(where.directory ?? DEFAULT_NAME);
  const access = await (await dir.getFileHandle(LOG_FILE)).createSyncAccessHandle();
  try {
    const result = fn(access);
    access.flush();
    return result;
  } finally {
    access.close();
  }
}

export function logFileSize(where: StoreLocation = {}): Promise<number> {
  return withLogFile(where, (f) => f.getSize());
}

/** Cuts the log to `size` bytes, as a crash mid-append would leave it; returns the new size. */
export function logTruncate(where: StoreLocation, size: number): Promise<number> {
  return withLogFile(where, (f) => {
    f.truncate(size);
    return f.getSize();
  });
}

/** Appends raw bytes after the log's end; returns the new size. */
export function logAppend(where: StoreLocation, bytes: number[]): Promise<number> {
  return withLogFile(where, (f) => {
    f.write(Uint8Array.from(bytes), { at: f.getSize() });
    return f.getSize();
  });
}

/** Inverts the byte at `offset`; returns its old value. */
export function logFlipByte(where: StoreLocation, offset: number): Promise<number> {
  return withLogFile(where, (f) => {
    const b = new Uint8Array(1);
    if (f.read(b, { at: offset }) !== 1) throw new Error(`No byte at offset ${offset} (size ${f.getSize()})`);
    const old = b[0] as number;
    f.write(Uint8Array.of(old ^ 0xff), { at: offset });
    return old;
  });
}
