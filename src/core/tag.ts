import { invalidInput } from './errors.ts';

declare const tagBrand: unique symbol;
/** A mutable name that points at a graft; a SQLite database name is a tag. 1–128 of [A-Za-z0-9._-]. */
export type Tag = string & { readonly [tagBrand]: true };

const TAG = /^[A-Za-z0-9._-]{1,128}$/;

export const Tag = {
  /** Throws InvalidInput naming the allowed characters. */
  parse(text: string): Tag {
    if (typeof text !== 'string' || !TAG.test(text)) {
      throw invalidInput(`Not a tag name: ${JSON.stringify(text)}. Use 1–128 letters, digits, ".", "_" or "-".`);
    }
    return text as Tag;
  },
} as const;
