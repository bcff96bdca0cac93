import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LSN } from './lsn.ts';
import { expectScionError } from './testing.ts';

const anyLsn = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }).map((n) => n as LSN);

describe('LSN', () => {
  it('parses safe integers from 1 up', () => {
    expect(LSN.parse(1)).toBe(1);
    expect(LSN.parse(2)).toBe(2);
    expect(LSN.parse(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    expect(LSN.FIRST).toBe(1);
  });

  it('parses 16 lowercase hex digits', () => {
    expect(LSN.parse('0000000000000001')).toBe(1);
    expect(LSN.parse('00000000000000ff')).toBe(255);
    expect(LSN.parse('001fffffffffffff')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('rejects 0, negatives, fractions, NaN, infinities and unsafe integers', () => {
    for (const n of [0, -0, -1, -Number.MAX_SAFE_INTEGER, 1.5, 0.999, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER + 1, 2 ** 64]) {
      expectScionError(() => LSN.parse(n), 'InvalidInput');
    }
  });

  it('rejects hex that is zero, beyond the safe range, uppercase or of the wrong width', () => {
    for (const text of [
      '0000000000000000',
      '0020000000000000',
      'ffffffffffffffff',
      '000000000000000A',
      '00000000000000Ff',
      '1',
      '01',
      '000000000000001',
      '00000000000000001',
      '0x00000000000001',
      ' 000000000000001',
      '000000000000001 ',
      '-000000000000001',
      '000000000000000g',
      '',
    ]) {
      expectScionError(() => LSN.parse(text), 'InvalidInput');
    }
  });

  it('rejects values that are neither numbers nor strings', () => {
    for (const input of [null, undefined, {}, [1], true]) expectScionError(() => LSN.parse(input as number), 'InvalidInput');
  });

  it('formats as 16 lowercase hex digits that parse back', () => {
    fc.assert(
      fc.property(anyLsn, (lsn) => {
        const text = LSN.format(lsn);
        expect(text).toMatch(/^[0-9a-f]{16}$/);
        expect(LSN.parse(text)).toBe(lsn);
      }),
    );
    expect(LSN.format(LSN.FIRST)).toBe('0000000000000001');
    expect(LSN.format(LSN.parse(Number.MAX_SAFE_INTEGER))).toBe('001fffffffffffff');
  });

  it('formats so that text order is numeric order', () => {
    const nearby = fc.oneof(anyLsn, fc.integer({ min: 1, max: 300 }).map((n) => n as LSN));
    fc.assert(
      fc.property(nearby, nearby, (a, b) => {
        const [ta, tb] = [LSN.format(a), LSN.format(b)];
        expect(ta < tb).toBe(a < b);
        expect(ta === tb).toBe(a === b);
      }),
    );
  });

  it('steps to the next and previous LSN', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER - 1 }), (n) => {
        const lsn = LSN.parse(n);
        expect(LSN.next(lsn)).toBe(n + 1);
        expect(LSN.prev(LSN.next(lsn))).toBe(lsn);
      }),
    );
    expect(LSN.next(undefined)).toBe(LSN.FIRST);
    expect(LSN.prev(LSN.FIRST)).toBeUndefined();
    expect(LSN.prev(LSN.parse(2))).toBe(1);
  });

  it('isLSN agrees with parse for numbers', () => {
    for (const n of [1, 7, Number.MAX_SAFE_INTEGER]) expect(LSN.isLSN(n)).toBe(true);
    for (const v of [0, -1, 1.5, NaN, Number.MAX_SAFE_INTEGER + 1, '0000000000000001', null, undefined]) {
      expect(LSN.isLSN(v)).toBe(false);
    }
  });
});
