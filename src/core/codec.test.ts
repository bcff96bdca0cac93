import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, seal, unseal } from './codec.ts';
import { expectScionError, flipBit } from './testing.ts';

const readVarint = (bytes: number[] | Uint8Array): number => {
  const r = new ByteReader(Uint8Array.from(bytes), 'test record');
  const v = r.varint();
  r.end();
  return v;
};

describe('varint', () => {
  it('round-trips every safe non-negative integer', () => {
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeNat(), fc.nat(1 << 16)), (n) => {
        const bytes = new ByteWriter(1).varint(n).finish();
        expect(bytes.byteLength).toBe(Math.max(1, Math.ceil(Math.log2(n + 1) / 7)));
        expect(readVarint(bytes)).toBe(n);
      }),
    );
  });

  it.each([
    [0, [0x00]],
    [1, [0x01]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [16_383, [0xff, 0x7f]],
    [16_384, [0x80, 0x80, 0x01]],
    [2 ** 32 - 1, [0xff, 0xff, 0xff, 0xff, 0x0f]],
    [Number.MAX_SAFE_INTEGER, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
  ])('writes %d as LEB128 %j', (n, bytes) => {
    expect([...new ByteWriter().varint(n).finish()]).toEqual(bytes);
    expect(readVarint(bytes)).toBe(n);
  });

  it('refuses to write a negative, fractional or unsafe number (a bug in the caller)', () => {
    for (const n of [-1, 0.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1]) expect(() => new ByteWriter().varint(n)).toThrow(/BUG/);
  });

  it('rejects non-canonical varints (a zero final byte after a continuation)', () => {
    for (const bytes of [
      [0x80, 0x00],
      [0x81, 0x00],
      [0xff, 0x80, 0x00],
      [0x80, 0x80, 0x80, 0x00],
    ]) {
      expectScionError(() => readVarint(bytes), 'Corrupt');
    }
  });

  it('rejects overlong varints of more than 8 bytes', () => {
    expectScionError(() => readVarint([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 'Corrupt');
    expectScionError(() => readVarint(new Array(20).fill(0xff)), 'Corrupt');
  });

  it('rejects 8-byte varints beyond the safe integer range', () => {
    expectScionError(() => readVarint([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]), 'Corrupt'); // 2^53
    expectScionError(() => readVarint([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), 'Corrupt'); // 2^56 - 1
  });

  it('rejects a varint cut off before its last byte', () => {
    for (const bytes of [[0x80], [0xff, 0xff], []]) expectScionError(() => readVarint(bytes), 'Corrupt');
  });
});

describe('ByteWriter and ByteReader', () => {
  it('read back u8, u32, varints and bytes in order', () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(0xffff_ffff), fc.maxSafeNat(), fc.uint8Array({ maxLength: 40 }), (a, b, c, d) => {
        const w = new ByteWriter(1).u8(a).u32(b).varint(c).bytes(d).u8(0);
        const r = new ByteReader(w.finish(), 'test record');
        expect(r.u8()).toBe(a);
        expect(r.u32()).toBe(b);
        expect(r.varint()).toBe(c);
        expect(r.bytes(d.byteLength)).toEqual(d);
        expect(r.remaining).toBe(1);
        expect(r.u8()).toBe(0);
        r.end();
      }),
    );
  });

  it('writes u32 little-endian and wraps it to 32 bits', () => {
    expect([...new ByteWriter().u32(0x01020304).finish()]).toEqual([4, 3, 2, 1]);
    expect([...new ByteWriter().u32(-1).finish()]).toEqual([0xff, 0xff, 0xff, 0xff]);
  });

  it('grows past its initial capacity, including a capacity of 0', () => {
    for (const capacity of [0, 1, 3]) {
      const w = new ByteWriter(capacity);
      for (let i = 0; i < 10_000; i++) w.u8(i & 0xff);
      w.bytes(new Uint8Array(5000).fill(7));
      expect(w.length).toBe(15_000);
      const out = w.finish();
      expect(out[9_999]).toBe(9_999 & 0xff);
      expect(out[14_999]).toBe(7);
    }
  });

  it('finish returns a copy that later writes do not change', () => {
    const w = new ByteWriter(4).u8(1);
    const first = w.finish();
    first[0] = 9;
    w.u8(2);
    expect([...w.finish()]).toEqual([1, 2]);
    expect([...first]).toEqual([9]);
  });

  it('reads from a view at any offset of a larger buffer', () => {
    const buf = new Uint8Array(16).fill(0xee);
    buf.set([0x04, 0x03, 0x02, 0x01, 0xac, 0x02], 5);
    const r = new ByteReader(buf.subarray(5, 11), 'test record');
    expect(r.u32()).toBe(0x01020304);
    expect(r.varint()).toBe(300);
    r.end();
  });

  it('bytes() returns a view, not a copy', () => {
    const buf = Uint8Array.of(1, 2, 3);
    const view = new ByteReader(buf, 'test record').bytes(2);
    buf[0] = 9;
    expect(view[0]).toBe(9);
  });

  it('tracks position and remaining', () => {
    const r = new ByteReader(new Uint8Array(7), 'test record');
    expect([r.position, r.remaining]).toEqual([0, 7]);
    r.u32();
    expect([r.position, r.remaining]).toEqual([4, 3]);
  });

  it('rejects reading past the end as Corrupt, naming the record', () => {
    const e = expectScionError(() => new ByteReader(new Uint8Array(3), 'widget').u32(), 'Corrupt');
    expect(e.message).toContain('widget');
    expectScionError(() => new ByteReader(new Uint8Array(0), 'widget').u8(), 'Corrupt');
    expectScionError(() => new ByteReader(new Uint8Array(3), 'widget').bytes(4), 'Corrupt');
  });

  it('end() rejects trailing bytes and accepts a fully read buffer', () => {
    const r = new ByteReader(Uint8Array.of(1, 2), 'widget');
    r.u8();
    const e = expectScionError(() => r.end(), 'Corrupt');
    expect(e.message).toContain('widget');
    r.u8();
    r.end();
    new ByteReader(new Uint8Array(0), 'widget').end();
  });

  it('a reset writer reuses its buffer; view() shows what was written since', () => {
    const w = new ByteWriter(16);
    w.u32(0xdeadbeef).u8(7);
    const capacity = w.capacity;
    const first = w.view();
    expect([...first]).toEqual([0xef, 0xbe, 0xad, 0xde, 7]);
    w.reset().u8(9);
    expect([...w.view()]).toEqual([9]);
    expect(w.capacity).toBe(capacity);
    expect(first.buffer).toBe(w.view().buffer); // the same buffer: nothing new allocated
  });

  it('rest() shows the unread bytes and skip() moves past them, refusing to run off the end', () => {
    const r = new ByteReader(Uint8Array.of(1, 2, 3, 4), 'widget');
    r.u8();
    expect([...r.rest()]).toEqual([2, 3, 4]);
    r.skip(2);
    expect(r.u8()).toBe(4);
    expectScionError(() => r.skip(1), 'Corrupt');
  });
});

describe('seal and unseal', () => {
  it('appends a 4-byte CRC that unseal verifies and strips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (body) => {
        const sealed = seal(body);
        expect(sealed.byteLength).toBe(body.byteLength + 4);
        expect(unseal(sealed, 'widget')).toEqual(body);
      }),
    );
  });

  it('unseal returns a view of the body', () => {
    const sealed = seal(Uint8Array.of(1, 2, 3));
    const body = unseal(sealed, 'widget');
    expect(body.buffer).toBe(sealed.buffer);
    expect(body.byteLength).toBe(3);
  });

  it('unseals a view at any offset of a larger buffer', () => {
    const sealed = seal(Uint8Array.of(5, 6, 7));
    const buf = new Uint8Array(sealed.byteLength + 3);
    buf.set(sealed, 1);
    expect([...unseal(buf.subarray(1, 1 + sealed.byteLength), 'widget')]).toEqual([5, 6, 7]);
  });

  it('detects every single flipped bit', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (body) => {
        const sealed = seal(body);
        for (let bit = 0; bit < sealed.byteLength * 8; bit++) expectScionError(() => unseal(flipBit(sealed, bit), 'widget'), 'Corrupt');
      }),
      { numRuns: 30 },
    );
  });

  it('rejects input shorter than the CRC and a CRC over other bytes', () => {
    for (const n of [0, 1, 3]) expectScionError(() => unseal(new Uint8Array(n), 'widget'), 'Corrupt');
    const sealed = seal(Uint8Array.of(1, 2, 3));
    expectScionError(() => unseal(sealed.subarray(1), 'widget'), 'Corrupt');
    expectScionError(() => unseal(Uint8Array.of(0, ...sealed), 'widget'), 'Corrupt');
  });

  it('accepts an empty body', () => {
    expect(unseal(seal(new Uint8Array(0)), 'widget').byteLength).toBe(0);
  });
});
