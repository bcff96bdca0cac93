import { deflateSync, inflateSync } from 'fflate';
import type { FrameRef } from './commit.ts';
import { crc32c } from './crc.ts';
import { corrupt, invalidInput } from './errors.ts';
import { Page, PAGE_SIZE } from './page.ts';
import type { PageIdx } from './page-idx.ts';
import { PageSet } from './page-set.ts';

/** A frame holds at most 64 pages (256 KiB raw): one ranged GET fetches all of them. */
export const FRAME_MAX_PAGES = 64;

/*
 * A segment object is frames back to back; the commit that references it holds the index (each
 * frame's pages and byte size). A frame is self-checking:
 *   magic u32 "SFRM" | version u8 | codec u8 (1 = deflate) | reserved u16 | page count u32 | CRC-32C u32
 * of the uncompressed pages, then the compressed pages in ascending page order.
 */
const MAGIC = 0x4d52_4653; // "SFRM" little-endian
const FORMAT_VERSION = 1;
const CODEC_DEFLATE = 1;
export const FRAME_HEADER_BYTES = 16;

/** Compresses `pages` (ascending by index) into one frame. */
export function encodeFrame(pages: readonly Page[]): Uint8Array {
  if (pages.length === 0 || pages.length > FRAME_MAX_PAGES) throw invalidInput(`A frame holds 1–${FRAME_MAX_PAGES} pages; got ${pages.length}.`);
  const raw = new Uint8Array(pages.length * PAGE_SIZE);
  pages.forEach((p, i) => raw.set(p, i * PAGE_SIZE));
  const body = deflateSync(raw, { level: 6 });
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint8(4, FORMAT_VERSION);
  view.setUint8(5, CODEC_DEFLATE);
  view.setUint32(8, pages.length, true);
  view.setUint32(12, crc32c(raw), true);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Decodes one frame that should hold exactly `pages`. Throws Corrupt on any mismatch (truncation,
 * bad checksum, wrong page count), so a damaged frame never yields wrong pages.
 */
export function decodeFrame(bytes: Uint8Array, pages: PageSet): Map<PageIdx, Page> {
  if (bytes.byteLength < FRAME_HEADER_BYTES) throw corrupt(`A segment frame is truncated: ${bytes.byteLength} bytes.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw corrupt('Not a segment frame: bad magic bytes.');
  const version = view.getUint8(4);
  if (version !== FORMAT_VERSION) throw invalidInput(`Unknown segment frame version ${version}; this Scion reads version ${FORMAT_VERSION}. Upgrade Scion.`);
  if (view.getUint8(5) !== CODEC_DEFLATE) throw corrupt(`A segment frame uses unknown codec ${view.getUint8(5)}.`);
  const count = view.getUint32(8, true);
  if (count !== pages.size) throw corrupt(`A segment frame holds ${count} pages where its commit lists ${pages.size}.`);
  let raw: Uint8Array;
  try {
    raw = inflateSync(bytes.subarray(FRAME_HEADER_BYTES), { out: new Uint8Array(count * PAGE_SIZE) });
  } catch (e) {
    throw corrupt(`A segment frame does not decompress: ${(e as Error).message}`);
  }
  if (raw.byteLength !== count * PAGE_SIZE || crc32c(raw) !== view.getUint32(12, true)) {
    throw corrupt('A segment frame fails its checksum.');
  }
  const out = new Map<PageIdx, Page>();
  let i = 0;
  for (const idx of pages) out.set(idx, raw.slice(i * PAGE_SIZE, ++i * PAGE_SIZE) as Page);
  return out;
}

/** Byte range [start, end) of frame `i` within its segment: frames are back to back. */
export function frameRange(frames: readonly FrameRef[], i: number): { start: number; end: number } {
  let start = 0;
  for (let k = 0; k < i; k++) start += (frames[k] as FrameRef).bytes;
  return { start, end: start + (frames[i] as FrameRef).bytes };
}

/** Index of the frame holding `pageIdx`, or -1. */
export function frameOf(frames: readonly FrameRef[], pageIdx: PageIdx): number {
  return frames.findIndex((f) => f.pages.has(pageIdx));
}

/** Builds a segment from groups of pages (each group ≤ 64 pages becomes one frame, in order). */
export function encodeSegment(groups: readonly (readonly [PageIdx, Page][])[]): { bytes: Uint8Array; frames: FrameRef[] } {
  const encoded = groups.map((g) => {
    const sorted = [...g].sort((a, b) => a[0] - b[0]);
    return { pages: PageSet.of(sorted.map(([idx]) => idx)), bytes: encodeFrame(sorted.map(([, p]) => p)) };
  });
  const total = encoded.reduce((n, f) => n + f.bytes.byteLength, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const f of encoded) {
    bytes.set(f.bytes, at);
    at += f.bytes.byteLength;
  }
  return { bytes, frames: encoded.map((f) => ({ pages: f.pages, bytes: f.bytes.byteLength })) };
}
