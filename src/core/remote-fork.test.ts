import { describe, expect, it } from 'vitest';
import { RemoteFork } from './remote-fork.ts';
import { expectScionError, seededIds } from './testing.ts';
import { VolumeId } from './volume-id.ts';

const [F, A, B] = [1, 2, 3].map((seed) => VolumeId.random(seededIds(seed)));

describe('RemoteFork', () => {
  it('round-trips, and its bytes follow from the fork and the set of its ancestors alone', () => {
    const bytes = RemoteFork.encode({ vid: F!, ancestors: [B!, A!, B!] });
    expect(bytes).toEqual(RemoteFork.encode({ vid: F!, ancestors: [A!, B!] }));
    expect(RemoteFork.decode(bytes, F!)).toEqual(RemoteFork.of(F!, [A!, B!]));
  });

  it('refuses no ancestor, the fork itself as one, and any other object or damage', () => {
    expectScionError(() => RemoteFork.of(F!, []), 'InvalidInput');
    expectScionError(() => RemoteFork.of(F!, [A!, F!]), 'InvalidInput');
    const bytes = RemoteFork.encode({ vid: F!, ancestors: [A!] });
    expectScionError(() => RemoteFork.decode(bytes, A!), 'Corrupt');
    for (let i = 0; i < bytes.byteLength; i++) {
      const damaged = bytes.slice();
      damaged[i]! ^= 0x40;
      expectScionError(() => RemoteFork.decode(damaged, F!), 'Corrupt');
    }
  });
});
