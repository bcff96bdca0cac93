import CRC32C from 'crc-32/crc32c.js';
import { createCRC32, type IHasher } from 'hash-wasm';

/**
 * From this many bytes a checksum goes through hash-wasm's WebAssembly once it has loaded. It needs
 * no warming up: right after a worker starts (the pages and the checkpoint an open reads), crc-32's
 * JavaScript runs on code V8 has not optimised yet — ~100 µs a page against ~15, 3 MiB in ~11 ms
 * against ~2 (Node) — and warm it is still slower on a page (~9 µs against ~4). Headers stay in
 * JavaScript, where the call costs more than the bytes.
 */
const WASM_FROM_BYTES = 1024;

let wasm: IHasher | undefined;
let loading: Promise<void> | undefined;

/**
 * Starts loading the WebAssembly CRC-32C (idempotent). Until it has loaded, or where it cannot
 * (a Content-Security-Policy or runtime that forbids compiling WebAssembly), checksums are computed
 * in JavaScript; the values are the same.
 */
export function preloadCrc32c(): Promise<void> {
  return (loading ??= createCRC32(0x82f63b78).then(
    (hasher) => void (wasm = hasher),
    () => undefined,
  ));
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
