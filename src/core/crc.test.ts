import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from './crc.ts';

describe('crc32c', () => {
  it('matches the CRC-32C check value for "123456789"', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('is 0 for no bytes and an unsigned 32-bit number otherwise', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
    fc.assert(
      fc.property(fc.uint8Array(), (bytes) => {
        const c = crc32c(bytes);
        expect(Number.isInteger(c) && c >= 0 && c <= 0xffff_ffff).toBe(true);
      }),
    );
  });

  it('checksums its parts one after another', () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), (a, b) => {
        expect(crc32c(a, b)).toBe(crc32c(Uint8Array.of(...a, ...b)));
      }),
    );
  });

  it('reads only the bytes of a view', () => {
    const buf = new TextEncoder().encode('xx123456789yy');
    expect(crc32c(buf.subarray(2, 11))).toBe(0xe3069283);
  });
});
