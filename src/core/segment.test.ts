import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isScionError } from './errors.ts';
import { Page, PAGE_SIZE } from './page.ts';
import { PageIdx } from './page-idx.ts';
import { PageSet } from './page-set.ts';
import { decodeFrame, encodeFrame, encodeSegment, FRAME_HEADER_BYTES, FRAME_MAX_PAGES, frameOf, frameRange, FRAMES_IN_FLIGHT, type Deflate } from './segment.ts';
import { deflateSync } from 'fflate';
import { expectScionError, flipBit } from './testing.ts';

/*
 * Property tests of the frame codec: a frame round-trips any pages, and damaged bytes never decode
 * to pages other than the ones written — they are refused with a typed ScionError, except where
 * the damaged bits carry no information (see 'bit flips').
 */

/** Pages that compress well, badly (noise: stored raw) or not at all (zeros), from a seed. */
const anyPage = fc.oneof(
  fc.uint8Array({ minLength: PAGE_SIZE, maxLength: PAGE_SIZE }),
  fc.tuple(fc.nat(255), fc.integer({ min: 1, max: 97 })).map(([a, k]) => Uint8Array.from({ length: PAGE_SIZE }, (_, i) => (a + Math.floor(i / k)) & 0xff)),
  fc.constant(new Uint8Array(PAGE_SIZE)),
).map((b) => Page.from(b));

const anyPages = fc.array(anyPage, { minLength: 1, maxLength: 8 });
const setOf = (n: number, first = 1): PageSet => PageSet.of(Array.from({ length: n }, (_, i) => first + i));
const same = (a: Map<PageIdx, Page>, pages: readonly Page[], set: PageSet): boolean =>
  a.size === pages.length && [...set].every((idx, i) => {
    const got = a.get(idx);
    return got !== undefined && got.every((b, k) => b === (pages[i] as Page)[k]);
  });

/** Deterministic bytes that do not compress (xorshift32), so their frame is stored raw. */
function noise(n: number): Uint8Array {
  let x = 0x9e37_79b9;
  return Uint8Array.from({ length: n }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x & 0xff;
  });
}

/** Decodes and says what happened: the pages were right, or the typed code of the refusal. */
function outcome(bytes: Uint8Array, set: PageSet, pages: readonly Page[]): 'same' | 'wrong pages' | string {
  try {
    return same(decodeFrame(bytes, set), pages, set) ? 'same' : 'wrong pages';
  } catch (e) {
    return isScionError(e) ? e.code : `untyped ${(e as Error).name}: ${(e as Error).message}`;
  }
}

describe('frames round-trip', () => {
  it('decode what encodeFrame wrote, for any pages (compressed or stored)', () => {
    fc.assert(
      fc.property(anyPages, fc.integer({ min: 1, max: 1000 }), (pages, first) => {
        const set = setOf(pages.length, first);
        expect(same(decodeFrame(encodeFrame(pages), set), pages, set)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('a full frame of 64 pages round-trips; 0 or 65 pages are refused at encode', () => {
    const pages = Array.from({ length: FRAME_MAX_PAGES }, (_, i) => Page.from(new Uint8Array(PAGE_SIZE).fill(i)));
    expect(same(decodeFrame(encodeFrame(pages), setOf(64)), pages, setOf(64))).toBe(true);
    expectScionError(() => encodeFrame([]), 'InvalidInput');
    expectScionError(() => encodeFrame([...pages, pages[0] as Page]), 'InvalidInput');
  });

  it('segments of any grouping decode frame by frame through frameRange and frameOf', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 1, max: 5000 }), anyPage), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 6 }), async (entries, groupSize) => {
        const unique = [...new Map(entries.map(([i, p]) => [i, p])).entries()].map(([i, p]) => [PageIdx.parse(i), p] as [PageIdx, Page]);
        const groups: [PageIdx, Page][][] = [];
        for (let i = 0; i < unique.length; i += groupSize) groups.push(unique.slice(i, i + groupSize));
        const { bytes, frames } = await encodeSegment(groups);
        expect(frames.reduce((n, f) => n + f.bytes, 0)).toBe(bytes.byteLength);
        for (const [idx, page] of unique) {
          const k = frameOf(frames, idx);
          expect(k).toBeGreaterThanOrEqual(0);
          const { start, end } = frameRange(frames, k);
          expect(decodeFrame(bytes.subarray(start, end), frames[k]!.pages).get(idx)).toEqual(page);
        }
        expect(frameOf(frames, PageIdx.parse(5001))).toBe(-1);
      }),
      { numRuns: 20 },
    );
  });
});

describe('damaged frames never decode to other pages', () => {
  // Each example: pages that deflate, and a page of noise that is stored raw (codec 0).
  const examples = [
    { name: 'a deflated frame', pages: [Page.from(Uint8Array.from({ length: PAGE_SIZE }, (_, i) => i % 7)), Page.from(new Uint8Array(PAGE_SIZE))] },
    { name: 'a stored frame', pages: [Page.from(noise(PAGE_SIZE))] },
  ];

  for (const { name, pages } of examples) {
    const bytes = encodeFrame(pages);
    const set = setOf(pages.length);

    it(`${name}: every truncation is refused as Corrupt`, () => {
      for (let n = 0; n < bytes.byteLength; n++) expect(outcome(bytes.subarray(0, n), set, pages), `cut at ${n}`).toBe('Corrupt');
    });

    it(`${name}: every single bit flip is refused with a typed error or decodes to the same pages`, () => {
      const seen = new Map<string, number>();
      // Every bit of the header and of a deflated body; every 13th bit of a stored page (4 KiB each).
      const step = (bit: number) => (bit < FRAME_HEADER_BYTES * 8 || bytes[5] === 1 ? 1 : 13);
      for (let bit = 0; bit < bytes.byteLength * 8; bit += step(bit)) {
        const o = outcome(flipBit(bytes, bit), set, pages);
        seen.set(o, (seen.get(o) ?? 0) + 1);
        expect(['Corrupt', 'InvalidInput', 'same'], `bit ${bit}: ${o}`).toContain(o);
        // The version byte is read before any checksum: a flip there reads as a newer format.
        if (o === 'InvalidInput') expect(bit >> 3).toBe(4);
        // Only bits that carry no information go unnoticed: the reserved header bytes and
        // deflate slack (unused code lengths, padding). The CRC covers the pages, not the bytes.
        if (o === 'same') expect((bit >> 3 >= 6 && bit >> 3 < 8) || (bit >> 3 >= FRAME_HEADER_BYTES && bytes[5] === 1), `bit ${bit}`).toBe(true);
      }
      expect(seen.get('Corrupt')).toBeGreaterThan(((seen.get('same') ?? 0) + (seen.get('InvalidInput') ?? 0)) * 10);
    });

    it(`${name}: a page count that disagrees with the commit is refused`, () => {
      for (const n of [pages.length - 1, pages.length + 1, 64]) if (n > 0) expect(outcome(bytes, setOf(n), pages)).toBe('Corrupt');
    });
  }

  it('the examples are one deflated and one stored frame', () => {
    expect(examples.map(({ pages }) => encodeFrame(pages)[5])).toEqual([1, 0]);
  });

  it('trailing bytes are refused after a stored frame; after a deflated one they are ignored, the pages stay right', () => {
    for (const { pages } of examples) {
      const bytes = encodeFrame(pages);
      const longer = new Uint8Array(bytes.byteLength + 9).fill(0xa5);
      longer.set(bytes);
      expect(outcome(longer, setOf(pages.length), pages)).toBe(bytes[5] === 0 ? 'Corrupt' : 'same');
    }
  });

  it('any random mutation of any frame is refused with a typed error or decodes to the same pages', () => {
    fc.assert(
      fc.property(
        anyPages,
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        (pages, edits, cut) => {
          const bytes = encodeFrame(pages).slice();
          for (const [at, value] of edits) bytes[at % bytes.byteLength] = value;
          const damaged = cut === undefined ? bytes : bytes.subarray(0, cut % bytes.byteLength);
          expect(['Corrupt', 'InvalidInput', 'same']).toContain(outcome(damaged, setOf(pages.length), pages));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('arbitrary bytes, with or without a valid header, are refused with a typed error, never a crash or a hang', () => {
    const header = (count: number, codec: number) => {
      const h = new Uint8Array(FRAME_HEADER_BYTES);
      const v = new DataView(h.buffer);
      v.setUint32(0, 0x4d52_4653, true);
      v.setUint8(4, 1);
      v.setUint8(5, codec);
      v.setUint32(8, count, true);
      return h;
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: FRAME_MAX_PAGES }), fc.boolean(), fc.nat(1), (body, count, withHeader, codec) => {
        const bytes = withHeader ? new Uint8Array([...header(count, codec), ...body]) : body;
        const o = outcome(bytes, setOf(count), []);
        expect(['Corrupt', 'InvalidInput'], o).toContain(o);
      }),
      { numRuns: 300 },
    );
  });

  it('a header claiming more pages than its commit lists is refused before anything is allocated', () => {
    const lying = encodeFrame([Page.from(new Uint8Array(PAGE_SIZE))]).slice();
    new DataView(lying.buffer).setUint32(8, 0xffff_ffff, true);
    expect(outcome(lying, setOf(1), [])).toBe('Corrupt');
  });
});

describe('encodeSegment holds few raw frames at once', () => {
  it('a 32 MiB segment never has more than FRAMES_IN_FLIGHT raw frames in compression, and its bytes are those of one frame at a time', async () => {
    const pages = 8192;
    const groups = Array.from({ length: pages / FRAME_MAX_PAGES }, (_, f) =>
      Array.from({ length: FRAME_MAX_PAGES }, (_, i) => {
        const idx = f * FRAME_MAX_PAGES + i + 1;
        return [PageIdx.parse(idx), Page.from(new Uint8Array(PAGE_SIZE).fill(idx & 0xff))] as [PageIdx, Page];
      }));
    let held = 0;
    let peak = 0;
    const counting: Deflate = async (raw) => {
      held += raw.byteLength;
      peak = Math.max(peak, held);
      await new Promise((r) => setTimeout(r, 0));
      held -= raw.byteLength;
      return deflateSync(raw, { level: 1 });
    };
    const parallel = await encodeSegment(groups, counting);
    expect(peak).toBeLessThanOrEqual(FRAMES_IN_FLIGHT * FRAME_MAX_PAGES * PAGE_SIZE);
    expect(peak).toBeGreaterThan(FRAME_MAX_PAGES * PAGE_SIZE); // still in parallel
    const oneByOne = await encodeSegment(groups, (raw) => deflateSync(raw, { level: 1 }));
    expect(Buffer.from(parallel.bytes).equals(oneByOne.bytes)).toBe(true);
    expect(parallel.frames.map((f) => f.pages.toString())).toEqual(oneByOne.frames.map((f) => f.pages.toString()));
  });
});
