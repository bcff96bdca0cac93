import { describe, expect, it } from 'vitest';
import { LSN } from './lsn.ts';
import { RemoteFork } from './remote-fork.ts';
import { encodeForkV1, expectScionError, seededIds } from './testing.ts';
import { VolumeId } from './volume-id.ts';

const [F, A, B] = [1, 2, 3].map((seed) => VolumeId.random(seededIds(seed))) as [VolumeId, VolumeId, VolumeId];

describe('RemoteFork', () => {
  it('round-trips, and its bytes follow from the fork, the set of its ancestors and their bounds alone', () => {
    const bytes = RemoteFork.encode({ vid: F, ancestors: [B, A, B], logBounds: { [B]: LSN.parse(7) } });
    expect(bytes).toEqual(RemoteFork.encode({ vid: F, ancestors: [A, B], logBounds: { [A]: undefined, [B]: LSN.parse(7) } }));
    expect(bytes).not.toEqual(RemoteFork.encode({ vid: F, ancestors: [A, B], logBounds: { [B]: LSN.parse(8) } }));
    expect(RemoteFork.decode(bytes, F)).toEqual({ vid: F, ancestors: [A, B].sort(), logBounds: { [B]: 7 } });
    // No bound given: none recorded (version 2), which is not the same as a version 1 record.
    expect(RemoteFork.decode(RemoteFork.encode({ vid: F, ancestors: [A] }), F)).toEqual({ vid: F, ancestors: [A], logBounds: {} });
  });

  it('reads a version 1 record (no bounds) as one without logBounds', () => {
    expect(RemoteFork.decode(encodeForkV1(F, [B, A]), F)).toEqual({ vid: F, ancestors: [A, B].sort() });
  });

  it('refuses no ancestor, the fork itself as one, a bound of a volume not listed, and any other object or damage', () => {
    expectScionError(() => RemoteFork.of(F, []), 'InvalidInput');
    expectScionError(() => RemoteFork.of(F, [A, F]), 'InvalidInput');
    expectScionError(() => RemoteFork.of(F, [A], { [B]: LSN.parse(1) }), 'InvalidInput');
    for (const bytes of [RemoteFork.encode({ vid: F, ancestors: [A], logBounds: { [A]: LSN.parse(300) } }), encodeForkV1(F, [A])]) {
      expectScionError(() => RemoteFork.decode(bytes, A), 'Corrupt');
      for (let i = 0; i < bytes.byteLength; i++) {
        const damaged = bytes.slice();
        damaged[i]! ^= 0x40;
        expectScionError(() => RemoteFork.decode(damaged, F), 'Corrupt');
      }
    }
  });
});
