import { CommitHash } from './commit-hash.ts';
import type { LSN } from './lsn.ts';
import type { Page } from './page.ts';
import type { PageCount, PageIdx } from './page-idx.ts';
import { VolumeId } from './volume-id.ts';

const DOMAIN = new TextEncoder().encode('scion-commit-v1');

/**
 * SHA-256 over (domain, volume, LSN, page count, number of pages, then each page's index and bytes in
 * ascending order): identifies a remote commit's content, independent of compression and framing.
 * Recovery compares it to tell "my push landed" from "someone else's did".
 */
export async function computeCommitHash(vid: VolumeId, lsn: LSN, pageCount: PageCount, pages: readonly (readonly [PageIdx, Page])[]): Promise<CommitHash> {
  const header = 15 + 16 + 8 + 4 + 4;
  const buf = new Uint8Array(header + pages.length * (4 + 4096));
  const view = new DataView(buf.buffer);
  buf.set(DOMAIN, 0);
  buf.set(VolumeId.toBytes(vid), 15);
  view.setBigUint64(31, BigInt(lsn), false);
  view.setUint32(39, pageCount, false);
  view.setUint32(43, pages.length, false);
  let at = header;
  let prev = 0;
  for (const [idx, page] of pages) {
    if (idx <= prev) throw new Error('BUG: commit hash pages must be strictly ascending');
    prev = idx;
    view.setUint32(at, idx, false);
    buf.set(page, at + 4);
    at += 4 + 4096;
  }
  return CommitHash.fromBytes(new Uint8Array(await crypto.subtle.digest('SHA-256', buf)));
}
