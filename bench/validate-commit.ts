// Times Commit.validate and Commit.decode on a clone-sized commit record in Node: `npx tsx bench/validate-commit.ts [pages] [pages per frame]`.
// The frames interleave (hot interior pages first, then runs of leaves with gaps), as a pusher's frame plan does.
import { Commit, FRAME_MAX_PAGES, type FrameRef, LSN, PageCount, PageSet } from '../src/core/index.ts';
import { fakeSegmentId, fakeVolumeId } from '../src/core/testing.ts';

const pageCount = Number(process.argv[2] ?? 20_000);
const framePages = Number(process.argv[3] ?? FRAME_MAX_PAGES);
const interior = new Set<number>([1]);
for (let p = 97; p <= pageCount; p += 97) interior.add(p);
const order = [...interior, ...Array.from({ length: pageCount }, (_, i) => i + 1).filter((p) => !interior.has(p))];
const frames: FrameRef[] = [];
for (let i = 0; i < order.length; i += framePages) {
  frames.push({ pages: PageSet.of(order.slice(i, i + framePages)), bytes: 4096, digest: new Uint8Array(32) });
}
const commit: Commit = {
  vid: fakeVolumeId(1),
  lsn: LSN.parse(1),
  pageCount: PageCount.parse(pageCount),
  segment: { sid: fakeSegmentId(1), home: fakeVolumeId(1), pages: PageSet.all(PageCount.parse(pageCount)), frames, hotFrames: 1 },
};
const time = (run: () => void): number => {
  const start = performance.now();
  run();
  return performance.now() - start;
};
const encoded = Commit.encode(commit);
time(() => Commit.validate(commit));
const validateMs = time(() => Commit.validate(commit));
const decodeMs = time(() => Commit.decode(encoded));
console.log(`${pageCount} pages, ${frames.length} frames, record ${encoded.byteLength} bytes: validate ${validateMs.toFixed(1)} ms, decode ${decodeMs.toFixed(1)} ms`);
