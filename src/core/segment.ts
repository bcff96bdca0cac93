import { sha256 } from '@noble/hashes/sha2.js';
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
/** Codec 0 stores pages as they are (used when deflate would not shrink them); 1 is raw DEFLATE. */
const CODEC_STORED = 0;
const CODEC_DEFLATE = 1;
export const FRAME_HEADER_BYTES = 16;

/** Raw DEFLATE of `raw`; the runtime passes a native one (CompressionStream) where there is one. */
export type Deflate = (raw: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** fflate's, synchronous: everywhere, but slower than a native CompressionStream. */
export const deflateWithFflate: Deflate = (raw) => deflateSync(raw, { level: 6 });

/** Compresses `pages` (ascending by index) into one frame. */
export function encodeFrame(pages: readonly Page[]): Uint8Array {
  const raw = framePages(pages);
  return frameBytes(pages.length, raw, deflateSync(raw, { level: 6 }));
}

function framePages(pages: readonly Page[]): Uint8Array {
  if (pages.length === 0 || pages.length > FRAME_MAX_PAGES) throw invalidInput(`A frame holds 1–${FRAME_MAX_PAGES} pages; got ${pages.length}.`);
  const raw = new Uint8Array(pages.length * PAGE_SIZE);
  pages.forEach((p, i) => raw.set(p, i * PAGE_SIZE));
  return raw;
}

function frameBytes(count: number, raw: Uint8Array, deflated: Uint8Array): Uint8Array {
  const stored = deflated.byteLength >= raw.byteLength;
  const body = stored ? raw : deflated;
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint8(4, FORMAT_VERSION);
  view.setUint8(5, stored ? CODEC_STORED : CODEC_DEFLATE);
  view.setUint32(8, count, true);
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
  const codec = view.getUint8(5);
  if (codec !== CODEC_DEFLATE && codec !== CODEC_STORED) throw corrupt(`A segment frame uses unknown codec ${codec}.`);
  const count = view.getUint32(8, true);
  if (count !== pages.size) throw corrupt(`A segment frame holds ${count} pages where its commit lists ${pages.size}.`);
  let raw: Uint8Array;
  try {
    raw = codec === CODEC_STORED ? bytes.subarray(FRAME_HEADER_BYTES) : inflateSync(bytes.subarray(FRAME_HEADER_BYTES), { out: new Uint8Array(count * PAGE_SIZE) });
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

/**
 * Checks fetched bytes against what the commit says of the frame: its size and (format 2) its
 * SHA-256. Throws Corrupt naming `where`, so bytes swapped, replaced or cut in the bucket never
 * decode into pages of the wrong commit.
 */
export function verifyFrame(frame: FrameRef, bytes: Uint8Array, where: string): void {
  if (bytes.byteLength !== frame.bytes) throw corrupt(`A frame of ${where} is ${bytes.byteLength} bytes where its commit records ${frame.bytes}.`);
  if (frame.digest && !equalBytes(sha256(bytes), frame.digest)) {
    throw corrupt(`A frame of ${where} does not match the digest its commit records: the segment object was replaced or damaged.`);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** Byte range [start, end) of frame `i` within its segment: frames are back to back. */
export function frameRange(frames: readonly FrameRef[], i: number): { start: number; end: number } {
  const start = frameOffsets(frames)[i] as number;
  return { start, end: start + (frames[i] as FrameRef).bytes };
}

/** Each frame's start, by frame list (a commit's never changes): a miss in a segment of thousands of frames sums none. */
const offsetsOf = new WeakMap<readonly FrameRef[], Float64Array>();

function frameOffsets(frames: readonly FrameRef[]): Float64Array {
  let offsets = offsetsOf.get(frames);
  if (!offsets || offsets.length !== frames.length + 1) {
    offsets = new Float64Array(frames.length + 1);
    for (let k = 0; k < frames.length; k++) offsets[k + 1] = (offsets[k] as number) + (frames[k] as FrameRef).bytes;
    offsetsOf.set(frames, offsets);
  }
  return offsets;
}

/** Index of the frame holding `pageIdx`, or -1. */
export function frameOf(frames: readonly FrameRef[], pageIdx: PageIdx): number {
  return frames.findIndex((f) => f.pages.has(pageIdx));
}

/** One frame of `pages` (any order; stored ascending), compressed with `deflate`. */
export async function encodeFrameWith(pages: readonly (readonly [PageIdx, Page])[], deflate: Deflate): Promise<{ pages: PageSet; bytes: Uint8Array }> {
  const sorted = [...pages].sort((a, b) => a[0] - b[0]);
  const raw = framePages(sorted.map(([, p]) => p));
  return { pages: PageSet.of(sorted.map(([idx]) => idx)), bytes: frameBytes(sorted.length, raw, await deflate(raw)) };
}

/** Frames being compressed at once while a segment is built: the raw bytes held stay ≤ this × 256 KiB. */
export const FRAMES_IN_FLIGHT = 4;

/**
 * Builds a segment from groups of pages (each group ≤ 64 pages becomes one frame, in order), with
 * `deflate` compressing the frames (FRAMES_IN_FLIGHT at once when it is asynchronous, so a large
 * push never holds a raw copy of all its pages besides them). Each frame carries its SHA-256.
 */
export async function encodeSegment(groups: readonly (readonly [PageIdx, Page][])[], deflate: Deflate = deflateWithFflate): Promise<{ bytes: Uint8Array; frames: FrameRef[] }> {
  const encoded: { pages: PageSet; bytes: Uint8Array }[] = new Array(groups.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < groups.length; i = next++) encoded[i] = await encodeFrameWith(groups[i] as readonly [PageIdx, Page][], deflate);
  };
  await Promise.all(Array.from({ length: Math.min(FRAMES_IN_FLIGHT, groups.length) }, lane));
  const total = encoded.reduce((n, f) => n + f.bytes.byteLength, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const f of encoded) {
    bytes.set(f.bytes, at);
    at += f.bytes.byteLength;
  }
  return { bytes, frames: encoded.map((f) => ({ pages: f.pages, bytes: f.bytes.byteLength, digest: sha256(f.bytes) })) };
}
