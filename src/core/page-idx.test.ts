import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from './page.ts';
import { PAGE_IDX_MAX, PageCount, PageIdx } from './page-idx.ts';
import { expectScionError } from './testing.ts';

describe('PageIdx', () => {
  it('parses 1 through 2^32-1', () => {
    expect(PageIdx.parse(1)).toBe(1);
    expect(PageIdx.parse(2 ** 32 - 1)).toBe(2 ** 32 - 1);
    expect(PageIdx.MAX).toBe(PAGE_IDX_MAX);
    expect(PAGE_IDX_MAX).toBe(2 ** 32 - 1);
  });

  it('rejects 0, 2^32, negatives, fractions and NaN', () => {
    for (const n of [0, 2 ** 32, -1, 1.5, NaN, Infinity]) expectScionError(() => PageIdx.parse(n), 'InvalidInput');
  });

  it('isPageIdx agrees with parse', () => {
    for (const n of [1, 2, PAGE_IDX_MAX]) expect(PageIdx.isPageIdx(n)).toBe(true);
    for (const v of [0, PAGE_IDX_MAX + 1, 1.5, NaN, '1', null]) expect(PageIdx.isPageIdx(v)).toBe(false);
  });

  it('maps byte offsets to the 1-based page that holds them', () => {
    expect(PageIdx.fromOffset(0)).toBe(1);
    expect(PageIdx.fromOffset(PAGE_SIZE - 1)).toBe(1);
    expect(PageIdx.fromOffset(PAGE_SIZE)).toBe(2);
    expect(PageIdx.fromOffset((PAGE_IDX_MAX - 1) * PAGE_SIZE)).toBe(PAGE_IDX_MAX);
    expect(PageIdx.fromOffset(PAGE_IDX_MAX * PAGE_SIZE - 1)).toBe(PAGE_IDX_MAX);
  });

  it('toOffset is the first byte of the page and fromOffset inverts it', () => {
    expect(PageIdx.toOffset(PageIdx.FIRST)).toBe(0);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: PAGE_IDX_MAX }), fc.integer({ min: 0, max: PAGE_SIZE - 1 }), (n, within) => {
        const idx = PageIdx.parse(n);
        const start = PageIdx.toOffset(idx);
        expect(start % PAGE_SIZE).toBe(0);
        expect(PageIdx.fromOffset(start)).toBe(idx);
        expect(PageIdx.fromOffset(start + within)).toBe(idx);
      }),
    );
  });

  it('rejects offsets that are negative, fractional, unsafe or past the last page', () => {
    for (const o of [-1, 0.5, NaN, Number.MAX_SAFE_INTEGER + 1, PAGE_IDX_MAX * PAGE_SIZE]) {
      expectScionError(() => PageIdx.fromOffset(o), 'InvalidInput');
    }
  });
});

describe('PageCount', () => {
  it('parses 0 through 2^32-1', () => {
    expect(PageCount.parse(0)).toBe(0);
    expect(PageCount.parse(PAGE_IDX_MAX)).toBe(PAGE_IDX_MAX);
    expect(PageCount.ZERO).toBe(0);
  });

  it('rejects negatives, fractions, NaN and 2^32', () => {
    for (const n of [-1, 0.5, NaN, 2 ** 32]) expectScionError(() => PageCount.parse(n), 'InvalidInput');
  });

  it('converts a whole number of pages of bytes', () => {
    expect(PageCount.fromBytes(0)).toBe(0);
    expect(PageCount.fromBytes(PAGE_SIZE)).toBe(1);
    expect(PageCount.fromBytes(1000 * PAGE_SIZE)).toBe(1000);
    expect(PageCount.fromBytes(PAGE_IDX_MAX * PAGE_SIZE)).toBe(PAGE_IDX_MAX);
  });

  it('rejects byte sizes that are not a multiple of 4096', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 1, max: PAGE_SIZE - 1 }), (pages, extra) => {
        expectScionError(() => PageCount.fromBytes(pages * PAGE_SIZE + extra), 'InvalidInput');
      }),
    );
    for (const b of [1, 4095, 4097, -PAGE_SIZE, 1.5, NaN]) expectScionError(() => PageCount.fromBytes(b), 'InvalidInput');
  });

  it('rejects byte sizes beyond 2^32-1 pages', () => {
    expectScionError(() => PageCount.fromBytes((PAGE_IDX_MAX + 1) * PAGE_SIZE), 'InvalidInput');
  });

  it('contains pages 1 through count and names the last one', () => {
    const count = PageCount.parse(3);
    expect(PageCount.contains(count, PageIdx.parse(1))).toBe(true);
    expect(PageCount.contains(count, PageIdx.parse(3))).toBe(true);
    expect(PageCount.contains(count, PageIdx.parse(4))).toBe(false);
    expect(PageCount.contains(PageCount.ZERO, PageIdx.FIRST)).toBe(false);
    expect(PageCount.lastPage(count)).toBe(3);
    expect(PageCount.lastPage(PageCount.ZERO)).toBeUndefined();
  });
});
