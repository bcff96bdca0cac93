import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, seal } from './codec.ts';
import { isScionError } from './errors.ts';
import { PAGE_IDX_MAX, PageCount, PageIdx } from './page-idx.ts';
import { PageSet } from './page-set.ts';
import { expectScionError, flipBit, reseal } from './testing.ts';

const p = PageIdx.parse;
const count = PageCount.parse;

/** Small indexes, so that sets have runs, gaps of one and adjacent ranges; compared against a Set<number>. */
const smallIndexes = fc.array(fc.integer({ min: 1, max: 80 }), { maxLength: 60 });
/** Also reaches the top of the u32 range. */
const anyIndexes = fc.array(
  fc.oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: PAGE_IDX_MAX }), fc.constantFrom(1, PAGE_IDX_MAX - 1, PAGE_IDX_MAX)),
  { maxLength: 40 },
);
/** Sets made of possibly huge ranges (too big to enumerate). */
const rangedSet = fc
  .array(fc.tuple(fc.integer({ min: 1, max: PAGE_IDX_MAX }), fc.integer({ min: 0, max: 2 ** 31 })), { maxLength: 8 })
  .map((rs) => rs.reduce((set, [start, len]) => set.union(PageSet.range(p(start), p(Math.min(start + len, PAGE_IDX_MAX)))), PageSet.EMPTY));
const anySet = fc.oneof(smallIndexes.map((xs) => PageSet.of(xs)), anyIndexes.map((xs) => PageSet.of(xs)), rangedSet);

const sortedUnique = (xs: Iterable<number>): number[] => [...new Set(xs)].sort((a, b) => a - b);

/** Ranges are within 1..=2^32-1, ascending, non-empty, and never touch; size/first/last agree with them. */
function expectCanonical(set: PageSet): void {
  let prevEnd = -1;
  let size = 0;
  const ranges = [...set.ranges()];
  for (const [start, end] of ranges) {
    expect(start).toBeGreaterThanOrEqual(1);
    expect(end).toBeGreaterThanOrEqual(start);
    expect(end).toBeLessThanOrEqual(PAGE_IDX_MAX);
    expect(start).toBeGreaterThan(prevEnd + 1);
    size += end - start + 1;
    prevEnd = end;
  }
  expect(set.size).toBe(size);
  expect(set.isEmpty).toBe(size === 0);
  expect(set.first).toBe(ranges[0]?.[0]);
  expect(set.last).toBe(ranges.at(-1)?.[1]);
}

/** Decoding must fail with a ScionError, never return a set or throw anything else. */
function expectRejected(bytes: Uint8Array): void {
  expectScionError(() => PageSet.decode(bytes), 'Corrupt', 'InvalidInput');
}

const examples: [string, PageSet][] = [
  ['the empty set', PageSet.EMPTY],
  ['one page', PageSet.of([1])],
  ['the last page', PageSet.of([PAGE_IDX_MAX])],
  ['a whole volume', PageSet.all(count(1_000_000))],
  ['scattered pages', PageSet.of([1, 2, 3, 5, 9, 10, 200, 70_000, 4_000_000_000, PAGE_IDX_MAX])],
];

describe('PageSet', () => {
  it('of() holds the same pages as a Set, in ascending order', () => {
    fc.assert(
      fc.property(anyIndexes, (xs) => {
        const set = PageSet.of(xs);
        const ref = new Set(xs);
        expect(set.size).toBe(ref.size);
        expect([...set]).toEqual(sortedUnique(xs));
        for (const x of xs) expect(set.has(x)).toBe(true);
        expectCanonical(set);
      }),
    );
  });

  it('has() agrees with a Set for every number, including non-indexes', () => {
    fc.assert(
      fc.property(smallIndexes, (xs) => {
        const set = PageSet.of(xs);
        const ref = new Set(xs);
        for (let i = -1; i <= 82; i++) expect(set.has(i)).toBe(ref.has(i));
        for (const x of [0.5, 1.5, 40.5, NaN, Infinity, -Infinity]) expect(set.has(x)).toBe(false);
      }),
    );
  });

  it('of() ignores order and repeats', () => {
    fc.assert(
      fc.property(anyIndexes, (xs) => {
        const shuffledTwice = [...xs, ...xs].reverse();
        expect(PageSet.of(shuffledTwice).equals(PageSet.of(xs))).toBe(true);
      }),
    );
  });

  it('of() rejects anything that is not a page index', () => {
    for (const bad of [0, -1, 1.5, NaN, PAGE_IDX_MAX + 1]) expectScionError(() => PageSet.of([1, bad]), 'InvalidInput');
  });

  it('merges touching pages into one range', () => {
    expect([...PageSet.of([3, 1, 2, 5, 6, 8]).ranges()]).toEqual([
      [1, 3],
      [5, 6],
      [8, 8],
    ]);
    const joined = PageSet.range(p(1), p(5)).union(PageSet.range(p(6), p(10)));
    expect([...joined.ranges()]).toEqual([[1, 10]]);
  });

  it('range() is inclusive and empty when backwards', () => {
    expect([...PageSet.range(p(4), p(6))]).toEqual([4, 5, 6]);
    expect([...PageSet.range(p(4), p(4))]).toEqual([4]);
    expect(PageSet.range(p(5), p(4)).isEmpty).toBe(true);
    expect(PageSet.range(p(1), PageIdx.MAX).size).toBe(PAGE_IDX_MAX);
  });

  it('all(n) is pages 1..=n as a single range', () => {
    expect(PageSet.all(PageCount.ZERO).isEmpty).toBe(true);
    expect(PageSet.all(PageCount.ZERO).equals(PageSet.EMPTY)).toBe(true);
    expect([...PageSet.all(count(3))]).toEqual([1, 2, 3]);
    const whole = PageSet.all(count(PAGE_IDX_MAX));
    expect([...whole.ranges()]).toEqual([[1, PAGE_IDX_MAX]]);
    expect(whole.size).toBe(PAGE_IDX_MAX);
    expect(whole.has(PAGE_IDX_MAX)).toBe(true);
    expect(whole.has(PAGE_IDX_MAX + 1)).toBe(false);
  });

  it('all(1_000_000) encodes in under 16 bytes', () => {
    expect(PageSet.all(count(1_000_000)).encode().byteLength).toBeLessThan(16);
    expect(PageSet.all(count(PAGE_IDX_MAX)).encode().byteLength).toBeLessThan(16);
  });

  it('union, intersect and difference agree with Set operations', () => {
    fc.assert(
      fc.property(smallIndexes, smallIndexes, (xs, ys) => {
        const [a, b] = [PageSet.of(xs), PageSet.of(ys)];
        const [ra, rb] = [new Set(xs), new Set(ys)];
        const cases: [PageSet, number[]][] = [
          [a.union(b), [...ra, ...rb]],
          [a.intersect(b), [...ra].filter((x) => rb.has(x))],
          [a.difference(b), [...ra].filter((x) => !rb.has(x))],
        ];
        for (const [got, want] of cases) {
          expect([...got]).toEqual(sortedUnique(want));
          expect(got.equals(PageSet.of(want))).toBe(true);
          expectCanonical(got);
        }
      }),
    );
  });

  it('set operations on huge ranges stay canonical and obey the set laws', () => {
    fc.assert(
      fc.property(anySet, anySet, (a, b) => {
        const u = a.union(b);
        const i = a.intersect(b);
        const d = a.difference(b);
        for (const s of [u, i, d]) expectCanonical(s);
        expect(u.size).toBe(a.size + b.size - i.size);
        expect(d.size).toBe(a.size - i.size);
        expect(d.intersect(b).isEmpty).toBe(true);
        expect(d.union(i).equals(a)).toBe(true);
        expect(u.equals(b.union(a))).toBe(true);
        expect(i.equals(b.intersect(a))).toBe(true);
        expect(a.union(a).equals(a)).toBe(true);
        expect(a.difference(a).isEmpty).toBe(true);
      }),
    );
    const holed = PageSet.all(count(PAGE_IDX_MAX)).difference(PageSet.of([5]));
    expect([...holed.ranges()]).toEqual([
      [1, 4],
      [6, PAGE_IDX_MAX],
    ]);
    expect(holed.size).toBe(PAGE_IDX_MAX - 1);
  });

  it('set operations leave their inputs unchanged', () => {
    const a = PageSet.of([1, 2, 3]);
    const b = PageSet.of([3, 4]);
    a.union(b);
    a.intersect(b);
    a.difference(b);
    a.truncate(count(1));
    expect([...a]).toEqual([1, 2, 3]);
    expect([...b]).toEqual([3, 4]);
  });

  it('truncate keeps the pages ≤ count', () => {
    fc.assert(
      fc.property(smallIndexes, fc.integer({ min: 0, max: 90 }), (xs, n) => {
        const got = PageSet.of(xs).truncate(count(n));
        expect([...got]).toEqual(sortedUnique(xs.filter((x) => x <= n)));
        expectCanonical(got);
      }),
    );
    expect([...PageSet.all(count(PAGE_IDX_MAX)).truncate(count(2)).ranges()]).toEqual([[1, 2]]);
    expect(PageSet.of([1, PAGE_IDX_MAX]).truncate(PageCount.ZERO).isEmpty).toBe(true);
  });

  it('equals() is true exactly when the pages are the same', () => {
    fc.assert(
      fc.property(smallIndexes, smallIndexes, fc.boolean(), (xs, ys, same) => {
        const other = same ? [...xs].reverse() : ys;
        const want = sortedUnique(xs).join() === sortedUnique(other).join();
        expect(PageSet.of(xs).equals(PageSet.of(other))).toBe(want);
      }),
    );
  });

  it('prints its ranges', () => {
    expect(PageSet.of([1, 2, 3, 7]).toString()).toBe('{1..=3, 7}');
    expect(PageSet.EMPTY.toString()).toBe('{}');
  });

  describe('encoding', () => {
    it('decodes what it encodes', () => {
      fc.assert(
        fc.property(anySet, (set) => {
          const decoded = PageSet.decode(set.encode());
          expect(decoded.equals(set)).toBe(true);
          expect([...decoded.ranges()]).toEqual([...set.ranges()]);
        }),
      );
    });

    it('decodes from a view into a larger buffer', () => {
      const encoded = examples[4]![1].encode();
      const buf = new Uint8Array(encoded.byteLength + 7);
      buf.set(encoded, 3);
      expect(PageSet.decode(buf.subarray(3, 3 + encoded.byteLength)).equals(examples[4]![1])).toBe(true);
    });

    it('embeds in another record with writeTo/readFrom', () => {
      fc.assert(
        fc.property(anySet, anySet, (a, b) => {
          const w = new ByteWriter(1).u8(0xaa);
          a.writeTo(w);
          b.writeTo(w);
          w.u8(0xbb);
          const r = new ByteReader(w.finish(), 'test record');
          expect(r.u8()).toBe(0xaa);
          expect(PageSet.readFrom(r).equals(a)).toBe(true);
          expect(PageSet.readFrom(r).equals(b)).toBe(true);
          expect(r.u8()).toBe(0xbb);
          r.end();
        }),
      );
    });

    it.each(examples)('rejects every truncation of %s', (_, set) => {
      const encoded = set.encode();
      for (let len = 0; len < encoded.byteLength; len++) expectRejected(encoded.subarray(0, len));
    });

    it('rejects every truncation of arbitrary sets', () => {
      fc.assert(
        fc.property(anySet, (set) => {
          const encoded = set.encode();
          for (let len = 0; len < encoded.byteLength; len++) expectRejected(encoded.slice(0, len));
        }),
        { numRuns: 50 },
      );
    });

    it.each(examples)('rejects every single-bit flip of %s', (_, set) => {
      const encoded = set.encode();
      for (let bit = 0; bit < encoded.byteLength * 8; bit++) expectRejected(flipBit(encoded, bit));
    });

    it('rejects a trailing extra byte, after or inside the checksum', () => {
      for (const [, set] of examples) {
        const encoded = set.encode();
        for (const extra of [0, 1, 0xff]) {
          expectScionError(() => PageSet.decode(Uint8Array.of(...encoded, extra)), 'Corrupt');
          expectScionError(() => PageSet.decode(reseal(encoded, (body) => Uint8Array.of(...body, extra))), 'Corrupt');
        }
      }
    });

    it('rejects an unknown version as InvalidInput', () => {
      for (const version of [0, 2, 255]) {
        const bytes = reseal(PageSet.of([1, 5]).encode(), (body) => void (body[0] = version));
        expectScionError(() => PageSet.decode(bytes), 'InvalidInput');
      }
    });

    const raw = (write: (w: ByteWriter) => void): Uint8Array => {
      const w = new ByteWriter().u8(1);
      write(w);
      return seal(w.finish());
    };

    it('accepts a range that ends at page 2^32-1', () => {
      const set = PageSet.decode(raw((w) => w.varint(1).varint(PAGE_IDX_MAX - 1).varint(0)));
      expect([...set.ranges()]).toEqual([[PAGE_IDX_MAX, PAGE_IDX_MAX]]);
    });

    it('rejects a range beyond page 2^32-1', () => {
      expectScionError(() => PageSet.decode(raw((w) => w.varint(1).varint(PAGE_IDX_MAX).varint(0))), 'Corrupt');
      expectScionError(() => PageSet.decode(raw((w) => w.varint(1).varint(0).varint(PAGE_IDX_MAX))), 'Corrupt');
      expectScionError(() => PageSet.decode(raw((w) => w.varint(1).varint(Number.MAX_SAFE_INTEGER).varint(Number.MAX_SAFE_INTEGER))), 'Corrupt');
      expectScionError(
        () => PageSet.decode(raw((w) => w.varint(2).varint(0).varint(PAGE_IDX_MAX - 3).varint(0).varint(5))),
        'Corrupt',
      );
    });

    it('rejects a range count larger than the bytes left', () => {
      expectScionError(() => PageSet.decode(raw((w) => w.varint(1))), 'Corrupt');
      expectScionError(() => PageSet.decode(raw((w) => w.varint(3).varint(0).varint(0))), 'Corrupt');
      expectScionError(() => PageSet.decode(raw((w) => w.varint(Number.MAX_SAFE_INTEGER))), 'Corrupt');
    });

    const varints = (ns: number[]): Uint8Array => ns.reduce((w, n) => w.varint(n), new ByteWriter()).finish();
    const bodyTail = fc.oneof(
      fc.uint8Array({ maxLength: 24 }),
      // Mostly well-formed: a range count (sometimes wrong) and (gap, length) pairs, sometimes huge.
      fc
        .tuple(
          fc.integer({ min: -1, max: 1 }),
          fc.array(fc.tuple(fc.oneof(fc.nat(300), fc.maxSafeNat()), fc.oneof(fc.nat(300), fc.nat(PAGE_IDX_MAX))), { maxLength: 5 }),
        )
        .map(([skew, pairs]) => varints([Math.max(0, pairs.length + skew), ...pairs.flat()])),
    );

    it('decodes any well-sealed body to a set that re-encodes to the same bytes, or throws a ScionError', () => {
      fc.assert(
        fc.property(bodyTail, (tail) => {
          const bytes = seal(Uint8Array.of(1, ...tail));
          let set: PageSet;
          try {
            set = PageSet.decode(bytes);
          } catch (e) {
            expect(isScionError(e, 'Corrupt')).toBe(true);
            return;
          }
          expectCanonical(set);
          expect(set.encode()).toEqual(bytes);
        }),
        { numRuns: 2000 },
      );
    });
  });
});
