import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter, seal } from './codec.ts';
import { Commit, type FrameRef } from './commit.ts';
import { CommitHash } from './commit-hash.ts';
import { isScionError } from './errors.ts';
import { LSN } from './lsn.ts';
import { PAGE_IDX_MAX, PageCount, PageIdx } from './page-idx.ts';
import { PageSet } from './page-set.ts';
import { FRAME_MAX_PAGES } from './segment.ts';
import { SegmentId } from './segment-id.ts';
import { expectScionError, fakeSegmentId, fakeVolumeId, flipBit, reseal, seededIds } from './testing.ts';
import { VolumeId } from './volume-id.ts';

const MAGIC = 0x544d_4353;
const LSN_OFFSET = 4 + 1 + 1 + 16; // magic, version, flags, vid

/** Comparable plain form: PageSets keep their state in #private fields, which toEqual cannot see. */
const plain = (c: Commit) => ({
  vid: c.vid,
  lsn: c.lsn,
  pageCount: c.pageCount,
  hash: c.hash,
  segment: c.segment && {
    sid: c.segment.sid,
    home: c.segment.home,
    pages: [...c.segment.pages.ranges()],
    frames: c.segment.frames.map((f) => ({ pages: [...f.pages.ranges()], bytes: f.bytes, digest: f.digest && [...f.digest] })),
    hotFrames: c.segment.hotFrames ?? 0,
  },
});

/** Splits `pages` (ascending) into consecutive frames of the given sizes, cycling through them. */
function framesOf(pages: PageSet, sizes: number[]): FrameRef[] {
  const all = [...pages];
  const frames: FrameRef[] = [];
  for (let i = 0, k = 0; i < all.length; k++) {
    const n = sizes[k % sizes.length] as number;
    frames.push({ pages: PageSet.of(all.slice(i, i + n)), bytes: 100 * n + k });
    i += n;
  }
  return frames;
}

const vid = fakeVolumeId(1);
const sid = fakeSegmentId(2);
const hash = CommitHash.fromBytes(Uint8Array.from({ length: 32 }, (_, i) => i * 7));
const pages = PageSet.of([1, 2, 3, 10, 11, 70, 200]);
const full: Commit = {
  vid,
  lsn: LSN.parse(42),
  pageCount: PageCount.parse(300),
  hash,
  segment: { sid, pages, frames: framesOf(pages, [4, 3]) },
};

const examples: [string, Commit][] = [
  ['a bare commit', { vid, lsn: LSN.FIRST, pageCount: PageCount.ZERO }],
  ['a commit with a hash', { vid, lsn: LSN.parse(Number.MAX_SAFE_INTEGER), pageCount: PageCount.parse(PAGE_IDX_MAX), hash }],
  ['a commit with an un-uploaded segment', { vid, lsn: LSN.parse(7), pageCount: PageCount.parse(300), segment: { sid, pages, frames: [] } }],
  ['a commit with an empty segment', { vid, lsn: LSN.parse(7), pageCount: PageCount.parse(5), segment: { sid, pages: PageSet.EMPTY, frames: [] } }],
  ['a commit with frames and a hash', full],
];

const anyCommit = fc
  .record({
    vidSeed: fc.integer(),
    lsn: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
    extraPages: fc.oneof(fc.nat(10), fc.nat(PAGE_IDX_MAX)),
    hash: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: undefined }),
    segment: fc.option(
      fc.record({
        sidSeed: fc.integer(),
        indexes: fc.array(fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: PAGE_IDX_MAX })), { maxLength: 100 }),
        frameSizes: fc.option(fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 4 }), { nil: undefined }),
      }),
      { nil: undefined },
    ),
  })
  .map((r): Commit => {
    const segPages = PageSet.of(r.segment?.indexes ?? []);
    return {
      vid: VolumeId.random(seededIds(r.vidSeed)),
      lsn: LSN.parse(r.lsn),
      pageCount: PageCount.parse(Math.min(PAGE_IDX_MAX, (segPages.last ?? 0) + r.extraPages)),
      hash: r.hash && CommitHash.fromBytes(r.hash),
      segment: r.segment && {
        sid: SegmentId.random(seededIds(r.segment.sidSeed)),
        pages: segPages,
        frames: r.segment.frameSizes ? framesOf(segPages, r.segment.frameSizes) : [],
      },
    };
  });

/** The record as the format describes it, written field by field; `over` breaks one field. */
function raw(c: Commit, over: { magic?: number; version?: number; flags?: number; vid?: Uint8Array; lsn?: number; pageCount?: number; frameCount?: number; trailing?: number[] } = {}): Uint8Array {
  const flags = over.flags ?? ((c.hash ? 1 : 0) | (c.segment ? 2 : 0));
  const version = over.version ?? 2;
  const w = new ByteWriter()
    .u32(over.magic ?? MAGIC)
    .u8(version)
    .u8(flags)
    .bytes(over.vid ?? VolumeId.toBytes(c.vid))
    .varint(over.lsn ?? c.lsn)
    .varint(over.pageCount ?? c.pageCount);
  if (c.hash) w.bytes(CommitHash.toBytes(c.hash));
  if (c.segment) {
    const digests = c.segment.frames.length > 0 && c.segment.frames.every((f) => f.digest);
    w.bytes(SegmentId.toBytes(c.segment.sid));
    // Format 2: segment flags (1 home, 2 digests), then the home volume.
    if (version !== 1) w.u8((c.segment.home ? 1 : 0) | (digests ? 2 : 0));
    if (version !== 1 && c.segment.home) w.bytes(VolumeId.toBytes(c.segment.home));
    c.segment.pages.writeTo(w);
    w.varint(over.frameCount ?? c.segment.frames.length);
    for (const f of c.segment.frames) {
      f.pages.writeTo(w);
      w.varint(f.bytes);
      if (version !== 1 && digests) w.bytes(f.digest as Uint8Array);
    }
    w.varint(c.segment.hotFrames ?? 0);
  }
  w.bytes(Uint8Array.from(over.trailing ?? []));
  return seal(w.finish());
}

const withSegment = (c: Commit, seg: Partial<NonNullable<Commit['segment']>>): Commit => ({
  ...c,
  segment: { sid, pages, frames: [], ...c.segment, ...seg },
});

describe('Commit', () => {
  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(anyCommit, (c) => {
        expect(plain(Commit.decode(Commit.encode(c)))).toEqual(plain(c));
      }),
    );
  });

  it.each(examples)('round-trips %s', (_, c) => {
    const decoded = Commit.decode(Commit.encode(c));
    expect(plain(decoded)).toEqual(plain(c));
    expect(decoded.hash === undefined).toBe(c.hash === undefined);
    expect(decoded.segment === undefined).toBe(c.segment === undefined);
    expect(Commit.pages(decoded).equals(Commit.pages(c))).toBe(true);
  });

  it.each(examples)('encodes %s as the format describes: "SCMT", version 2, flags, fields, CRC-32C', (_, c) => {
    const encoded = Commit.encode(c);
    expect(new TextDecoder().decode(encoded.subarray(0, 4))).toBe('SCMT');
    expect(encoded[4]).toBe(2);
    expect(encoded).toEqual(raw(c));
  });

  it.each(examples.filter(([, c]) => !c.segment?.home))('still reads %s written by format 1', (_, c) => {
    expect(plain(Commit.decode(raw(c, { version: 1 })))).toEqual(plain(c));
  });

  it('keeps each frame\'s digest and the segment\'s home volume (format 2)', () => {
    const frames = full.segment!.frames.map((f, i) => ({ ...f, digest: Uint8Array.from({ length: 32 }, (_, k) => (i * 31 + k) & 0xff) }));
    const c = withSegment(full, { frames, home: fakeVolumeId(9) });
    const decoded = Commit.decode(Commit.encode(c));
    expect(plain(decoded)).toEqual(plain(c));
    expect(Commit.encode(c)).toEqual(raw(c));
    for (const bit of [0, 8 * (Commit.encode(c).byteLength - 40)]) expectScionError(() => Commit.decode(flipBit(Commit.encode(c), bit)), 'Corrupt');
  });

  it('refuses to encode digests for some frames only', () => {
    const frames = full.segment!.frames.map((f, i) => (i === 0 ? { ...f, digest: new Uint8Array(32) } : f));
    expectScionError(() => Commit.encode(withSegment(full, { frames })), 'InvalidInput');
  });

  it('returns the segment pages, or none without a segment', () => {
    expect(Commit.pages(full).equals(pages)).toBe(true);
    expect(Commit.pages(examples[0]![1]).isEmpty).toBe(true);
  });

  it('accepts the frames in any order', () => {
    const frames = [...(full.segment?.frames ?? [])].reverse();
    const c = withSegment(full, { frames });
    expect(plain(Commit.decode(Commit.encode(c)))).toEqual(plain(c));
  });

  describe('decode rejects damaged bytes', () => {
    it.each(examples)('rejects every truncation of %s', (_, c) => {
      const encoded = Commit.encode(c);
      for (let len = 0; len < encoded.byteLength; len++) expectScionError(() => Commit.decode(encoded.subarray(0, len)), 'Corrupt');
    });

    it.each(examples)('rejects every single-bit flip of %s', (_, c) => {
      const encoded = Commit.encode(c);
      for (let bit = 0; bit < encoded.byteLength * 8; bit++) expectScionError(() => Commit.decode(flipBit(encoded, bit)), 'Corrupt');
    });

    it('rejects trailing bytes, after or inside the checksum', () => {
      const encoded = Commit.encode(full);
      expectScionError(() => Commit.decode(Uint8Array.of(...encoded, 0)), 'Corrupt');
      expectScionError(() => Commit.decode(raw(full, { trailing: [0] })), 'Corrupt');
      expectScionError(() => Commit.decode(raw(examples[0]![1], { trailing: [1, 2, 3] })), 'Corrupt');
    });

    it('rejects more hot frames than frames', () => {
      const framed = examples.find(([, c]) => (c.segment?.frames.length ?? 0) > 0)?.[1];
      expect(framed).toBeDefined();
      const bad = { ...framed!, segment: { ...framed!.segment!, hotFrames: framed!.segment!.frames.length + 1 } };
      expectScionError(() => Commit.decode(raw(bad)), 'Corrupt');
      const ok = { ...framed!, segment: { ...framed!.segment!, hotFrames: framed!.segment!.frames.length } };
      expect(Commit.decode(Commit.encode(ok)).segment?.hotFrames).toBe(framed!.segment!.frames.length);
    });

    it('rejects bad magic bytes', () => {
      for (const magic of [0, MAGIC ^ 1, 0x53434d54]) expectScionError(() => Commit.decode(raw(full, { magic })), 'Corrupt');
    });

    it('rejects an unknown version as InvalidInput, even when the checksum is right', () => {
      for (const version of [0, 3, 255]) {
        expectScionError(() => Commit.decode(raw(full, { version })), 'InvalidInput');
        const patched = reseal(Commit.encode(full), (body) => void (body[4] = version));
        expectScionError(() => Commit.decode(patched), 'InvalidInput');
      }
    });

    it('rejects unknown flags', () => {
      for (const flags of [4, 8, 0x80, 0xff, 1 | 4]) expectScionError(() => Commit.decode(raw(full, { flags })), 'Corrupt');
    });

    it('rejects flags that promise a hash or segment the record does not hold', () => {
      const bare = examples[0]![1];
      for (const flags of [1, 2, 3]) expectScionError(() => Commit.decode(raw(bare, { flags })), 'Corrupt');
      expectScionError(() => Commit.decode(raw(full, { flags: 0 })), 'Corrupt');
    });

    it('rejects a zero LSN inside an otherwise valid record', () => {
      const c = { ...full, lsn: LSN.FIRST };
      const encoded = Commit.encode(c);
      expect(encoded[LSN_OFFSET]).toBe(1);
      expectScionError(() => Commit.decode(reseal(encoded, (body) => void (body[LSN_OFFSET] = 0))), 'Corrupt');
      expectScionError(() => Commit.decode(raw(full, { lsn: 0 })), 'Corrupt');
    });

    it('rejects a page count beyond 2^32-1', () => {
      expectScionError(() => Commit.decode(raw(examples[0]![1], { pageCount: PAGE_IDX_MAX + 1 })), 'Corrupt');
    });

    it('rejects ids of the wrong kind', () => {
      expectScionError(() => Commit.decode(raw(full, { vid: SegmentId.toBytes(sid) })), 'Corrupt');
      const segmentAsVolume = { ...full, segment: { ...full.segment!, sid: vid as unknown as SegmentId } };
      expectScionError(() => Commit.encode(segmentAsVolume), 'InvalidInput');
    });

    it('rejects a frame count larger than the bytes left', () => {
      expectScionError(() => Commit.decode(raw(full, { frameCount: 3 })), 'Corrupt');
      expectScionError(() => Commit.decode(raw(full, { frameCount: 10_000 })), 'Corrupt');
    });
  });

  describe('structural rules', () => {
    const rejected = (c: Commit): void => {
      expectScionError(() => Commit.validate(c), 'Corrupt');
      expectScionError(() => Commit.decode(Commit.encode(c)), 'Corrupt');
    };

    it('accepts every example', () => {
      for (const [, c] of examples) Commit.validate(c);
    });

    it('rejects a segment page beyond the page count', () => {
      rejected({ ...full, pageCount: PageCount.parse(199) });
      rejected(withSegment({ ...full, pageCount: PageCount.ZERO }, { pages: PageSet.of([1]), frames: [] }));
      Commit.validate({ ...full, pageCount: PageCount.parse(200) });
    });

    it('rejects frames that overlap', () => {
      const frames = [
        { pages: PageSet.of([1, 2, 3, 10]), bytes: 1 },
        { pages: PageSet.of([10, 11, 70, 200]), bytes: 1 },
      ];
      rejected(withSegment(full, { frames }));
    });

    it('rejects frames that miss a segment page', () => {
      rejected(withSegment(full, { frames: framesOf(PageSet.of([1, 2, 3, 10, 11, 70]), [4]) }));
    });

    it('rejects frames holding a page outside the segment', () => {
      rejected(withSegment(full, { frames: framesOf(pages.union(PageSet.of([5])), [4]) }));
    });

    it('rejects an empty frame', () => {
      rejected(withSegment(full, { frames: [...framesOf(pages, [8]), { pages: PageSet.EMPTY, bytes: 0 }] }));
    });

    it('rejects a frame of more than FRAME_MAX_PAGES pages', () => {
      const many = PageSet.range(PageIdx.parse(1), PageIdx.parse(FRAME_MAX_PAGES + 1));
      rejected({ ...full, segment: { sid, pages: many, frames: [{ pages: many, bytes: 1 }] } });
      Commit.validate({ ...full, segment: { sid, pages: many, frames: framesOf(many, [FRAME_MAX_PAGES, 1]) } });
    });

    it('accepts disjoint frames in any page order, and rejects an overlap between frames far apart', () => {
      const frames = framesOf(pages, [2]);
      Commit.validate(withSegment(full, { frames: [...frames].reverse() }));
      Commit.validate(withSegment(full, { frames: [frames[1]!, frames[3]!, frames[0]!, frames[2]!] }));
      const overlapping = [...frames, { pages: PageSet.of([2]), bytes: 1 }];
      rejected(withSegment(full, { frames: overlapping }));
      rejected(withSegment(full, { frames: [overlapping.at(-1)!, ...frames.slice(1), frames[0]!] }));
    });

    it('checks a commit of many frames (a whole-database clone) like a small one', () => {
      const big = PageSet.range(PageIdx.parse(1), PageIdx.parse(200_000));
      const frames = framesOf(big, [FRAME_MAX_PAGES]);
      const whole: Commit = { ...full, pageCount: PageCount.parse(200_000), segment: { sid, pages: big, frames } };
      Commit.validate(whole);
      rejected({ ...whole, segment: { sid, pages: big, frames: frames.slice(0, -1) } });
      rejected({ ...whole, segment: { sid, pages: big, frames: [...frames, { pages: PageSet.of([100_000]), bytes: 1 }] } });
    });
  });

  it('decodes any mutated, re-sealed record to a commit that re-encodes to the same bytes, or throws a ScionError', () => {
    const encoded = Commit.encode(full);
    const bodyLength = encoded.byteLength - 4;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(bodyLength - 1), fc.nat(255)), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: -2, max: 2 }),
        (edits, resize) => {
          const bytes = reseal(encoded, (body) => {
            for (const [at, value] of edits) body[at] = value;
            return resize < 0 ? body.subarray(0, body.byteLength + resize) : Uint8Array.of(...body, ...new Uint8Array(resize));
          });
          let c: Commit;
          try {
            c = Commit.decode(bytes);
          } catch (e) {
            expect(isScionError(e, 'Corrupt') || isScionError(e, 'InvalidInput'), String(e)).toBe(true);
            return;
          }
          expect(Commit.encode(c)).toEqual(bytes);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('Commit checkpoints (format 2)', () => {
  const older = (lsn: number, p: number[]): Commit => ({ vid, lsn: LSN.parse(lsn), pageCount: PageCount.parse(300), hash, segment: { sid: fakeSegmentId(lsn), pages: PageSet.of(p), frames: [{ pages: PageSet.of(p), bytes: 50 }] } });
  const checkpointed: Commit = { ...full, checkpoint: [older(3, [4, 5]), older(17, [6]), older(41, [12])] };

  it('round-trips the commits a checkpoint carries, in order', () => {
    const decoded = Commit.decode(Commit.encode(checkpointed));
    expect(plain(decoded)).toEqual(plain(full));
    expect(decoded.checkpoint?.map(plain)).toEqual(checkpointed.checkpoint?.map(plain));
    expect(Commit.decode(Commit.encode(full)).checkpoint).toBeUndefined();
  });

  it('refuses a checkpoint holding another volume\'s commit, a later or unordered one, or one without a hash as Corrupt', () => {
    const bad: Commit[][] = [
      [{ ...older(3, [4]), vid: fakeVolumeId(9) }],
      [older(42, [4])],
      [older(17, [4]), older(3, [5])],
      [{ ...older(3, [4]), hash: undefined }],
    ];
    for (const checkpoint of bad) expectScionError(() => Commit.decode(Commit.encode({ ...full, checkpoint })), 'Corrupt');
  });
});
