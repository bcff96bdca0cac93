import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UploadBody } from './upload.ts';

describe('UploadBody', () => {
  /** Node's own digests, in base64: what the bucket checks the body against. */
  const reference = (bytes: Uint8Array): UploadBody => ({
    length: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('base64'),
    md5: createHash('md5').update(bytes).digest('base64'),
  });

  it('`of` and the bulk `compute` give the body its length, SHA-256 and MD5', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 5000 }), async (bytes) => {
        expect(UploadBody.of(bytes)).toEqual(reference(bytes));
        expect(await UploadBody.compute(bytes)).toEqual(reference(bytes));
      }),
      { numRuns: 50 },
    );
    // A part of a large push: megabytes, and a view into a larger buffer.
    const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 2654435761) >>> 24);
    const view = big.subarray(5, big.byteLength - 3);
    expect(await UploadBody.compute(view)).toEqual(reference(view));
  });

  it('concurrent bulk digests do not mix (one shared MD5 hasher)', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => new Uint8Array(100_000 + i).fill(i));
    expect(await Promise.all(bodies.map((b) => UploadBody.compute(b)))).toEqual(bodies.map(reference));
  });
});
