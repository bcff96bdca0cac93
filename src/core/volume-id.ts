import { gidCompanion } from './gid.ts';

declare const volumeIdBrand: unique symbol;
/** Identifies a volume: 26 base32 characters starting with "v", e.g. `vr0gcx2hmz3c4kq8s0pa1n7e0g`. */
export type VolumeId = string & { readonly [volumeIdBrand]: true };

export const VolumeId = gidCompanion<VolumeId>('VolumeId', 'v');
