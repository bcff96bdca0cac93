import { md5 as nobleMd5 } from '@noble/hashes/legacy.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** An incremental hash: `update` any number of times, then `digest` once. */
export interface BulkHasher {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

type HashWasm = typeof import('hash-wasm');

/**
 * SHA-256 and MD5 for bulk data (a push hashes every page it uploads, and every byte it uploads
 * twice): hash-wasm's WebAssembly builds, several times faster than @noble/hashes' JavaScript on
 * megabytes. Loaded on first use, so a worker that never pushes does not load them. Where they
 * cannot load — a bundle built without them (the presign service's, which never hashes bulk data),
 * a Content-Security-Policy that forbids WebAssembly — the same digests come from @noble/hashes.
 */
let module: Promise<HashWasm | undefined> | undefined;
const hashWasm = () => (module ??= import('hash-wasm').catch(() => undefined));

async function wasmHasher(create: (m: HashWasm) => ReturnType<HashWasm['createSHA256']>): Promise<BulkHasher | undefined> {
  const m = await hashWasm();
  const h = await (m ? create(m).catch(() => undefined) : undefined);
  if (!h) return undefined;
  h.init();
  return { update: (bytes) => void h.update(bytes), digest: () => h.digest('binary') };
}

/** A new incremental SHA-256 (its own state: updates may interleave with other hashes across awaits). */
export async function createBulkSha256(): Promise<BulkHasher> {
  const wasm = await wasmHasher((m) => m.createSHA256());
  if (wasm) return wasm;
  const h = nobleSha256.create();
  return { update: (bytes) => void h.update(bytes), digest: () => h.digest() };
}

/** MD5 of `bytes`. */
export async function bulkMd5(bytes: Uint8Array): Promise<Uint8Array> {
  const h = await wasmHasher((m) => m.createMD5());
  if (!h) return nobleMd5(bytes);
  h.update(bytes);
  return h.digest();
}

/** SHA-256 of `bytes` by the platform (native, and off the thread in browsers). */
export async function nativeSha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}
