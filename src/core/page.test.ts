import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Page, PAGE_SIZE } from './page.ts';
import { expectScionError } from './testing.ts';

describe('Page', () => {
  it('is 4096 bytes', () => {
    expect(PAGE_SIZE).toBe(4096);
  });

  it('accepts exactly 4096 bytes without copying', () => {
    const bytes = new Uint8Array(PAGE_SIZE);
    expect(Page.from(bytes)).toBe(bytes);
  });

  it('rejects 0, 4095 and 4097 bytes', () => {
    for (const n of [0, PAGE_SIZE - 1, PAGE_SIZE + 1, 2 * PAGE_SIZE]) {
      expectScionError(() => Page.from(new Uint8Array(n)), 'InvalidInput');
    }
  });

  it('zeroed returns a fresh all-zero page on each call', () => {
    const a = Page.zeroed();
    const b = Page.zeroed();
    expect(a).toHaveLength(PAGE_SIZE);
    expect(a.every((x) => x === 0)).toBe(true);
    expect(a.buffer).not.toBe(b.buffer);
    a[0] = 1;
    expect(b[0]).toBe(0);
    expect(Page.zeroed()[0]).toBe(0);
  });

  it('isZero is false when any one byte is non-zero', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: PAGE_SIZE - 1 }), fc.integer({ min: 1, max: 255 }), (pos, value) => {
        const page = Page.zeroed();
        expect(Page.isZero(page)).toBe(true);
        page[pos] = value;
        expect(Page.isZero(page)).toBe(false);
      }),
    );
  });

  it('isZero looks only inside an aligned view, not at its neighbours', () => {
    const buf = new Uint8Array(3 * PAGE_SIZE).fill(0xff);
    const view = buf.subarray(PAGE_SIZE, 2 * PAGE_SIZE);
    view.fill(0);
    expect(view.byteOffset % 8).toBe(0);
    expect(Page.isZero(view)).toBe(true);
    view[PAGE_SIZE - 1] = 1;
    expect(Page.isZero(view)).toBe(false);
  });

  it('isZero handles views that are not 8-byte aligned', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: PAGE_SIZE - 1 }), (offset, pos) => {
        const buf = new Uint8Array(PAGE_SIZE + 16).fill(0xff);
        const view = buf.subarray(offset, offset + PAGE_SIZE);
        view.fill(0);
        expect(Page.isZero(view)).toBe(true);
        view[pos] = 0x80;
        expect(Page.isZero(view)).toBe(false);
      }),
    );
  });

  it('isZero checks every byte of a view whose length is not a multiple of 8', () => {
    for (const len of [1, 4, 9, 15]) {
      const bytes = new Uint8Array(len);
      expect(Page.isZero(bytes)).toBe(true);
      bytes[len - 1] = 1;
      expect(Page.isZero(bytes)).toBe(false);
    }
    expect(Page.isZero(new Uint8Array(0))).toBe(true);
  });
});
