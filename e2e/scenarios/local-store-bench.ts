// One benchmark run of a LocalStore under the Runtime, timed inside the worker (bench/local-store.bench.ts).
// Catalog: MemoryCatalog, so only the store's cost is measured. Page contents are prepared before timing.
import { PageIdx } from '../../src/core/index.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore, OpfsStore, type LocalStore } from '../../src/local/index.ts';
import { Runtime } from '../../src/runtime/index.ts';
import { patternPage } from './page-pattern.ts';

export interface LocalStoreBenchOptions {
  medium: 'opfs' | 'memory';
  /** Pages written in the one large commit, then read back; default 10,000. */
  pages?: number;
  /** One-page commits, one after another; default 1,000. */
  commits?: number;
}

export interface LocalStoreBenchResult {
  medium: 'opfs' | 'memory';
  pages: number;
  commits: number;
  /** New writer, `pages` writePage calls, commit (durable on return). */
  writeMs: number;
  /** Close and reopen store and runtime right after the large commit (the last record's pages are verified). */
  reopenMs: number;
  /** readPage of every page, on the reopened runtime. */
  readMs: number;
  /** `commits` transactions of one page each. */
  commitsMs: number;
  /** Pages read back whose index word is wrong: must be 0, or the numbers mean nothing. */
  readMismatches: number;
  fileBytes: number;
}

const BENCH_DIRECTORY = 'scion-bench';

async function removeDirectory(name: string): Promise<void> {
  const root = await navigator.storage.getDirectory();
  try {
    await root.removeEntry(name, { recursive: true });
  } catch (e) {
    if ((e as Error).name !== 'NotFoundError') throw e;
  }
}

/** Opens a fresh store of the medium; `reopen` restarts it on the same bytes. */
async function freshStore(medium: 'opfs' | 'memory'): Promise<{ open(): Promise<LocalStore>; cleanup(): Promise<void> }> {
  if (medium === 'opfs') {
    await removeDirectory(BENCH_DIRECTORY);
    return { open: () => OpfsStore.open({ directory: BENCH_DIRECTORY }), cleanup: () => removeDirectory(BENCH_DIRECTORY) };
  }
  let file = new MemoryDirectory();
  let opened = false;
  return {
    async open() {
      // A closed store's files refuse reads: restart on a copy of its bytes, as MemoryStore's docs suggest.
      if (opened) file = file.copy();
      opened = true;
      return MemoryStore.open(file);
    },
    cleanup: async () => {},
  };
}

export async function benchLocalStore(options: LocalStoreBenchOptions): Promise<LocalStoreBenchResult> {
  const { medium, pages = 10_000, commits = 1_000 } = options;
  const prepared = Array.from({ length: pages }, (_, i) => patternPage(1, i + 1));
  const onePage = patternPage(2, 1);
  const storage = await freshStore(medium);
  // One catalog for both runtimes: Runtime.close closes it, and MemoryCatalog's close is a no-op.
  const catalog = new MemoryCatalog();
  let runtime = await Runtime.open({ store: await storage.open(), catalog });
  try {
    const bulk = await runtime.tagOpen('bulk');
    let t = performance.now();
    const writer = runtime.graftWriter(bulk.local);
    for (let i = 0; i < pages; i++) writer.writePage(PageIdx.parse(i + 1), prepared[i] as Uint8Array);
    writer.commit();
    const writeMs = performance.now() - t;

    runtime.close();
    t = performance.now();
    const store = await storage.open();
    runtime = await Runtime.open({ store, catalog });
    const reopenMs = performance.now() - t;

    t = performance.now();
    const reader = runtime.graftReader(bulk.local);
    let readMismatches = 0;
    for (let i = 1; i <= pages; i++) {
      const page = reader.readPage(PageIdx.parse(i));
      // Word 1 of a pattern page is its index (little-endian): a cheap check that keeps the read honest.
      if ((page[4] as number) + (page[5] as number) * 256 + (page[6] as number) * 65536 !== i) readMismatches++;
    }
    const readMs = performance.now() - t;

    const small = await runtime.tagOpen('small');
    t = performance.now();
    for (let c = 0; c < commits; c++) {
      const w = runtime.graftWriter(small.local);
      w.writePage(PageIdx.FIRST, onePage);
      w.commit();
    }
    const commitsMs = performance.now() - t;
    return { medium, pages, commits, writeMs, reopenMs, readMs, commitsMs, readMismatches, fileBytes: store.statsSync().fileBytes };
  } finally {
    runtime.close();
    await storage.cleanup();
  }
}

export interface OpfsRawBenchResult {
  pages: number;
  /** One write of all pages, then flush. */
  writeMs: number;
  /** One read call per 4 KiB page. */
  readPagesMs: number;
  /** Read calls of 1 MiB. */
  readChunksMs: number;
  /** `flushes` times: write one 4 KiB page at the end, flush. */
  appendFlushMs: number;
  flushes: number;
}

/** The floor under OpfsStore: the same I/O pattern on a bare FileSystemSyncAccessHandle. */
export async function benchOpfsRaw(options: { pages?: number; flushes?: number } = {}): Promise<OpfsRawBenchResult> {
  const { pages = 10_000, flushes = 1_000 } = options;
  const data = new Uint8Array(pages * 4096);
  for (let i = 0; i < pages; i++) data.set(patternPage(3, i + 1), i * 4096);
  await removeDirectory(BENCH_DIRECTORY);
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(BENCH_DIRECTORY, { create: true });
  const file = await (await dir.getFileHandle('raw.bin', { create: true })).createSyncAccessHandle();
  try {
    let t = performance.now();
    file.write(data, { at: 0 });
    file.flush();
    const writeMs = performance.now() - t;

    const page = new Uint8Array(4096);
    t = performance.now();
    for (let i = 0; i < pages; i++) file.read(page, { at: i * 4096 });
    const readPagesMs = performance.now() - t;

    const chunk = new Uint8Array(1 << 20);
    t = performance.now();
    for (let at = 0; at < data.byteLength; at += chunk.byteLength) file.read(chunk, { at });
    const readChunksMs = performance.now() - t;

    t = performance.now();
    for (let i = 0; i < flushes; i++) {
      file.write(page, { at: file.getSize() });
      file.flush();
    }
    const appendFlushMs = performance.now() - t;
    return { pages, writeMs, readPagesMs, readChunksMs, appendFlushMs, flushes };
  } finally {
    file.close();
    await removeDirectory(BENCH_DIRECTORY);
  }
}
