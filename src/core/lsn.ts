import { invalidInput } from './errors.ts';

declare const lsnBrand: unique symbol;
/** Position in a volume's commit log; the first commit is LSN 1. A safe integer ≥ 1. */
export type LSN = number & { readonly [lsnBrand]: true };

const HEX16 = /^[0-9a-f]{16}$/;

export const LSN = {
  FIRST: 1 as LSN,

  /** Accepts a number or the fixed-width hex used in object keys; throws InvalidInput otherwise. */
  parse(input: number | string): LSN {
    const n = typeof input === 'number' ? input : HEX16.test(input) ? Number.parseInt(input, 16) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) {
      throw invalidInput(`Not an LSN: ${String(input)}. An LSN is an integer ≥ 1 (or 16 lowercase hex digits in a key).`);
    }
    return n as LSN;
  },

  isLSN: (n: unknown): n is LSN => typeof n === 'number' && Number.isSafeInteger(n) && n >= 1,

  /** Fixed-width lowercase hex, so object keys list in log order. */
  format: (lsn: LSN): string => lsn.toString(16).padStart(16, '0'),

  next: (lsn: LSN | undefined): LSN => LSN.parse((lsn ?? 0) + 1),

  /** The LSN before this one, or undefined for the first. */
  prev: (lsn: LSN): LSN | undefined => (lsn > 1 ? ((lsn - 1) as LSN) : undefined),
} as const;
