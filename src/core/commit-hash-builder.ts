import { sha256 } from '@noble/hashes/sha2.js';
import { createBulkSha256, nativeSha256 } from './bulk-hashes.ts';
import { Commit } from './commit.ts';
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
  const header = hashHeader(vid, lsn, pageCount, pages.length);
  checkAscending(pages, 0);
  if (pages.length * PAGE_ENTRY_BYTES <= ONE_SHOT_BYTES) {
    // Small: one buffer and the platform's native SHA-256.
    const buf = new Uint8Array(HEADER_BYTES + pages.length * PAGE_ENTRY_BYTES);
    buf.set(header, 0);
    pages.forEach(([idx, page], i) => writeEntry(buf, HEADER_BYTES + i * PAGE_ENTRY_BYTES, idx, page));
    return CommitHash.fromBytes(await nativeSha256(buf));
  }
  return computeCommitHashStreamed(vid, lsn, pageCount, pages.length, chunked(pages));
}

/**
 * The same hash over `count` pages handed over in ascending chunks (a large push reads them from the
 * store as it goes, never a copy of every page; its chunks may yield to the event loop in between, so
 * the uploads it runs beside keep moving).
 */
export async function computeCommitHashStreamed(vid: VolumeId, lsn: LSN, pageCount: PageCount, count: number, chunks: AsyncIterable<readonly (readonly [PageIdx, Page])[]> | Iterable<readonly (readonly [PageIdx, Page])[]>): Promise<CommitHash> {
  if (count * PAGE_ENTRY_BYTES <= ONE_SHOT_BYTES) {
    const pages: (readonly [PageIdx, Page])[] = [];
    for await (const chunk of chunks) pages.push(...chunk);
    return computeCommitHash(vid, lsn, pageCount, pages);
  }
  const hash = await createBulkSha256();
  hash.update(hashHeader(vid, lsn, pageCount, count));
  // A chunk's entries go to the hasher in one call (one copy into its memory, not one per page).
  let entries = new Uint8Array(0);
  let prev = 0;
  let seen = 0;
  for await (const chunk of chunks) {
    prev = checkAscending(chunk, prev);
    if (entries.byteLength < chunk.length * PAGE_ENTRY_BYTES) entries = new Uint8Array(chunk.length * PAGE_ENTRY_BYTES);
    chunk.forEach(([idx, page], i) => writeEntry(entries, i * PAGE_ENTRY_BYTES, idx, page));
    hash.update(entries.subarray(0, chunk.length * PAGE_ENTRY_BYTES));
    seen += chunk.length;
  }
  if (seen !== count) throw new Error(`BUG: commit hash of ${count} pages given ${seen}`);
  return CommitHash.fromBytes(hash.digest());
}

function* chunked(pages: readonly (readonly [PageIdx, Page])[]): Iterable<readonly (readonly [PageIdx, Page])[]> {
  for (let i = 0; i < pages.length; i += 256) yield pages.slice(i, i + 256);
}

function hashHeader(vid: VolumeId, lsn: LSN, pageCount: PageCount, count: number): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  header.set(DOMAIN, 0);
  header.set(VolumeId.toBytes(vid), 15);
  view.setBigUint64(31, BigInt(lsn), false);
  view.setUint32(39, pageCount, false);
  view.setUint32(43, count, false);
  return header;
}

const HEADER_BYTES = 15 + 16 + 8 + 4 + 4;
const PAGE_ENTRY_BYTES = 4 + 4096;
/** Up to this many bytes are hashed in one native call; beyond, incrementally (bounded memory). */
const ONE_SHOT_BYTES = 16 << 20;

/** Throws unless the pages are strictly ascending after `prev`; returns the last index. */
function checkAscending(pages: readonly (readonly [PageIdx, Page])[], prev: number): number {
  for (const [idx] of pages) {
    if (idx <= prev) throw new Error('BUG: commit hash pages must be strictly ascending');
    prev = idx;
  }
  return prev;
}

function writeEntry(buf: Uint8Array, at: number, idx: PageIdx, page: Page): void {
  new DataView(buf.buffer, buf.byteOffset + at, 4).setUint32(0, idx, false);
  buf.set(page, at + 4);
}

const REFERENCE_DOMAIN = new TextEncoder().encode('scion-reference-commit-v1');

/**
 * The hash of a commit that names segments already in the bucket instead of carrying pages (a
 * fork's reference to its parent's segments): SHA-256 over (domain, the commit's record without a
 * hash). The record holds the segment's home, id, pages and every frame's SHA-256 digest, so the hash
 * still binds the page bytes — through the digests readers check on every fetch — without reading them.
 */
export function computeReferenceHash(commit: Commit): CommitHash {
  const { hash: _, ...unhashed } = Commit.withoutCheckpoint(commit);
  return CommitHash.fromBytes(sha256.create().update(REFERENCE_DOMAIN).update(Commit.encode(unhashed)).digest());
}
