import { describe, expect, it } from 'vitest';
import { LSN } from './lsn.ts';
import { FORK_MAX_COMMITS, RemoteFork } from './remote-fork.ts';
import { encodeForkV1, expectScionError, seededIds } from './testing.ts';
import { VolumeId } from './volume-id.ts';

const [F, A, B] = [1, 2, 3].map((seed) => VolumeId.random(seededIds(seed))) as [VolumeId, VolumeId, VolumeId];

describe('RemoteFork', () => {
  it('round-trips, and its bytes follow from the fork and the sets of its ancestors and of their commits alone', () => {
    const lsns = (...n: number[]) => n.map((x) => LSN.parse(x));
    const bytes = RemoteFork.encode({ vid: F, ancestors: [B, A, B], inlineCommits: { [B]: lsns(300, 7, 7, 1) } });
    expect(bytes).toEqual(RemoteFork.encode({ vid: F, ancestors: [A, B], inlineCommits: { [A]: [], [B]: lsns(1, 7, 300) } }));
    expect(bytes).not.toEqual(RemoteFork.encode({ vid: F, ancestors: [A, B], inlineCommits: { [B]: lsns(1, 8, 300) } }));
    expect(RemoteFork.decode(bytes, F)).toEqual({ vid: F, ancestors: [A, B].sort(), inlineCommits: { [B]: [1, 7, 300] } });
    // No commits given: none recorded (version 2), which is not the same as a version 1 record.
    expect(RemoteFork.decode(RemoteFork.encode({ vid: F, ancestors: [A] }), F)).toEqual({ vid: F, ancestors: [A], inlineCommits: {} });
  });

  it('stores the LSNs as deltas: a long run of commits costs about a byte each', () => {
    const run = Array.from({ length: 1000 }, (_, i) => LSN.parse(1_000_000 + 2 * i));
    const bare = RemoteFork.encode({ vid: F, ancestors: [A] }).byteLength;
    expect(RemoteFork.encode({ vid: F, ancestors: [A], inlineCommits: { [A]: run } }).byteLength - bare).toBeLessThan(1000 + 8);
  });

  it('refuses more than FORK_MAX_COMMITS commits', () => {
    const many = Array.from({ length: FORK_MAX_COMMITS + 1 }, (_, i) => LSN.parse(i + 1));
    expectScionError(() => RemoteFork.of(F, [A], { [A]: many }), 'InvalidInput');
  });

  it('reads a version 1 record (no commits) as one without inlineCommits', () => {
    expect(RemoteFork.decode(encodeForkV1(F, [B, A]), F)).toEqual({ vid: F, ancestors: [A, B].sort() });
  });

  it('refuses no ancestor, the fork itself as one, a bound of a volume not listed, and any other object or damage', () => {
    expectScionError(() => RemoteFork.of(F, []), 'InvalidInput');
    expectScionError(() => RemoteFork.of(F, [A, F]), 'InvalidInput');
    expectScionError(() => RemoteFork.of(F, [A], { [B]: [LSN.parse(1)] }), 'InvalidInput');
    for (const bytes of [RemoteFork.encode({ vid: F, ancestors: [A], inlineCommits: { [A]: [LSN.parse(3), LSN.parse(300)] } }), encodeForkV1(F, [A])]) {
      expectScionError(() => RemoteFork.decode(bytes, A), 'Corrupt');
      for (let i = 0; i < bytes.byteLength; i++) {
        const damaged = bytes.slice();
        damaged[i]! ^= 0x40;
        expectScionError(() => RemoteFork.decode(damaged, F), 'Corrupt');
      }
    }
  });
});
