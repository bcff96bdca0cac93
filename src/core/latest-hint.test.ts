import { describe, expect, it } from 'vitest';
import { LatestHint } from './latest-hint.ts';
import { LSN } from './lsn.ts';
import { expectScionError, fakeVolumeId, flipBit } from './testing.ts';

describe('LatestHint', () => {
  const vid = fakeVolumeId(1);
  const hint = { vid, lsn: LSN.parse(123_456) };

  it('round-trips and starts with "SLAT", version 1', () => {
    const bytes = LatestHint.encode(hint);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('SLAT');
    expect(bytes[4]).toBe(1);
    expect(LatestHint.decode(bytes, vid)).toEqual(hint);
  });

  it('is Corrupt when damaged, truncated, empty or naming another volume', () => {
    const bytes = LatestHint.encode(hint);
    for (let bit = 0; bit < bytes.byteLength * 8; bit += 7) expectScionError(() => LatestHint.decode(flipBit(bytes, bit), vid), 'Corrupt');
    for (let len = 0; len < bytes.byteLength; len++) expectScionError(() => LatestHint.decode(bytes.subarray(0, len), vid), 'Corrupt');
    expectScionError(() => LatestHint.decode(bytes, fakeVolumeId(2)), 'Corrupt');
  });
});
