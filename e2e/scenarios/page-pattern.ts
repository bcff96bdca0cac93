// Deterministic page contents for store scenarios and benchmarks: every (seed, pageIdx) gives a distinct,
// never-zero 4 KiB page, so a page read back can be checked without keeping what was written.
import { ChecksumBuilder, Page, PAGE_SIZE, PageCount, PageIdx } from '../../src/core/index.ts';

/** Pages `from..=to` (1-based, inclusive) written with the pattern of `seed`. */
export interface PageRange {
  seed: number;
  from: number;
  to: number;
}

/**
 * Fills `page` with the pattern of (seed, pageIdx): word 0 is the seed, word 1 the page index (readable in a
 * hex dump), the rest mulberry32 output. `page` must be 4-byte aligned, as fresh pages are.
 */
export function fillPage(page: Uint8Array, seed: number, pageIdx: number): Page {
  const words = new Uint32Array(page.buffer, page.byteOffset, PAGE_SIZE / 4);
  words[0] = seed >>> 0;
  words[1] = pageIdx >>> 0;
  let state = (Math.imul(seed, 0x9e3779b1) ^ Math.imul(pageIdx, 0x85ebca6b)) >>> 0;
  for (let i = 2; i < words.length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    words[i] = (t ^ (t >>> 14)) >>> 0;
  }
  return Page.from(page);
}

export function patternPage(seed: number, pageIdx: number): Page {
  return fillPage(new Uint8Array(PAGE_SIZE), seed, pageIdx);
}

/** Byte equality, a word at a time when both are aligned. */
export function samePage(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0 && a.byteLength % 4 === 0) {
    const wa = new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4);
    const wb = new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    for (let i = 0; i < wa.length; i++) if (wa[i] !== wb[i]) return false;
    return true;
  }
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The seed the page holds after `layers` were committed in order, or undefined if none wrote it (zeros). */
export function seedAt(layers: readonly PageRange[], pageIdx: number): number | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i] as PageRange;
    if (pageIdx >= l.from && pageIdx <= l.to) return l.seed;
  }
  return undefined;
}

/** Page count after `layers`: writes only grow a volume. */
export function pageCountOf(layers: readonly PageRange[]): number {
  return layers.reduce((n, l) => Math.max(n, l.to), 0);
}

/** What Runtime.snapshotChecksum must return for a volume holding exactly `layers`. */
export function expectedChecksum(layers: readonly PageRange[]): string {
  const sum = new ChecksumBuilder();
  const scratch = new Uint8Array(PAGE_SIZE);
  const count = pageCountOf(layers);
  for (let idx = 1; idx <= count; idx++) {
    const seed = seedAt(layers, idx);
    if (seed !== undefined) sum.add(PageIdx.parse(idx), fillPage(scratch, seed, idx));
  }
  return sum.finish(PageCount.parse(count));
}
