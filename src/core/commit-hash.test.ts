import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { computeCommitHash } from './commit-hash-builder.ts';
import { CommitHash } from './commit-hash.ts';
import { LSN } from './lsn.ts';
import { Page, PAGE_SIZE } from './page.ts';
import { PageCount, PageIdx } from './page-idx.ts';
import { VolumeId } from './volume-id.ts';
import { expectScionError } from './testing.ts';

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('CommitHash', () => {
  it('round-trips 32 bytes through 64 lowercase hex characters', () => {
    fc.assert(
      fc.property(bytes32, (bytes) => {
        const hash = CommitHash.fromBytes(bytes);
        expect(hash).toMatch(/^[0-9a-f]{64}$/);
        expect(CommitHash.parse(hash)).toBe(hash);
        expect(CommitHash.toBytes(hash)).toEqual(bytes);
      }),
    );
    expect(CommitHash.fromBytes(Uint8Array.from({ length: 32 }, (_, i) => i)).slice(0, 8)).toBe('00010203');
  });

  it('rejects text that is not 64 lowercase hex characters', () => {
    const ok = 'ab'.repeat(32);
    for (const text of ['', ok.slice(1), `${ok}a`, ok.toUpperCase(), `${ok.slice(1)}g`, ` ${ok.slice(1)}`]) {
      expectScionError(() => CommitHash.parse(text), 'InvalidInput');
    }
  });

  it('rejects byte arrays that are not 32 bytes', () => {
    for (const n of [0, 31, 33]) expectScionError(() => CommitHash.fromBytes(new Uint8Array(n)), 'InvalidInput');
  });
});

describe('computeCommitHash', () => {
  /** The documented layout, hashed by Node's own SHA-256: what every version of the hash must equal. */
  function reference(vid: VolumeId, lsn: number, pageCount: number, pages: [PageIdx, Page][]): string {
    const h = createHash('sha256');
    const head = Buffer.alloc(47);
    head.write('scion-commit-v1', 0, 'latin1');
    Buffer.from(VolumeId.toBytes(vid)).copy(head, 15);
    head.writeBigUInt64BE(BigInt(lsn), 31);
    head.writeUInt32BE(pageCount, 39);
    head.writeUInt32BE(pages.length, 43);
    h.update(head);
    for (const [idx, page] of pages) {
      const i = Buffer.alloc(4);
      i.writeUInt32BE(idx);
      h.update(i).update(page);
    }
    return h.digest('hex');
  }

  it('small commits (one native call) and large ones (hashed page by page, past 16 MiB) hash the same documented bytes', async () => {
    const vid = VolumeId.random({ now: () => 1_700_000_000_000, random: (b) => void b.fill(7) });
    for (const n of [1, 300, 4200]) {
      const pages = Array.from({ length: n }, (_, i) => [PageIdx.parse(2 * i + 1), Page.from(new Uint8Array(PAGE_SIZE).fill(i & 0xff))] as [PageIdx, Page]);
      const got = await computeCommitHash(vid, LSN.parse(9), PageCount.parse(2 * n), pages);
      expect(got).toBe(reference(vid, 9, 2 * n, pages));
    }
  });
});
