import CRC32C from 'crc-32/crc32c.js';

/** CRC-32C (Castagnoli) as an unsigned 32-bit number; `seed` continues an earlier checksum. */
export function crc32c(bytes: Uint8Array, seed?: number): number {
  return CRC32C.buf(bytes, seed === undefined ? undefined : seed | 0) >>> 0;
}
