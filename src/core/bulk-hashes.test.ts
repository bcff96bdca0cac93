import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { bulkMd5, createBulkSha256 } from './bulk-hashes.ts';

// As under a Content-Security-Policy that forbids WebAssembly: hash-wasm loads, its hashers do not start.
vi.mock('hash-wasm', () => ({
  createSHA256: () => Promise.reject(new Error('WebAssembly is not allowed')),
  createMD5: () => Promise.reject(new Error('WebAssembly is not allowed')),
}));

describe('bulk hashes without WebAssembly', () => {
  it('give the same digests from @noble/hashes', async () => {
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 2654435761) >>> 24);
    expect(Buffer.from(await bulkMd5(bytes))).toEqual(createHash('md5').update(bytes).digest());
    const h = await createBulkSha256();
    h.update(bytes.subarray(0, 1000));
    h.update(bytes.subarray(1000));
    expect(Buffer.from(h.digest())).toEqual(createHash('sha256').update(bytes).digest());
  });
});
