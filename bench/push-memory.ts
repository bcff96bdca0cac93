// Peak memory of one push of a large database to a memory bucket, in Node (issue 10: a 200 MB push
// should hold ≤ 128 MiB above steady state). `npx tsx --expose-gc bench/push-memory.ts [MB]` (default 200).
// The local store is in memory too, and the bucket keeps only the size of segments, so what grows during
// the push is the push's own buffers (pages read, frames, parts in flight, hash) and the commit records.
// Pages are the dataset's (bench/.data/issues-50mb-v1.db, `npx tsx bench/dataset.ts 50`), repeated.
import { readFileSync } from 'node:fs';
import { PageIdx, type SegmentId, type VolumeId } from '../src/core/index.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../src/local/index.ts';
import { MemoryRemote } from '../src/remote/index.ts';
import { Runtime } from '../src/runtime/index.ts';
import { planSqliteFrames } from '../src/vfs/index.ts';

const file = new Uint8Array(readFileSync(new URL('./.data/issues-50mb-v1.db', import.meta.url)));
const mb = Number(process.argv[2] ?? 200);
const pages = Math.floor((mb * 1e6) / 4096);
const filePages = Math.floor(file.byteLength / 4096);
/** A bucket that keeps commits and hints but only the size of segments: what the push holds is then all that grows. */
class SizeOnlyBucket extends MemoryRemote {
  segmentBytes = 0;
  override async putSegment(vid: VolumeId, sid: SegmentId, bytes: Uint8Array) {
    this.segmentBytes += bytes.byteLength;
    return super.putSegment(vid, sid, bytes.subarray(0, 0));
  }
}
const bucket = new SizeOnlyBucket();
const rt = await Runtime.open({ store: MemoryStore.open(new MemoryDirectory()), catalog: new MemoryCatalog(), remote: bucket, planFrames: planSqliteFrames });
const g = await rt.graftOpen();
const w = rt.graftWriter(g.local);
for (let i = 0; i < pages; i++) {
  const page = file.slice((i % filePages) * 4096, (i % filePages + 1) * 4096);
  // Repeats of the file differ in a few bytes, as pages of a real database do.
  page[100] = i & 0xff;
  page[101] = (i >> 8) & 0xff;
  w.writePage(PageIdx.parse(i + 1), page);
}
w.commit();
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
gc?.();
const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const bucketBytes = () => [...bucket.objects.values()].reduce((n, o) => n + o.bytes.byteLength, 0);
const steady = used();
let peak = 0;
let peakRaw = 0;
const sample = () => {
  const u = used() - steady;
  peakRaw = Math.max(peakRaw, u);
  peak = Math.max(peak, u - bucketBytes());
};
const sampler = setInterval(sample, 5);
const started = performance.now();
const r = await rt.graftPush(g.local);
clearInterval(sampler);
sample();
const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
console.log(JSON.stringify({ pages, mb: (pages * 4096) / 1e6, ms: Math.round(performance.now() - started), outcome: r.outcome, uploaded: r.outcome === 'pushed' ? mib(r.bytes) : null, peakAboveSteady: mib(peak), peakWithBucket: mib(peakRaw), bucketGrew: mib(bucketBytes()), segmentBytes: mib(bucket.segmentBytes), steady: mib(steady), gc: gc !== undefined }));
