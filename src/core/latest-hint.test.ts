import { describe, expect, it } from 'vitest';
import { ByteWriter, seal } from './codec.ts';
import type { Commit } from './commit.ts';
import { CommitHash } from './commit-hash.ts';
import { LatestHint } from './latest-hint.ts';
import { LSN } from './lsn.ts';
import { PageCount, PageIdx } from './page-idx.ts';
import { PageSet } from './page-set.ts';
import { expectScionError, fakeSegmentId, fakeVolumeId, flipBit } from './testing.ts';
import { VolumeId } from './volume-id.ts';

const vid = fakeVolumeId(1);
const commitAt = (lsn: number, of: VolumeId = vid): Commit => ({
  vid: of, lsn: LSN.parse(lsn), pageCount: PageCount.parse(3), hash: CommitHash.fromBytes(new Uint8Array(32).fill(lsn)),
  segment: { sid: fakeSegmentId(lsn), home: of, pages: PageSet.of([PageIdx.parse(1 + (lsn % 3))]), frames: [], hotFrames: 0 },
});

describe('LatestHint', () => {
  const hint = { vid, lsn: LSN.parse(130), checkpoint: 128, tail: [commitAt(129), commitAt(130)] };

  it('round-trips with its checkpoint and tail, and starts with "SLAT", version 2', () => {
    const bytes = LatestHint.encode(hint);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('SLAT');
    expect(bytes[4]).toBe(2);
    expect(LatestHint.decode(bytes, vid)).toEqual(hint);
    const atCheckpoint = { vid, lsn: LSN.parse(128), checkpoint: 128, tail: [] };
    expect(LatestHint.decode(LatestHint.encode(atCheckpoint), vid)).toEqual(atCheckpoint);
    expect(LatestHint.decode(LatestHint.encode({ vid, lsn: LSN.parse(5) }), vid)).toEqual({ vid, lsn: 5 });
  });

  it('reads version 1 (the LSN only)', () => {
    const v1 = seal(new ByteWriter(32).u32(0x5441_4c53).u8(1).bytes(VolumeId.toBytes(vid)).varint(123_456).finish());
    expect(LatestHint.decode(v1, vid)).toEqual({ vid, lsn: 123_456 });
  });

  it('is Corrupt when damaged, truncated, empty or naming another volume', () => {
    const bytes = LatestHint.encode(hint);
    for (let bit = 0; bit < bytes.byteLength * 8; bit += 7) expectScionError(() => LatestHint.decode(flipBit(bytes, bit), vid), 'Corrupt', 'InvalidInput');
    for (let len = 0; len < bytes.byteLength; len++) expectScionError(() => LatestHint.decode(bytes.subarray(0, len), vid), 'Corrupt');
    expectScionError(() => LatestHint.decode(bytes, fakeVolumeId(2)), 'Corrupt');
  });

  it('is Corrupt when its tail is not exactly the commits (checkpoint, lsn] of the volume', () => {
    for (const tail of [[commitAt(130)], [commitAt(130), commitAt(129)], [commitAt(129), commitAt(131)], [commitAt(129), commitAt(130, fakeVolumeId(2))], [commitAt(129), { ...commitAt(130), hash: undefined }]]) {
      expectScionError(() => LatestHint.decode(LatestHint.encode({ ...hint, tail }), vid), 'Corrupt');
    }
    expectScionError(() => LatestHint.decode(LatestHint.encode({ ...hint, checkpoint: 131, tail: [] }), vid), 'Corrupt');
  });
});
