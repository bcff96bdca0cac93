import { describe, expect, it } from 'vitest';
import { crc32c } from '../core/index.ts';
import { preloadCrc32c } from './wasm-crc.ts';

describe('the WebAssembly CRC-32C', () => {
  it('gives the checksums JavaScript gave before it loaded, of single inputs and of parts', async () => {
    const inputs = [1023, 1024, 4096, 3 * 1024 * 1024 + 7].map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24));
    const sums = () => inputs.map((bytes) => [crc32c(bytes), crc32c(bytes.subarray(0, 5), bytes.subarray(5))]);
    const before = sums();
    await preloadCrc32c();
    expect(sums()).toEqual(before);
    expect(crc32c(new TextEncoder().encode('123456789'.repeat(200)))).toBe(crc32c(...Array.from({ length: 200 }, () => new TextEncoder().encode('123456789'))));
  });
});
