import { invalidInput } from './errors.ts';

/** Every page is exactly 4 KiB. */
export const PAGE_SIZE = 4096;

declare const pageBrand: unique symbol;
/** Exactly PAGE_SIZE bytes. Pages never written read as zeros. */
export type Page = Uint8Array & { readonly [pageBrand]: true };

export const Page = {
  /** Throws InvalidInput unless `bytes` is exactly 4096 bytes long. Does not copy. */
  from(bytes: Uint8Array): Page {
    if (bytes.byteLength !== PAGE_SIZE) {
      throw invalidInput(`A page is exactly ${PAGE_SIZE} bytes; got ${bytes.byteLength}.`);
    }
    return bytes as Page;
  },

  /** A fresh all-zero page (never shared, so callers may write into it). */
  zeroed: (): Page => new Uint8Array(PAGE_SIZE) as Page,

  isZero(page: Uint8Array): boolean {
    // Compare 8 bytes at a time when aligned; pages from the store always are.
    if (page.byteOffset % 8 === 0 && page.byteLength % 8 === 0) {
      const words = new BigUint64Array(page.buffer, page.byteOffset, page.byteLength / 8);
      for (const w of words) if (w !== 0n) return false;
      return true;
    }
    for (const b of page) if (b !== 0) return false;
    return true;
  },
} as const;
