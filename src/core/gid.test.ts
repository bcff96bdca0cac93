import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkGidBytes,
  decodeGid,
  encodeGid,
  GID_BYTES,
  GID_CHARS,
  type GidCompanion,
  gidKind,
  gidTime,
  type IdSource,
  makeGidBytes,
  SYSTEM_IDS,
} from './gid.ts';
import { SegmentId } from './segment-id.ts';
import { expectScionError, fakeSegmentId, fakeVolumeId, seededIds } from './testing.ts';
import { VolumeId } from './volume-id.ts';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_MAX = 2 ** 48 - 1;

const compare = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  }
  return a.length - b.length;
};
const sign = (n: number): number => (n > 0 ? 1 : n < 0 ? -1 : 0);
const sourceAt = (timeMs: number, random: Uint8Array): IdSource => ({ now: () => timeMs, random: (b) => b.set(random) });
const setChar = (text: string, i: number, c: string): string => text.slice(0, i) + c + text.slice(i + 1);

describe('gid encoding', () => {
  it('encodes 16 bytes as 26 characters of the lowercase Crockford alphabet', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: GID_BYTES, maxLength: GID_BYTES }), (bytes) => {
        const text = encodeGid(bytes);
        expect(text).toHaveLength(GID_CHARS);
        expect(text).toMatch(/^[0-9a-hjkmnp-tv-z]{26}$/);
      }),
    );
  });

  it('decodes what it encodes, for every byte pattern of the kind', () => {
    const kind = gidKind('VolumeId', 'v');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: GID_BYTES - 1, maxLength: GID_BYTES - 1 }), (rest) => {
        const bytes = Uint8Array.of(kind.byte, ...rest);
        expect(decodeGid(kind, encodeGid(bytes))).toEqual(bytes);
      }),
    );
  });

  it('preserves byte order in text order, so ids sort by their bytes', () => {
    const bytes16 = fc.uint8Array({ minLength: GID_BYTES, maxLength: GID_BYTES });
    fc.assert(
      fc.property(bytes16, bytes16, (a, b) => {
        const [ta, tb] = [encodeGid(a), encodeGid(b)];
        expect(ta < tb ? -1 : ta > tb ? 1 : 0).toBe(sign(compare(a, b)));
      }),
    );
  });

  it('gives each kind a byte whose first character is the kind letter', () => {
    expect(gidKind('VolumeId', 'v').byte).toBe(ALPHABET.indexOf('v') << 3);
    expect(encodeGid(makeGidBytes(gidKind('VolumeId', 'v'), 0, new Uint8Array(9)))[0]).toBe('v');
    expect(encodeGid(makeGidBytes(gidKind('SegmentId', 's'), TIME_MAX, new Uint8Array(9).fill(255)))[0]).toBe('s');
  });

  it('refuses a kind letter outside the alphabet', () => {
    for (const letter of ['u', 'i', 'V', '']) expect(() => gidKind('X', letter)).toThrow(/BUG/);
  });

  it('stores the timestamp big-endian after the kind byte and reads it back', () => {
    const kind = gidKind('VolumeId', 'v');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: TIME_MAX }), fc.uint8Array({ minLength: 9, maxLength: 9 }), (t, random) => {
        const bytes = makeGidBytes(kind, t, random);
        expect(bytes[0]).toBe(kind.byte);
        expect(gidTime(bytes)).toBe(t);
        expect(bytes.subarray(7)).toEqual(random);
      }),
    );
    expect([...makeGidBytes(kind, 0x0102030405_06, new Uint8Array(9)).subarray(1, 7)]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects a timestamp that is negative, fractional or beyond 48 bits', () => {
    const kind = gidKind('VolumeId', 'v');
    for (const t of [-1, 1.5, NaN, Infinity, TIME_MAX + 1]) {
      expectScionError(() => makeGidBytes(kind, t, new Uint8Array(9)), 'InvalidInput');
    }
    expect(gidTime(makeGidBytes(kind, TIME_MAX, new Uint8Array(9)))).toBe(TIME_MAX);
  });

  it('needs exactly 9 random bytes', () => {
    const kind = gidKind('VolumeId', 'v');
    for (const n of [0, 8, 10]) expectScionError(() => makeGidBytes(kind, 0, new Uint8Array(n)), 'InvalidInput');
  });

  it('checks the byte length and the kind byte of raw bytes', () => {
    const kind = gidKind('SegmentId', 's');
    checkGidBytes(kind, makeGidBytes(kind, 1, new Uint8Array(9)));
    expectScionError(() => checkGidBytes(kind, new Uint8Array(15).fill(kind.byte)), 'InvalidInput');
    expectScionError(() => checkGidBytes(kind, new Uint8Array(17).fill(kind.byte)), 'InvalidInput');
    expectScionError(() => checkGidBytes(kind, makeGidBytes(gidKind('VolumeId', 'v'), 1, new Uint8Array(9))), 'InvalidInput');
    expectScionError(() => checkGidBytes(kind, Uint8Array.of(kind.byte | 1, ...new Uint8Array(15))), 'InvalidInput');
  });
});

interface KindCase {
  name: string;
  letter: string;
  ids: GidCompanion<string>;
  other: GidCompanion<string>;
  otherName: string;
  fake: (n: number) => string;
}
const kinds: KindCase[] = [
  { name: 'VolumeId', letter: 'v', ids: VolumeId, other: SegmentId, otherName: 'segment', fake: fakeVolumeId },
  { name: 'SegmentId', letter: 's', ids: SegmentId, other: VolumeId, otherName: 'volume', fake: fakeSegmentId },
];

describe.each(kinds)('$name', ({ name, letter, ids, other, otherName, fake }) => {
  const anyId = fc
    .tuple(fc.integer({ min: 0, max: TIME_MAX }), fc.uint8Array({ minLength: 9, maxLength: 9 }))
    .map(([t, r]) => ids.random(sourceAt(t, r)));

  it(`prints as 26 characters starting with "${letter}"`, () => {
    fc.assert(
      fc.property(anyId, (id) => {
        expect(id).toHaveLength(26);
        expect(id[0]).toBe(letter);
      }),
    );
    const fresh = ids.random();
    expect(fresh).toHaveLength(26);
    expect(fresh[0]).toBe(letter);
  });

  it('round-trips between bytes and text', () => {
    fc.assert(
      fc.property(anyId, (id) => {
        const bytes = ids.toBytes(id);
        expect(bytes).toHaveLength(16);
        expect(ids.fromBytes(bytes)).toBe(id);
        expect(ids.toBytes(ids.fromBytes(bytes))).toEqual(bytes);
        expect(ids.parse(id)).toBe(id);
      }),
    );
  });

  it('sorts ids made later after ids made earlier', () => {
    const source = seededIds(42);
    const made: string[] = [];
    for (let i = 0; i < 200; i++) {
      made.push(ids.random(source));
      source.tick(1 + (i % 3));
    }
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
  });

  it('sorts by time whatever the random bytes', () => {
    const random9 = fc.uint8Array({ minLength: 9, maxLength: 9 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: TIME_MAX - 1 }), fc.integer({ min: 1, max: 2 ** 40 }), random9, random9, (t, dt, r1, r2) => {
        const earlier = ids.random(sourceAt(t, r1));
        const later = ids.random(sourceAt(Math.min(t + dt, TIME_MAX), r2));
        expect(earlier < later).toBe(true);
      }),
    );
  });

  it('makes the same ids from the same seed and clock', () => {
    const a = seededIds(7);
    const b = seededIds(7);
    expect([ids.random(a), ids.random(a)]).toEqual([ids.random(b), ids.random(b)]);
    expect(ids.random(seededIds(8))).not.toBe(ids.random(seededIds(7)));
  });

  it('builds fake ids that are valid, distinct and ordered by n', () => {
    expect(ids.is(fake(1))).toBe(true);
    expect(fake(1)).toBe(fake(1));
    expect(fake(1) < fake(2)).toBe(true);
    expect(fake(2) < fake(1000)).toBe(true);
  });

  it('uses the system clock by default', () => {
    const before = Date.now();
    const id = ids.random();
    expect(gidTime(ids.toBytes(id))).toBeGreaterThanOrEqual(before);
    expect(gidTime(ids.toBytes(id))).toBeLessThanOrEqual(Date.now());
    expect(ids.random(SYSTEM_IDS)).not.toBe(id);
  });

  it('rejects text of the wrong length', () => {
    const id = fake(5);
    for (const text of ['', letter, id.slice(0, 25), `${id}0`, `${id} `, ` ${id}`]) {
      expectScionError(() => ids.parse(text), 'InvalidInput');
    }
  });

  it('rejects uppercase text', () => {
    const id = fake(5);
    expectScionError(() => ids.parse(id.toUpperCase()), 'InvalidInput');
    expectScionError(() => ids.parse(setChar(id, 0, letter.toUpperCase())), 'InvalidInput');
  });

  it('rejects the letters Crockford base32 leaves out (i, l, o, u) and other characters', () => {
    const id = fake(5);
    for (const c of ['i', 'l', 'o', 'u', 'I', 'L', 'O', 'U', '-', '_', '=', ' ', 'é']) {
      for (const pos of [1, 10, 25]) expectScionError(() => ids.parse(setChar(id, pos, c)), 'InvalidInput');
    }
    // A 26-code-unit string holding a surrogate pair has 25 code points.
    expectScionError(() => ids.parse(`${id.slice(0, 24)}😀`), 'InvalidInput');
  });

  it('rejects a last character whose padding bits are not zero', () => {
    fc.assert(
      fc.property(anyId, fc.integer({ min: 1, max: 3 }), (id, pad) => {
        const last = ALPHABET.indexOf(id[25] as string);
        expect(last & 3).toBe(0);
        expectScionError(() => ids.parse(setChar(id, 25, ALPHABET[last | pad] as string)), 'InvalidInput');
      }),
    );
  });

  it(`rejects a ${name} of the ${otherName} kind`, () => {
    const foreign = other.random(seededIds(1));
    expectScionError(() => ids.parse(foreign), 'InvalidInput');
    expectScionError(() => ids.fromBytes(other.toBytes(foreign)), 'InvalidInput');
    expectScionError(() => ids.toBytes(foreign), 'InvalidInput');
    expect(ids.is(foreign)).toBe(false);
  });

  it(`rejects an id starting with "${letter}" whose kind byte has low bits set`, () => {
    // The second character carries the kind byte's low 3 bits, which must be zero.
    const id = fake(0);
    expect(id[1]).toBe('0');
    for (const c of ['4', '8', 'z']) expectScionError(() => ids.parse(setChar(id, 1, c)), 'InvalidInput');
  });

  it('rejects any single character replaced by a character outside the alphabet', () => {
    fc.assert(
      fc.property(anyId, fc.integer({ min: 0, max: 25 }), fc.constantFrom(...'ilouILOU!/{'), (id, pos, c) => {
        expectScionError(() => ids.parse(setChar(id, pos, c)), 'InvalidInput');
      }),
    );
  });

  it('rejects input that is not a string', () => {
    for (const input of [42, null, undefined, {}, [fake(1)], new String(fake(1)), 10n, Symbol('v')]) {
      expectScionError(() => ids.parse(input as string), 'InvalidInput');
    }
  });

  it('rejects bytes of the wrong length', () => {
    for (const n of [0, 15, 17]) expectScionError(() => ids.fromBytes(new Uint8Array(n)), 'InvalidInput');
  });

  it('is() accepts exactly what parse accepts and never throws', () => {
    expect(ids.is(fake(3))).toBe(true);
    for (const input of [fake(3).toUpperCase(), '', 'v', 42, null, undefined, {}, Symbol('v'), 10n, other.random()]) {
      expect(ids.is(input)).toBe(false);
    }
    fc.assert(
      fc.property(fc.string({ minLength: 26, maxLength: 26, unit: fc.constantFrom(...`${ALPHABET}ilou`) }), (text) => {
        let parses = true;
        try {
          ids.parse(text);
        } catch {
          parses = false;
        }
        expect(ids.is(text)).toBe(parses);
      }),
    );
  });
});
