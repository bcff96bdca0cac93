// Page reads of the slot store: a forward scan reads the page file in runs; nothing is ever served
// from bytes read before the file changed.
import { describe, expect, it } from 'vitest';
import { SlotStore } from './slot-store.ts';
import { MemoryDirectory } from './store-files.ts';
import type { SyncFile } from './sync-file.ts';
import { idx, localCommit, makePage, sidOf, vidOf } from './testing.ts';

/** A store whose page file counts its read calls. */
function countingStore(): { store: SlotStore; reads: () => number } {
  const files = new MemoryDirectory().files();
  let reads = 0;
  const pages: SyncFile = new Proxy(files.pages, {
    get(target, key) {
      if (key === 'read') return (buffer: Uint8Array, options: { at: number }) => (reads++, target.read(buffer, options));
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: SlotStore.openSync({ ...files, pages }, { medium: 'memory' }), reads: () => reads };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The pages among `pages` of segment `seg` that do not read back as written (makePage(seg, i)). */
function wrongPages(store: SlotStore, seg: number, pages: number[]): number[] {
  return pages.filter((i) => !Buffer.from(store.readPageSync(sidOf(seg), idx(i)) ?? []).equals(makePage(seg, i)));
}

describe('slot store page reads', () => {
  it('a scan of 1,000 pages, forward or backward, reads the page file in runs of 64 slots; a jump reads one slot', () => {
    const { store, reads } = countingStore();
    store.appendCommitsSync([localCommit(vidOf(1), 1, 1, range(1, 1000))]);
    const before = reads();
    expect(wrongPages(store, 1, range(1, 1000))).toEqual([]);
    expect(reads() - before).toBeLessThanOrEqual(Math.ceil(1000 / 64) + 1);
    const backward = reads();
    expect(wrongPages(store, 1, range(1, 1000).reverse())).toEqual([]);
    expect(reads() - backward).toBeLessThanOrEqual(Math.ceil(1000 / 64) + 1);
    const jumps = reads();
    expect(wrongPages(store, 1, [900, 170, 500, 300])).toEqual([]);
    expect(reads() - jumps).toBe(4);
  });

  it('slots rewritten after being read ahead are read again: a commit into holes of the file right after a scan over them reads back as written', () => {
    const { store } = countingStore();
    store.appendCommitsSync([localCommit(vidOf(1), 1, 1, range(1, 100))]); // slots 0..99
    store.appendCommitsSync([localCommit(vidOf(2), 1, 2, range(1, 128))]); // 100..227
    store.appendCommitsSync([localCommit(vidOf(3), 1, 3, range(1, 128))]); // 228..355
    // 128 holes; one compaction step moves 64 of segment 3's pages into the lowest, 64 holes stay inside the file.
    store.dropVolumeSync(vidOf(2));
    // Forward scans over the moved pages, whichever order they were moved in: the last run reaches into the holes.
    expect(wrongPages(store, 3, range(1, 128))).toEqual([]);
    expect(wrongPages(store, 3, range(1, 128).reverse())).toEqual([]);
    store.appendCommitsSync([localCommit(vidOf(4), 1, 4, range(1, 64))]); // into the holes
    expect(wrongPages(store, 4, range(1, 64))).toEqual([]);
  });
});
