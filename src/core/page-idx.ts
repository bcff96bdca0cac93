import { invalidInput } from './errors.ts';
import { PAGE_SIZE } from './page.ts';

declare const pageIdxBrand: unique symbol;
/** 1-based index of a page in a volume: byte offset `o` lives in page `o / 4096 + 1`. */
export type PageIdx = number & { readonly [pageIdxBrand]: true };

declare const pageCountBrand: unique symbol;
/** Logical size of a volume in pages (not sparse-aware): writing page 1000 of an empty volume makes it 1000. */
export type PageCount = number & { readonly [pageCountBrand]: true };

/** Largest page index: page indexes are u32 on the wire. */
export const PAGE_IDX_MAX = 0xffff_ffff;

export const PageIdx = {
  FIRST: 1 as PageIdx,
  MAX: PAGE_IDX_MAX as PageIdx,

  /** Throws InvalidInput unless 1 ≤ n ≤ 2³²−1. */
  parse(n: number): PageIdx {
    if (!Number.isInteger(n) || n < 1 || n > PAGE_IDX_MAX) {
      throw invalidInput(`Not a page index: ${n}. Page indexes are integers from 1 to ${PAGE_IDX_MAX}.`);
    }
    return n as PageIdx;
  },

  isPageIdx: (n: unknown): n is PageIdx =>
    typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= PAGE_IDX_MAX,

  /** The page holding byte `offset` of the volume. */
  fromOffset(offset: number): PageIdx {
    if (!Number.isSafeInteger(offset) || offset < 0) throw invalidInput(`Not a byte offset: ${offset}`);
    return PageIdx.parse(Math.floor(offset / PAGE_SIZE) + 1);
  },

  /** Byte offset of the first byte of this page. */
  toOffset: (idx: PageIdx): number => (idx - 1) * PAGE_SIZE,
} as const;

export const PageCount = {
  ZERO: 0 as PageCount,

  /** Throws InvalidInput unless 0 ≤ n ≤ 2³²−1. */
  parse(n: number): PageCount {
    if (!Number.isInteger(n) || n < 0 || n > PAGE_IDX_MAX) {
      throw invalidInput(`Not a page count: ${n}. Page counts are integers from 0 to ${PAGE_IDX_MAX}.`);
    }
    return n as PageCount;
  },

  /** The page count of a file of `bytes` bytes; throws InvalidInput unless it is a whole number of pages. */
  fromBytes(bytes: number): PageCount {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes % PAGE_SIZE !== 0) {
      throw invalidInput(`A volume's size must be a multiple of ${PAGE_SIZE} bytes; got ${bytes}.`);
    }
    return PageCount.parse(bytes / PAGE_SIZE);
  },

  /** Whether `idx` lies inside a volume of this size. */
  contains: (count: PageCount, idx: PageIdx): boolean => idx <= count,

  /** The last page of a non-empty volume. */
  lastPage: (count: PageCount): PageIdx | undefined => (count > 0 ? (count as number as PageIdx) : undefined),
} as const;
