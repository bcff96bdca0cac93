// OpfsStore + IdbCatalog + Runtime in the dedicated worker: commit, reopen, verify, delete, migrate, and tamper with the store's files.
// Every scenario that opens a runtime closes it before returning, unless told to hold it (see `held`).
import { LSN, PageIdx, Snapshot } from '../../src/core/index.ts';
import { IdbCatalog, LogStore, MemoryDirectory, MemoryStore, OpfsStore, STORE_FILE_NAMES, type Catalog, type SlotStore } from '../../src/local/index.ts';
import { Runtime } from '../../src/runtime/index.ts';
import { expectedChecksum, fillPage, pageCountOf, patternPage, samePage, seedAt, type PageRange } from './page-pattern.ts';

/** Where a store lives: an OPFS directory and an IndexedDB catalog name; both default to "scion-e2e". */
export interface StoreLocation {
  directory?: string;
  catalog?: string;
  tag?: string;
}

const DEFAULT_NAME = 'scion-e2e';

export interface TailDrop {
  offset: number;
  bytes: number;
  reason: string;
}

// Stores and runtimes kept open across scenario calls (the lock tests); `storeRelease` closes them.
const held: { close(): void }[] = [];

async function openRuntime(where: StoreLocation, drops: TailDrop[] = [], salvage = false): Promise<{ runtime: Runtime; store: SlotStore }> {
  const store = await OpfsStore.open({ directory: where.directory ?? DEFAULT_NAME, onTailDropped: (d) => drops.push(d), salvage });
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
export async function storeVerify(where: StoreLocation, layers: PageRange[], options: { at?: number; salvage?: boolean } = {}): Promise<VerifyResult> {
  const tailDropped: TailDrop[] = [];
  const { runtime, store } = await openRuntime(where, tailDropped, options.salvage);
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

/** Deletes the tag's graft and its local data, then runs the store's upkeep to its end; returns the bytes left. */
export async function storeDeleteTag(where: StoreLocation): Promise<{ before: number; after: number; files: Record<string, number> }> {
  const { runtime, store } = await openRuntime(where);
  try {
    const before = store.statsSync().fileBytes;
    await runtime.graftDelete(runtime.mustGetTag(where.tag ?? 'main'));
    while (store.compactStepSync()) { /* until nothing is left to reclaim */ }
    return { before, after: store.statsSync().fileBytes, files: await storeFileSizes(where) };
  } finally {
    runtime.close();
  }
}

/**
 * Writes what a Scion of format 1 would have left: the tag and graft in the catalog, and the commits
 * of `ranges` with their pages in `volumes.log` (no format-2 files). Returns the local volume id.
 */
export async function legacyCommit(where: StoreLocation, ranges: PageRange[]): Promise<string> {
  // Commit through a runtime on a memory store, then copy its log record by record into a format-1 file.
  const dir = new MemoryDirectory();
  const memory = MemoryStore.open(dir);
  const catalog = await IdbCatalog.open(where.catalog ?? DEFAULT_NAME);
  const runtime = await Runtime.open({ store: memory, catalog });
  const graft = await runtime.tagOpen(where.tag ?? 'main');
  for (const range of ranges) {
    const writer = runtime.graftWriter(graft.local);
    const scratch = new Uint8Array(4096);
    for (let idx = range.from; idx <= range.to; idx++) writer.writePage(PageIdx.parse(idx), fillPage(scratch, range.seed, idx));
    writer.commit();
  }
  const root = await navigator.storage.getDirectory();
  const opfs = await root.getDirectoryHandle(where.directory ?? DEFAULT_NAME, { create: true });
  const access = await (await opfs.getFileHandle(STORE_FILE_NAMES.legacy, { create: true })).createSyncAccessHandle();
  try {
    const v1 = LogStore.openSync(access, { medium: 'opfs' });
    for (let lsn = LSN.FIRST; lsn <= (memory.latestLsnSync(graft.local) ?? 0); lsn = LSN.next(lsn)) {
      const commit = memory.getCommitSync(graft.local, lsn);
      if (!commit?.segment) continue;
      v1.appendCommitsSync([{ commit, pages: memory.readPagesSync(commit.segment.sid, commit.segment.pages) }]);
    }
  } finally {
    access.close();
    runtime.close();
  }
  return graft.local;
}

// ── Direct access to the store's files (the store must be closed) ──────────────────────────

/** Sizes of every file in the store's directory. */
export async function storeFileSizes(where: StoreLocation = {}): Promise<Record<string, number>> {
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(where.directory ?? DEFAULT_NAME);
  const sizes: Record<string, number> = {};
  for await (const [name, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
    if (handle.kind === 'file') sizes[name] = (await (handle as FileSystemFileHandle).getFile()).size;
  }
  return sizes;
}

/** Which file: the page slots, the high-water mark, or the active journal (the one of the two that holds bytes). */
export type StoreFile = 'pages' | 'mark' | 'journal';

async function withStoreFile<T>(where: StoreLocation, which: StoreFile, fn: (file: FileSystemSyncAccessHandle) => T): Promise<T> {
  let name: string = which === 'pages' ? STORE_FILE_NAMES.pages : which === 'mark' ? STORE_FILE_NAMES.mark : STORE_FILE_NAMES.journals[0];
  if (which === 'journal') {
    const sizes = await storeFileSizes(where);
    name = STORE_FILE_NAMES.journals.find((j) => (sizes[j] ?? 0) > 0) ?? name;
  }
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(where.directory ?? DEFAULT_NAME);
  const access = await (await dir.getFileHandle(name)).createSyncAccessHandle();
  try {
    const result = fn(access);
    access.flush();
    return result;
  } finally {
    access.close();
  }
}

export function storeFileSize(where: StoreLocation, which: StoreFile): Promise<number> {
  return withStoreFile(where, which, (f) => f.getSize());
}

/** Cuts the file to `size` bytes; returns the new size. */
export function storeFileTruncate(where: StoreLocation, which: StoreFile, size: number): Promise<number> {
  return withStoreFile(where, which, (f) => {
    f.truncate(size);
    return f.getSize();
  });
}

/** Appends raw bytes after the file's end, as a write torn by a crash would; returns the new size. */
export function storeFileAppend(where: StoreLocation, which: StoreFile, bytes: number[]): Promise<number> {
  return withStoreFile(where, which, (f) => {
    f.write(Uint8Array.from(bytes), { at: f.getSize() });
    return f.getSize();
  });
}

/** Inverts the byte at `offset` (negative: from the end); returns its old value. */
export function storeFileFlipByte(where: StoreLocation, which: StoreFile, offset: number): Promise<number> {
  return withStoreFile(where, which, (f) => {
    const at = offset < 0 ? f.getSize() + offset : offset;
    const b = new Uint8Array(1);
    if (f.read(b, { at }) !== 1) throw new Error(`No byte at offset ${at} (size ${f.getSize()})`);
    const old = b[0] as number;
    f.write(Uint8Array.of(old ^ 0xff), { at });
    return old;
  });
}
