import { md5 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { toBase64 } from './base64.ts';
import { bulkMd5, nativeSha256 } from './bulk-hashes.ts';
import { invalidInput } from './errors.ts';

/**
 * What a write URL is signed for: the exact body length and two digests of it, both in base64 as
 * S3 wants them. The bucket verifies the one it knows (`x-amz-checksum-sha256` on AWS and the
 * embedded bucket, `Content-MD5` everywhere), so a URL is good for one body only.
 */
export interface UploadBody {
  readonly length: number;
  readonly sha256: string;
  readonly md5: string;
}

/** Most bytes one upload URL may be signed for (S3's single-PUT limit is 5 GiB). */
export const UPLOAD_MAX_BYTES = 1024 * 1024 * 1024;

const SHA256_B64 = /^[A-Za-z0-9+/]{43}=$/;
const MD5_B64 = /^[A-Za-z0-9+/]{22}==$/;

export const UploadBody = {
  of: (bytes: Uint8Array): UploadBody => ({ length: bytes.byteLength, sha256: toBase64(sha256(bytes)), md5: toBase64(md5(bytes)) }),

  /** As `of`, for bulk bodies: the platform's SHA-256 and a WebAssembly MD5 (a push's megabytes of segment). */
  async compute(bytes: Uint8Array): Promise<UploadBody> {
    const [s, m] = await Promise.all([nativeSha256(bytes), bulkMd5(bytes)]);
    return { length: bytes.byteLength, sha256: toBase64(s), md5: toBase64(m) };
  },

  /** Strict: an object with an integer length in 0–UPLOAD_MAX_BYTES and base64 digests of the right size. */
  parse(input: unknown): UploadBody {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalidInput('"upload" must be { length, sha256, md5 }.');
    const { length, sha256: s, md5: m } = input as Record<string, unknown>;
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0 || length > UPLOAD_MAX_BYTES) {
      throw invalidInput(`"upload.length" must be an integer number of bytes in 0–${UPLOAD_MAX_BYTES}.`);
    }
    if (typeof s !== 'string' || !SHA256_B64.test(s)) throw invalidInput('"upload.sha256" must be the base64 SHA-256 of the body.');
    if (typeof m !== 'string' || !MD5_B64.test(m)) throw invalidInput('"upload.md5" must be the base64 MD5 of the body.');
    return { length, sha256: s, md5: m };
  },
} as const;
