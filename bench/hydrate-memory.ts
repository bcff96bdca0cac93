// Peak memory of hydrating a lazily cloned volume, in Node: a publisher pushes the dataset to a memory
// bucket, then a new device clones it (commit records only) and hydrates every page into a store whose
// page file is on disk (so the pages it caches are not counted as memory). Reported: the peak of JS heap
// + ArrayBuffers above the device's state just before the hydrate, sampled every 5 ms and at each
// progress event. `node --expose-gc --import tsx bench/hydrate-memory.ts [MB]` (default 200; build
// the dataset first: `npx tsx bench/dataset.ts 200`).
import { mkdtempSync, openSync, readSync, writeSync, ftruncateSync, fstatSync, fsyncSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { MemoryCatalog, MemoryDirectory, MemoryStore, SlotStore, type SyncFile } from '../src/local/index.ts';
import { MemoryRemote } from '../src/remote/index.ts';
import { Runtime } from '../src/runtime/index.ts';
import { planSqliteFrames } from '../src/vfs/index.ts';
import { writeSqliteFile } from '../worker/sqlite-file.ts';

const MIB = 1024 * 1024;
const mb = Number(process.argv[2] ?? 200);
const file = new Uint8Array(readFileSync(new URL(`./.data/issues-${mb}mb-v1.db`, import.meta.url)));
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** A SyncFile on a real file. */
function diskFile(path: string): SyncFile {
  const fd = openSync(path, 'w+');
  return {
    read: (buffer, { at }) => readSync(fd, buffer, 0, buffer.byteLength, at),
    write: (buffer, { at }) => writeSync(fd, buffer, 0, buffer.byteLength, at),
    truncate: (size) => ftruncateSync(fd, size),
    getSize: () => fstatSync(fd).size,
    flush: () => fsyncSync(fd),
    close: () => closeSync(fd),
  };
}

const bucket = new MemoryRemote();
const publisher = await Runtime.open({ store: MemoryStore.open(new MemoryDirectory()), catalog: new MemoryCatalog(), remote: bucket, planFrames: planSqliteFrames });
const published = await publisher.graftOpen();
writeSqliteFile(publisher, published.local, file);
const pushed = await publisher.graftPush(published.local);
if (pushed.outcome !== 'pushed') throw new Error(`push ended ${pushed.outcome}`);
publisher.close();

const dir = mkdtempSync(join(tmpdir(), 'scion-hydrate-'));
const memory = new MemoryDirectory();
const store = SlotStore.openSync({ pages: diskFile(join(dir, 'pages.v2')), journals: memory.journals, mark: memory.mark }, { medium: 'memory' });
const device = await Runtime.open({ store, catalog: new MemoryCatalog(), remote: bucket });
const clone = await device.graftClone(published.remote);
gc();
const before = used();
let peak = before;
const sample = () => void (peak = Math.max(peak, used()));
const timer = setInterval(sample, 5);
const started = performance.now();
const result = await device.graftHydrate(clone.local, { onProgress: sample });
const ms = performance.now() - started;
clearInterval(timer);
sample();
console.log(JSON.stringify({
  databaseBytes: file.byteLength, pages: store.statsSync().pages, frames: result.framesTotal, fetchedBytes: result.bytes, ms: Math.round(ms),
  beforeMiB: +(before / MIB).toFixed(1), peakAboveBeforeMiB: +((peak - before) / MIB).toFixed(1),
}));
device.close();
rmSync(dir, { recursive: true, force: true });
