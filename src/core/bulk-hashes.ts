import type { IHasher } from 'hash-wasm';

/**
 * SHA-256 and MD5 for bulk data (a push hashes every page it uploads, and every byte it uploads
 * twice): hash-wasm's WebAssembly builds, several times faster than @noble/hashes' JavaScript on
 * megabytes. Loaded on first use, so a worker that never pushes does not load them.
 */
let module: Promise<typeof import('hash-wasm')> | undefined;
const hashWasm = () => (module ??= import('hash-wasm'));

/** A new incremental SHA-256 (its own state: updates may interleave with other hashes across awaits). */
export async function createBulkSha256(): Promise<IHasher> {
  return (await hashWasm()).createSHA256();
}

let md5: Promise<IHasher> | undefined;

/** MD5 of `bytes` (one shared hasher: init, update and digest run without a pause in between). */
export async function bulkMd5(bytes: Uint8Array): Promise<Uint8Array> {
  const h = await (md5 ??= hashWasm().then((m) => m.createMD5()));
  return h.init().update(bytes).digest('binary');
}

/** SHA-256 of `bytes` by the platform (native, and off the thread in browsers). */
export async function nativeSha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}
