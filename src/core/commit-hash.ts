import { invalidInput } from './errors.ts';

declare const commitHashBrand: unique symbol;
/** A 32-byte digest identifying a remote commit's content, as 64 lowercase hex characters. */
export type CommitHash = string & { readonly [commitHashBrand]: true };

const HEX64 = /^[0-9a-f]{64}$/;

export const CommitHash = {
  BYTES: 32,
  parse(text: string): CommitHash {
    if (!HEX64.test(text)) throw invalidInput(`Not a commit hash: ${JSON.stringify(text)}. Expected 64 lowercase hex characters.`);
    return text as CommitHash;
  },
  fromBytes(bytes: Uint8Array): CommitHash {
    if (bytes.byteLength !== 32) throw invalidInput(`A commit hash is 32 bytes; got ${bytes.byteLength}.`);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('') as CommitHash;
  },
  toBytes(hash: CommitHash): Uint8Array {
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = Number.parseInt(hash.slice(2 * i, 2 * i + 2), 16);
    return out;
  },
} as const;
