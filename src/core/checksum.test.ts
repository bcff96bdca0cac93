import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChecksumBuilder } from './checksum.ts';
import { Page } from './page.ts';
import { PAGE_IDX_MAX, PageCount, PageIdx } from './page-idx.ts';

/** A page filled from a seed, never all zero. */
function pageOf(seed: number): Page {
  const page = Page.zeroed();
  let x = (seed * 2654435761 + 1) >>> 0 || 1;
  for (let i = 0; i < page.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    page[i] = x & 0xff;
  }
  page[0] = 1;
  return page;
}

type Entry = [PageIdx, Page];
const checksum = (entries: Iterable<Entry>, count = PageCount.parse(100)): string => {
  const b = new ChecksumBuilder();
  for (const [idx, page] of entries) b.add(idx, page);
  return b.finish(count);
};

/** Distinct page indexes, each with content from a seed. */
const anyEntries = fc
  .uniqueArray(fc.tuple(fc.integer({ min: 1, max: PAGE_IDX_MAX }), fc.nat()), { selector: ([idx]) => idx, maxLength: 12 })
  .map((xs) => xs.map(([idx, seed]): Entry => [PageIdx.parse(idx), pageOf(seed)]));

describe('ChecksumBuilder', () => {
  it('returns 32 lowercase hex characters', () => {
    expect(checksum([])).toMatch(/^[0-9a-f]{32}$/);
    expect(checksum([[PageIdx.FIRST, pageOf(1)]])).toMatch(/^[0-9a-f]{32}$/);
  });

  it('is deterministic', () => {
    const entries: Entry[] = [
      [PageIdx.parse(1), pageOf(1)],
      [PageIdx.parse(9), pageOf(2)],
    ];
    expect(checksum(entries)).toBe(checksum(entries));
    expect(checksum([])).toBe(checksum([]));
  });

  it('does not depend on the order pages are added in', () => {
    fc.assert(
      fc.property(anyEntries.chain((xs) => fc.tuple(fc.constant(xs), fc.shuffledSubarray(xs, { minLength: xs.length }))), ([xs, shuffled]) => {
        expect(checksum(shuffled)).toBe(checksum(xs));
      }),
      { numRuns: 50 },
    );
  });

  it('ignores all-zero pages', () => {
    fc.assert(
      fc.property(anyEntries, fc.integer({ min: 1, max: PAGE_IDX_MAX }), (xs, zeroAt) => {
        expect(checksum([...xs, [PageIdx.parse(zeroAt), Page.zeroed()]])).toBe(checksum(xs));
      }),
      { numRuns: 50 },
    );
    expect(checksum([[PageIdx.FIRST, Page.zeroed()]])).toBe(checksum([]));
  });

  it('changes when any one byte of a page changes', () => {
    const base: Entry[] = [
      [PageIdx.parse(1), pageOf(1)],
      [PageIdx.parse(2), pageOf(2)],
    ];
    const want = checksum(base);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 1, max: 255 }), (pos, delta) => {
        const changed = pageOf(2);
        changed[pos] = ((changed[pos] as number) + delta) & 0xff;
        expect(checksum([base[0]!, [PageIdx.parse(2), changed]])).not.toBe(want);
      }),
      { numRuns: 200 },
    );
  });

  it('changes when a page moves to another index', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: PAGE_IDX_MAX }), fc.integer({ min: 1, max: PAGE_IDX_MAX }), fc.nat(), (from, to, seed) => {
        fc.pre(from !== to);
        expect(checksum([[PageIdx.parse(to), pageOf(seed)]])).not.toBe(checksum([[PageIdx.parse(from), pageOf(seed)]]));
      }),
      { numRuns: 100 },
    );
  });

  it('changes when two pages swap indexes', () => {
    const a = pageOf(1);
    const b = pageOf(2);
    expect(
      checksum([
        [PageIdx.parse(1), b],
        [PageIdx.parse(2), a],
      ]),
    ).not.toBe(
      checksum([
        [PageIdx.parse(1), a],
        [PageIdx.parse(2), b],
      ]),
    );
  });

  it('changes with the page count', () => {
    const entries: Entry[] = [[PageIdx.parse(1), pageOf(1)]];
    expect(checksum(entries, PageCount.parse(1))).not.toBe(checksum(entries, PageCount.parse(2)));
    expect(checksum([], PageCount.ZERO)).not.toBe(checksum([], PageCount.parse(1)));
    expect(checksum([], PageCount.parse(PAGE_IDX_MAX))).toMatch(/^[0-9a-f]{32}$/);
  });

  it('changes when a page is added or removed', () => {
    const one: Entry[] = [[PageIdx.parse(1), pageOf(1)]];
    const two: Entry[] = [...one, [PageIdx.parse(2), pageOf(2)]];
    expect(checksum(two)).not.toBe(checksum(one));
  });

  it('copies page content on add, so later writes to the page do not count', () => {
    const page = pageOf(3);
    const b = new ChecksumBuilder();
    b.add(PageIdx.parse(5), page);
    page[100] = (page[100] as number) ^ 1;
    expect(b.finish(PageCount.parse(10))).toBe(checksum([[PageIdx.parse(5), pageOf(3)]], PageCount.parse(10)));
  });

  it('can finish more than once with the same result', () => {
    const b = new ChecksumBuilder();
    b.add(PageIdx.parse(5), pageOf(3));
    expect(b.finish(PageCount.parse(10))).toBe(b.finish(PageCount.parse(10)));
  });
});
