// Time of one push of N dataset pages (default 10,000) to a memory bucket, in Node: the push's CPU (plan,
// compression, hashing, store) without a network. `npx tsx bench/push-profile.ts [pages]`; add
// `node --cpu-prof --import tsx` to see where it goes. Build the dataset first (`npx tsx bench/dataset.ts 50`).
import { readFileSync } from 'node:fs';
import { MemoryCatalog, MemoryStore, MemoryDirectory } from '../src/local/index.ts';
import { MemoryRemote } from '../src/remote/index.ts';
import { Runtime } from '../src/runtime/index.ts';
import { planSqliteFrames } from '../src/vfs/index.ts';
import { PageIdx } from '../src/core/index.ts';
const file = new Uint8Array(readFileSync(new URL('./.data/issues-50mb-v1.db', import.meta.url)));
const N = Number(process.argv[2] ?? 10000);
const bucket = new MemoryRemote();
const rt = await Runtime.open({ store: MemoryStore.open(new MemoryDirectory()), catalog: new MemoryCatalog(), remote: bucket, planFrames: planSqliteFrames });
const g = await rt.graftOpen();
const w = rt.graftWriter(g.local);
for (let i = 0; i < N; i++) w.writePage(PageIdx.parse(i + 1), file.subarray(i * 4096, (i + 1) * 4096));
w.commit();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const r = await rt.graftPush(g.local);
const cpu = process.cpuUsage(cpu0);
// CPU time (user + system, all threads) is what a busy machine does not distort.
console.log('push', N, (performance.now() - t0).toFixed(0), 'ms', 'cpu', ((cpu.user + cpu.system) / 1000).toFixed(0), 'ms', r);
