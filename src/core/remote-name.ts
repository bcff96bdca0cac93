import { ByteReader, ByteWriter, seal, unseal } from './codec.ts';
import { corrupt, invalidInput } from './errors.ts';
import { VolumeId } from './volume-id.ts';

declare const sharedNameBrand: unique symbol;
/**
 * The name of a database shared through a bucket (`names/{name}`): 1–128 of [A-Za-z0-9._-],
 * starting with a letter or digit (so no key segment is "." or "..").
 */
export type SharedName = string & { readonly [sharedNameBrand]: true };

const SHARED_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const SharedName = {
  /** Throws InvalidInput naming the allowed characters. */
  parse(text: unknown): SharedName {
    if (typeof text !== 'string' || !SHARED_NAME.test(text)) {
      throw invalidInput(`Not a shared database name: ${JSON.stringify(text)}. Use 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit.`);
    }
    return text as SharedName;
  },
} as const;

/**
 * `names/{name}`: which volume a shared name points at. Created once with If-None-Match: * and never
 * overwritten, so the first device to claim a name wins and every device that reads it later gets the
 * same volume for good. Its bytes follow from (name, vid) alone, so the presign service signs the
 * exact body. Format: magic "SNAM", version 1, name length and UTF-8 bytes, vid, CRC-32C.
 */
export interface RemoteName {
  readonly name: SharedName;
  readonly vid: VolumeId;
}

const MAGIC = 0x4d41_4e53; // "SNAM" little-endian
const VERSION = 1;

export const RemoteName = {
  encode(n: RemoteName): Uint8Array {
    const name = new TextEncoder().encode(n.name);
    return seal(new ByteWriter(64 + name.byteLength).u32(MAGIC).u8(VERSION).varint(name.byteLength).bytes(name).bytes(VolumeId.toBytes(n.vid)).finish());
  },

  /** Throws Corrupt for anything but the name object of `name`. */
  decode(bytes: Uint8Array, name: SharedName): RemoteName {
    const r = new ByteReader(unseal(bytes, 'shared name'), 'shared name');
    if (r.u32() !== MAGIC || r.u8() !== VERSION) throw corrupt(`The shared name ${name} is not a Scion name object (version ${VERSION}).`);
    let decoded: RemoteName;
    try {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(r.bytes(r.varint()));
      decoded = { name: SharedName.parse(text), vid: VolumeId.fromBytes(r.bytes(16)) };
    } catch (e) {
      throw corrupt(`The shared name ${name} holds an invalid field: ${(e as Error).message}`);
    }
    r.end();
    if (decoded.name !== name) throw corrupt(`The object of shared name ${name} names ${decoded.name}.`);
    return decoded;
  },
} as const;
