import CRC32C from 'crc-32/crc32c.js';

/**
 * From this many bytes a checksum goes through the WebAssembly hasher once one is given (see
 * `useCrc32cHasher`). It needs no warming up: right after a worker starts (the pages and the
 * checkpoint an open reads), crc-32's JavaScript runs on code V8 has not optimised yet — ~100 µs a
 * page against ~15, 3 MiB in ~11 ms against ~2 (Node) — and warm it is still slower on a page (~9 µs
 * against ~4). Headers stay in JavaScript, where the call costs more than the bytes.
 */
const WASM_FROM_BYTES = 1024;

/** An incremental CRC-32C (Castagnoli) whose digest is the checksum's 4 bytes, big-endian: hash-wasm's `createCRC32(0x82f63b78)`. */
export interface Crc32cHasher {
  init(): unknown;
  update(bytes: Uint8Array): unknown;
  digest(outputType: 'binary'): Uint8Array;
}

let wasm: Crc32cHasher | undefined;

/**
 * Checksums of `WASM_FROM_BYTES` and more go through `hasher` from now on (the values are the same).
 * Core does not load it itself: bundles that never checksum bulk data (the presign service's) stay
 * without WebAssembly.
 */
export function useCrc32cHasher(hasher: Crc32cHasher): void {
  wasm = hasher;
}

/** CRC-32C (Castagnoli) of the bytes of `parts` one after another, as an unsigned 32-bit number. */
export function crc32c(...parts: Uint8Array[]): number {
  let size = 0;
  for (const part of parts) size += part.byteLength;
  if (wasm && size >= WASM_FROM_BYTES) {
    wasm.init();
    for (const part of parts) wasm.update(part);
    const d = wasm.digest('binary');
    return (((d[0] as number) << 24) | ((d[1] as number) << 16) | ((d[2] as number) << 8) | (d[3] as number)) >>> 0;
  }
  let crc: number | undefined;
  for (const part of parts) crc = CRC32C.buf(part, crc);
  return (crc ?? 0) >>> 0;
}
