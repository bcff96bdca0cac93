// Bytes and requests of the cold queries against the floor (the fewest bytes a cold query can fetch), in Node, without a network: one device
// imports the bench dataset and pushes it to a memory bucket; for each query a new device clones it, hydrates
// the hot frames and runs the query. Counts are exact (no timing), so this runs on a busy machine:
// `npx tsx bench/read-floor.ts [datasetMb]` (builds the dataset first if needed); `SHOW=1` also prints the pages each query touched.
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { MemoryCatalog, MemoryStore } from '../src/local/index.ts';
import { MemoryRemote } from '../src/remote/index.ts';
import type { ReadStats } from '../src/protocol/index.ts';
import { Runtime, VolumeReader } from '../src/runtime/index.ts';
import { installScionVfs, openScionDb, planSqliteFrames } from '../src/vfs/index.ts';
import { normalizeSqliteFile, writeSqliteFile } from '../worker/sqlite-file.ts';
import { ensureDataset } from './dataset.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const mb = Number(process.argv[2] ?? 50);
const dataset = await ensureDataset(mb);
const file = new Uint8Array(readFileSync(fileURLToPath(new URL(`..${dataset.urlPath}`, import.meta.url))));
const sqlite3 = await sqlite3InitModule();
const bucket = new MemoryRemote();

const publisher = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote: bucket, planFrames: planSqliteFrames });
const published = await publisher.graftOpen();
writeSqliteFile(publisher, published.local, normalizeSqliteFile(sqlite3, file).bytes);
const pushed = await publisher.graftPush(published.local);
if (pushed.outcome !== 'pushed') throw new Error(`push ended ${pushed.outcome}`);
const remoteVid = published.remote;
publisher.close();

// Distinct pages each query reads, whatever serves them.
const touched = new Set<number>();
const readPage = VolumeReader.prototype.readPage;
VolumeReader.prototype.readPage = function (this: VolumeReader, idx, options) {
  touched.add(idx);
  return readPage.call(this, idx, options);
};

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const delta = (a: Readonly<ReadStats>, b: Readonly<ReadStats>) => ({ requests: b.requests - a.requests, bytes: b.bytesFetched - a.bytesFetched, frames: b.framesFetched - a.framesFetched });
console.log(`dataset ${(file.byteLength / 1e6).toFixed(1)} MB, pushed segment ${kib(pushed.bytes)}`);
console.log('query | clone req/bytes | hot req/bytes | open+query req/bytes/frames | pages touched (KiB) | query bytes ÷ touched | all bytes ÷ touched');
let n = 0;
for (const name of ['point', 'range', 'listing', 'fts'] as const) {
  const q = dataset.queries[name];
  if (!q) continue;
  const rt = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote: bucket, planFrames: planSqliteFrames });
  const vfs = installScionVfs(sqlite3, rt, { name: `floor-${++n}` });
  const s0 = { ...rt.readStats() };
  const graft = await rt.graftClone(remoteVid, { tag: 'db' });
  const s1 = { ...rt.readStats() };
  await rt.graftHydrate(graft.local, { hotOnly: true });
  const s2 = { ...rt.readStats() };
  touched.clear();
  const db = openScionDb(sqlite3, vfs, 'db');
  db.exec({ sql: q.sql, bind: q.bind, rowMode: 'array', returnValue: 'resultRows' });
  const s3 = { ...rt.readStats() };
  if (process.env.SHOW) console.log(name, [...touched].join(","));
  db.close();
  rt.close();
  const [c, h, r] = [delta(s0, s1), delta(s1, s2), delta(s2, s3)];
  const touchedBytes = touched.size * 4096;
  console.log(`${name} | ${c.requests} / ${kib(c.bytes)} | ${h.requests} / ${kib(h.bytes)} | ${r.requests} / ${kib(r.bytes)} / ${r.frames} | ${touched.size} (${kib(touchedBytes)}) | ${(r.bytes / touchedBytes).toFixed(2)}× | ${((h.bytes + r.bytes) / touchedBytes).toFixed(2)}× (+clone ${((c.bytes + h.bytes + r.bytes) / touchedBytes).toFixed(2)}×)`);
}
