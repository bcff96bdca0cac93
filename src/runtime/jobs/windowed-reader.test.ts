import { describe, expect, it } from 'vitest';
import { Page, PageIdx } from '../../core/index.ts';
import { windowedReader } from './windowed-reader.ts';

const pageOf = (idx: number): Page => Page.zeroed().fill(idx % 251);

function countingRead(): { read: (idxs: readonly PageIdx[]) => Map<PageIdx, Page>; calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    read: (idxs) => {
      calls.push(idxs.length);
      return new Map(idxs.map((idx) => [idx, pageOf(idx)]));
    },
  };
}

describe('windowedReader', () => {
  it('reads pages asked for in order one window per store read', () => {
    const ascending = Array.from({ length: 1000 }, (_, i) => PageIdx.parse(2 * i + 1));
    const store = countingRead();
    const readOne = windowedReader(ascending, 256, store.read);
    for (const idx of ascending) expect(readOne(idx)[0]).toBe(idx % 251);
    expect(store.calls).toEqual([256, 256, 256, 232]);
  });

  it('a page out of order starts a window at it; a page not among them is read alone', () => {
    const ascending = Array.from({ length: 100 }, (_, i) => PageIdx.parse(i + 1));
    const store = countingRead();
    const readOne = windowedReader(ascending, 10, store.read);
    expect(readOne(PageIdx.parse(50))[0]).toBe(50);
    expect(readOne(PageIdx.parse(59))[0]).toBe(59);
    expect(readOne(PageIdx.parse(3))[0]).toBe(3);
    expect(readOne(PageIdx.parse(500))[0]).toBe(500 % 251);
    expect(store.calls).toEqual([10, 10, 1]);
    expect(readOne(PageIdx.parse(4))[0]).toBe(4);
    expect(store.calls).toEqual([10, 10, 1]);
  });
});
