import { ByteReader, ByteWriter, seal, unseal } from './codec.ts';
import { corrupt, invalidInput } from './errors.ts';
import { PAGE_IDX_MAX, PageIdx, type PageCount } from './page-idx.ts';

const FORMAT_VERSION = 1;

/**
 * An immutable set of page indexes, stored as sorted, disjoint, non-adjacent inclusive ranges, so that
 * a whole database (1..=n) costs one range. Serialized as delta-encoded varints.
 */
export class PageSet implements Iterable<PageIdx> {
  static readonly EMPTY = new PageSet([]);

  /** Flat [start0, end0, start1, end1, …]; canonical (sorted, gaps ≥ 1). */
  readonly #ranges: readonly number[];
  readonly #size: number;

  private constructor(ranges: readonly number[]) {
    this.#ranges = ranges;
    let size = 0;
    for (let i = 0; i < ranges.length; i += 2) size += (ranges[i + 1] as number) - (ranges[i] as number) + 1;
    this.#size = size;
  }

  /** Pages `start..=end`; empty when end < start. */
  static range(start: PageIdx, end: PageIdx): PageSet {
    return end < start ? PageSet.EMPTY : new PageSet([start, end]);
  }

  /** Every page of a volume of `count` pages. */
  static all(count: PageCount): PageSet {
    return count === 0 ? PageSet.EMPTY : new PageSet([1, count]);
  }

  /** From page indexes in any order, with repeats. Throws InvalidInput for a non-index. */
  static of(indexes: Iterable<number>): PageSet {
    const sorted = [...indexes].map((n) => PageIdx.parse(n) as number).sort((a, b) => a - b);
    const ranges: number[] = [];
    for (const n of sorted) {
      const last = ranges.length - 1;
      if (last > 0 && n <= (ranges[last] as number) + 1) ranges[last] = Math.max(ranges[last] as number, n);
      else ranges.push(n, n);
    }
    return new PageSet(ranges);
  }

  get size(): number {
    return this.#size;
  }

  get isEmpty(): boolean {
    return this.#size === 0;
  }

  get first(): PageIdx | undefined {
    return this.#ranges[0] as PageIdx | undefined;
  }

  get last(): PageIdx | undefined {
    return this.#ranges[this.#ranges.length - 1] as PageIdx | undefined;
  }

  has(idx: number): boolean {
    if (!Number.isInteger(idx)) return false;
    let lo = 0;
    let hi = this.#ranges.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (idx < (this.#ranges[2 * mid] as number)) hi = mid - 1;
      else if (idx > (this.#ranges[2 * mid + 1] as number)) lo = mid + 1;
      else return true;
    }
    return false;
  }

  *[Symbol.iterator](): Iterator<PageIdx> {
    for (const [start, end] of this.ranges()) for (let i: number = start; i <= end; i++) yield i as PageIdx;
  }

  /** The inclusive ranges, ascending. */
  *ranges(): Generator<[PageIdx, PageIdx]> {
    for (let i = 0; i < this.#ranges.length; i += 2) yield [this.#ranges[i] as PageIdx, this.#ranges[i + 1] as PageIdx];
  }

  /** The pages ≤ count (soft truncation). */
  truncate(count: PageCount): PageSet {
    if (this.last === undefined || this.last <= count) return this;
    return this.intersect(PageSet.all(count));
  }

  union(other: PageSet): PageSet {
    return PageSet.#merge(this, other, (a, b) => a || b);
  }

  intersect(other: PageSet): PageSet {
    return PageSet.#merge(this, other, (a, b) => a && b);
  }

  difference(other: PageSet): PageSet {
    return PageSet.#merge(this, other, (a, b) => a && !b);
  }

  /**
   * The union of sets no two of which share a page, or undefined when two do. Linear in their ranges
   * when the sets come in page order (a segment's frames), n log n otherwise.
   */
  static disjointUnion(sets: readonly PageSet[]): PageSet | undefined {
    const starts: number[] = [];
    const ends: number[] = [];
    for (const set of sets) for (let i = 0; i < set.#ranges.length; i += 2) {
      starts.push(set.#ranges[i] as number);
      ends.push(set.#ranges[i + 1] as number);
    }
    let order = starts.map((_, i) => i);
    if (starts.some((start, i) => i > 0 && start < (starts[i - 1] as number))) order = order.sort((a, b) => (starts[a] as number) - (starts[b] as number));
    const ranges: number[] = [];
    for (const i of order) {
      const start = starts[i] as number;
      const end = ends[i] as number;
      const last = ranges.length - 1;
      if (last > 0 && start <= (ranges[last] as number)) return undefined;
      if (last > 0 && start === (ranges[last] as number) + 1) ranges[last] = end;
      else ranges.push(start, end);
    }
    return new PageSet(ranges);
  }

  equals(other: PageSet): boolean {
    return this.#ranges.length === other.#ranges.length && this.#ranges.every((v, i) => v === other.#ranges[i]);
  }

  /** Sweep over range boundaries; `keep` decides membership from membership in each side. */
  static #merge(a: PageSet, b: PageSet, keep: (inA: boolean, inB: boolean) => boolean): PageSet {
    // Boundaries as half-open [start, end+1) edges.
    const edges = new Set<number>();
    for (const set of [a, b]) for (let i = 0; i < set.#ranges.length; i += 2) {
      edges.add(set.#ranges[i] as number);
      edges.add((set.#ranges[i + 1] as number) + 1);
    }
    const points = [...edges].sort((x, y) => x - y);
    const ranges: number[] = [];
    for (let i = 0; i + 1 < points.length; i++) {
      const lo = points[i] as number;
      const hi = (points[i + 1] as number) - 1;
      if (!keep(a.has(lo), b.has(lo))) continue;
      const last = ranges.length - 1;
      if (last > 0 && ranges[last] === lo - 1) ranges[last] = hi;
      else ranges.push(lo, hi);
    }
    return new PageSet(ranges);
  }

  /** Appends the set to `w` without its own version or checksum (for use inside other records). */
  writeTo(w: ByteWriter): void {
    w.varint(this.#ranges.length / 2);
    let prevEnd = 0;
    for (let i = 0; i < this.#ranges.length; i += 2) {
      const start = this.#ranges[i] as number;
      const end = this.#ranges[i + 1] as number;
      // The first gap may be 0 (start = 1); later gaps are ≥ 1 because ranges never touch.
      w.varint(start - prevEnd - (i === 0 ? 1 : 2));
      w.varint(end - start);
      prevEnd = end;
    }
  }

  static readFrom(r: ByteReader): PageSet {
    const n = r.varint();
    if (n > r.remaining) throw corrupt(`A page set claims ${n} ranges but only ${r.remaining} bytes remain.`);
    const ranges: number[] = [];
    let prevEnd = 0;
    for (let i = 0; i < n; i++) {
      const start = prevEnd + r.varint() + (i === 0 ? 1 : 2);
      const end = start + r.varint();
      if (end > PAGE_IDX_MAX) throw corrupt(`A page set holds page ${end}, beyond the largest page index ${PAGE_IDX_MAX}.`);
      ranges.push(start, end);
      prevEnd = end;
    }
    return new PageSet(ranges);
  }

  /** Standalone form: version byte, ranges, CRC-32C. */
  encode(): Uint8Array {
    const w = new ByteWriter(16 + this.#ranges.length * 4).u8(FORMAT_VERSION);
    this.writeTo(w);
    return seal(w.finish());
  }

  /** Throws Corrupt for a bad checksum, truncation or trailing bytes; InvalidInput for an unknown version. */
  static decode(bytes: Uint8Array): PageSet {
    const r = new ByteReader(unseal(bytes, 'page set'), 'page set');
    const version = r.u8();
    if (version !== FORMAT_VERSION) throw invalidInput(`Unknown page set format version ${version}; this Scion reads version ${FORMAT_VERSION}. Upgrade Scion.`);
    const set = PageSet.readFrom(r);
    r.end();
    return set;
  }

  toString(): string {
    return `{${[...this.ranges()].map(([s, e]) => (s === e ? `${s}` : `${s}..=${e}`)).join(', ')}}`;
  }
}
