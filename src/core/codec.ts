import { crc32c } from './crc.ts';
import { assert, corrupt } from './errors.ts';

/** Appends little-endian fixed-width and LEB128 varint fields to a growing buffer. */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(initialCapacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  get length(): number {
    return this.#len;
  }

  /** Bytes of the buffer it writes into (what reusing it keeps alive). */
  get capacity(): number {
    return this.#buf.byteLength;
  }

  /** Empties it, keeping its buffer for the next writes. */
  reset(): this {
    this.#len = 0;
    return this;
  }

  /** A view (not a copy) of everything written so far: valid until the next write or reset. */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.byteLength) return;
    let cap = Math.max(16, this.#buf.byteLength * 2);
    while (cap < this.#len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.#reserve(1);
    this.#buf[this.#len++] = v;
    return this;
  }

  u32(v: number): this {
    this.#reserve(4);
    this.#view.setUint32(this.#len, v >>> 0, true);
    this.#len += 4;
    return this;
  }

  /** Unsigned LEB128 of a safe integer. */
  varint(v: number): this {
    assert(Number.isSafeInteger(v) && v >= 0, `varint of ${v}`);
    this.#reserve(8);
    while (v >= 0x80) {
      this.#buf[this.#len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.#buf[this.#len++] = v;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#reserve(b.byteLength);
    this.#buf.set(b, this.#len);
    this.#len += b.byteLength;
    return this;
  }

  /** A copy of everything written so far. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/** Reads what ByteWriter wrote; running past the end is a Corrupt error naming `what`. */
export class ByteReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  readonly #what: string;
  #pos = 0;

  constructor(buf: Uint8Array, what: string) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#what = what;
  }

  get position(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#buf.byteLength - this.#pos;
  }

  #need(n: number): void {
    if (this.#pos + n > this.#buf.byteLength) {
      throw corrupt(`The ${this.#what} is truncated: needed ${n} more bytes at offset ${this.#pos} of ${this.#buf.byteLength}.`);
    }
  }

  u8(): number {
    this.#need(1);
    return this.#buf[this.#pos++] as number;
  }

  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i >= 8) throw corrupt(`The ${this.#what} has an overlong number at offset ${this.#pos}.`);
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(v)) throw corrupt(`The ${this.#what} has an out-of-range number at offset ${this.#pos}.`);
        if (i > 0 && b === 0) throw corrupt(`The ${this.#what} has a non-canonical number at offset ${this.#pos}.`);
        return v;
      }
      scale *= 0x80;
    }
  }

  /** A view of everything not read yet, for a caller that decodes a long run itself and then `skip`s it. */
  rest(): Uint8Array {
    return this.#buf.subarray(this.#pos);
  }

  skip(n: number): void {
    this.#need(n);
    this.#pos += n;
  }

  /** A view (not a copy) of the next `n` bytes. */
  bytes(n: number): Uint8Array {
    this.#need(n);
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** Throws unless every byte was consumed. */
  end(): void {
    if (this.remaining !== 0) throw corrupt(`The ${this.#what} has ${this.remaining} unexpected trailing bytes.`);
  }
}

/** `body` followed by its CRC-32C; `unseal` verifies and strips it. */
export function seal(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.byteLength, crc32c(body), true);
  return out;
}

/** Throws Corrupt if the trailing CRC-32C does not match. Returns a view of the body. */
export function unseal(sealed: Uint8Array, what: string): Uint8Array {
  if (sealed.byteLength < 4) throw corrupt(`The ${what} is truncated: ${sealed.byteLength} bytes.`);
  const body = sealed.subarray(0, sealed.byteLength - 4);
  const stored = new DataView(sealed.buffer, sealed.byteOffset + body.byteLength, 4).getUint32(0, true);
  if (stored !== crc32c(body)) throw corrupt(`The ${what} fails its checksum.`);
  return body;
}
