import { createCRC32 } from 'hash-wasm';
import { useCrc32cHasher } from '../core/index.ts';

let loading: Promise<void> | undefined;

/**
 * Starts loading hash-wasm's WebAssembly CRC-32C for the store's checksums (idempotent). Until it has
 * loaded, or where it cannot (a Content-Security-Policy or runtime that forbids compiling
 * WebAssembly), they are computed in JavaScript; the values are the same.
 */
export function preloadCrc32c(): Promise<void> {
  return (loading ??= createCRC32(0x82f63b78).then(useCrc32cHasher, () => undefined));
}
