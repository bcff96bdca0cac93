import { assert, invalidInput } from './errors.ts';

/**
 * A 16-byte, time-sortable global id: [kind 1 B][ms since epoch 6 B, big-endian][random 9 B].
 * Its canonical text is 26 lowercase Crockford base32 characters; the kind byte is chosen so the
 * first character names the kind ("v…" volume, "s…" segment) and an id of the wrong kind fails to parse.
 */
export const GID_BYTES = 16;
export const GID_CHARS = 26;

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const DECODE = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));
const TIME_MAX = 2 ** 48 - 1;

/** A kind's byte is its letter's base32 value shifted into the top five bits. */
export interface GidKind {
  readonly name: string;
  readonly letter: string;
  readonly byte: number;
}

export function gidKind(name: string, letter: string): GidKind {
  const v = DECODE.get(letter);
  assert(v !== undefined, `${letter} is not a base32 letter`);
  return { name, letter, byte: v << 3 };
}

export function encodeGid(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >>> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}

/** Strict: exactly 26 characters of the lowercase alphabet, zero padding bits, and the expected kind. */
export function decodeGid(kind: GidKind, text: string): Uint8Array {
  if (typeof text !== 'string' || text.length !== GID_CHARS) {
    throw invalidInput(`Not a ${kind.name}: ${typeof text === 'string' ? JSON.stringify(text) : typeof text}. Expected ${GID_CHARS} base32 characters starting with "${kind.letter}".`);
  }
  const out = new Uint8Array(GID_BYTES);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const c of text) {
    const v = DECODE.get(c);
    if (v === undefined) throw invalidInput(`Not a ${kind.name}: ${JSON.stringify(text)} has the character "${c}".`);
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  if (acc !== 0) throw invalidInput(`Not a ${kind.name}: ${JSON.stringify(text)} is not in canonical form.`);
  checkGidBytes(kind, out);
  return out;
}

export function checkGidBytes(kind: GidKind, bytes: Uint8Array): void {
  if (bytes.byteLength !== GID_BYTES) {
    throw invalidInput(`A ${kind.name} is ${GID_BYTES} bytes; got ${bytes.byteLength}.`);
  }
  if (bytes[0] !== kind.byte) {
    throw invalidInput(`These bytes are not a ${kind.name}: kind byte 0x${(bytes[0] ?? 0).toString(16)}.`);
  }
}

/** Builds the bytes of a new id; `random` supplies the 9 random bytes (seeded in simulations). */
export function makeGidBytes(kind: GidKind, timeMs: number, random: Uint8Array): Uint8Array {
  if (!Number.isSafeInteger(timeMs) || timeMs < 0 || timeMs > TIME_MAX) throw invalidInput(`Not an id timestamp: ${timeMs}`);
  if (random.byteLength !== 9) throw invalidInput(`An id needs 9 random bytes; got ${random.byteLength}.`);
  const bytes = new Uint8Array(GID_BYTES);
  bytes[0] = kind.byte;
  let t = timeMs;
  for (let i = 6; i >= 1; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  bytes.set(random, 7);
  return bytes;
}

/** Milliseconds since the epoch at which the id was made. */
export function gidTime(bytes: Uint8Array): number {
  let t = 0;
  for (let i = 1; i <= 6; i++) t = t * 256 + (bytes[i] ?? 0);
  return t;
}

/** The companion of a branded id type: parse, convert, and mint ids of one kind. */
export interface GidCompanion<T extends string> {
  /** Throws InvalidInput unless `text` is a canonical id of this kind. */
  parse(text: string): T;
  fromBytes(bytes: Uint8Array): T;
  toBytes(id: T): Uint8Array;
  /** A new id; ids made later sort after ids made earlier (to the millisecond). */
  random(ids?: IdSource): T;
  is(text: unknown): text is T;
}

export function gidCompanion<T extends string>(name: string, letter: string): GidCompanion<T> {
  const kind = gidKind(name, letter);
  const parse = (text: string): T => (decodeGid(kind, text), text as T);
  return {
    parse,
    fromBytes: (bytes) => (checkGidBytes(kind, bytes), encodeGid(bytes) as T),
    toBytes: (id) => decodeGid(kind, id),
    random(ids = SYSTEM_IDS) {
      const r = new Uint8Array(9);
      ids.random(r);
      return encodeGid(makeGidBytes(kind, ids.now(), r)) as T;
    },
    is(text: unknown): text is T {
      if (typeof text !== 'string') return false;
      try {
        parse(text);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** Source of fresh ids: the clock and randomness, injectable so simulations are reproducible. */
export interface IdSource {
  now(): number;
  random(bytes: Uint8Array): void;
}

export const SYSTEM_IDS: IdSource = {
  now: () => Date.now(),
  random: (bytes) => void crypto.getRandomValues(bytes as Uint8Array<ArrayBuffer>),
};
