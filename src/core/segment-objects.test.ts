import { describe, expect, it } from 'vitest';
import { Commit, type FrameRef, type SegmentRef } from './commit.ts';
import { CommitHash } from './commit-hash.ts';
import { LSN } from './lsn.ts';
import { PageCount } from './page-idx.ts';
import { PageSet } from './page-set.ts';
import { RemoteKey } from './remote-keys.ts';
import { frameObject, frameSpan, segmentObjects } from './segment-objects.ts';
import { expectScionError, fakeSegmentId, fakeVolumeId, reseal } from './testing.ts';

const vid = fakeVolumeId(1);
const hash = CommitHash.fromBytes(new Uint8Array(32).fill(9));
const frame = (first: number, bytes: number): FrameRef => ({ pages: PageSet.of([first, first + 1]), bytes, digest: new Uint8Array(32).fill(first) });
const frames = [frame(1, 100), frame(3, 50), frame(5, 70), frame(7, 30)];
const pages = PageSet.of([1, 2, 3, 4, 5, 6, 7, 8]);
const commitOf = (segment: SegmentRef): Commit => ({ vid, lsn: LSN.parse(5), pageCount: PageCount.parse(8), hash, segment });

describe('segment objects (format 2: one object, parts, or inline in the commit)', () => {
  it('a segment in parts: each frame in its part, ranges relative to the part, and the record round-trips', () => {
    const parts = [{ sid: fakeSegmentId(3), frames: 2 }, { sid: fakeSegmentId(4), frames: 2 }];
    const seg: SegmentRef = { sid: fakeSegmentId(2), home: vid, pages, frames, parts };
    expect(frameSpan(seg, 0, 1)).toEqual({ at: { sid: parts[0]!.sid, home: vid }, start: 0, end: 150 });
    expect(frameSpan(seg, 2, 2)).toEqual({ at: { sid: parts[1]!.sid, home: vid }, start: 0, end: 70 });
    expect(frameSpan(seg, 3, 3)).toEqual({ at: { sid: parts[1]!.sid, home: vid }, start: 70, end: 100 });
    expect(frameObject(seg, 1).index).toBe(0);
    expect(frameObject(seg, 2).index).toBe(1);
    expectScionError(() => frameSpan(seg, 1, 2), 'InvalidInput');
    expect(segmentObjects(seg).map(RemoteKey.segment)).toEqual(parts.map((p) => RemoteKey.segment({ sid: p.sid, home: vid })));
    const back = Commit.decode(Commit.encode(commitOf(seg)));
    expect(back.segment?.parts).toEqual(parts);
  });

  it('inline frames: read from the commit object at its key, after the record; copies of the record (tails, checkpoints) carry the place, not the bytes', () => {
    const data = Uint8Array.from({ length: 250 }, (_, i) => i);
    const { commit, bytes } = Commit.withInlineFrames(commitOf({ sid: fakeSegmentId(2), home: vid, pages, frames }), data);
    const inline = commit.segment?.inline;
    expect(inline?.lsn).toBe(5);
    expect(bytes.subarray(inline!.offset, inline!.offset + 250)).toEqual(data);
    const span = frameSpan(commit.segment!, 1, 2);
    expect(RemoteKey.segment(span.at)).toBe(RemoteKey.commit(vid, LSN.parse(5)));
    expect(bytes.subarray(span.start, span.end)).toEqual(data.subarray(100, 220));
    expect(segmentObjects(commit.segment!)).toEqual([]);
    // The object decodes to the commit; the record alone (no frames) to the same commit.
    const fromObject = Commit.decode(bytes);
    const copy = Commit.encode(commit);
    expect(copy.byteLength).toBe(bytes.byteLength - 250);
    expect(Commit.decode(copy).segment?.inline).toEqual(inline);
    expect(fromObject.segment?.inline).toEqual(inline);
  });

  it('refuses inline frames placed elsewhere than where the record says, and parts that do not cover the frames', () => {
    const data = new Uint8Array(250);
    const seg: SegmentRef = { sid: fakeSegmentId(2), home: vid, pages, frames };
    const { commit, bytes } = Commit.withInlineFrames(commitOf(seg), data);
    // The record's offset field (a u32 right before where the frames start, after checkpoint-less fields) moved by one: refused.
    const offset = commit.segment!.inline!.offset;
    const at = offset - 4;
    expect(new DataView(bytes.buffer).getUint32(at, true)).toBe(offset);
    const lying = reseal(bytes, (body) => new DataView(body.buffer).setUint32(at, offset + 1, true));
    expect(() => Commit.decode(lying)).toThrow(/does not place/);
    expectScionError(() => Commit.withInlineFrames(commitOf(seg), new Uint8Array(10)), 'InvalidInput');
    const short = Commit.encode(commitOf({ ...seg, parts: [{ sid: fakeSegmentId(3), frames: 3 }] }));
    expectScionError(() => Commit.decode(short), 'Corrupt');
  });
});
