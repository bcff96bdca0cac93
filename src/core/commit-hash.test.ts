import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommitHash } from './commit-hash.ts';
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
