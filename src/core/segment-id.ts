import { gidCompanion } from './gid.ts';

declare const segmentIdBrand: unique symbol;
/** Identifies an immutable set of pages written together: 26 base32 characters starting with "s". */
export type SegmentId = string & { readonly [segmentIdBrand]: true };

export const SegmentId = gidCompanion<SegmentId>('SegmentId', 's');
