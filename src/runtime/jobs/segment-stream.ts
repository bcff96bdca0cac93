import { encodeFrameWith, FRAMES_IN_FLIGHT, PAGE_SIZE, type Deflate, type FrameRef, type Page, type PageIdx, type SegmentId, type SegmentPart } from '../../core/index.ts';
import { CodecChoice, type CodecChooser, type FrameCodec } from './codec-choice.ts';

/** Compressed bytes per segment object of a large push: the push uploads one while it builds the next. */
export const PART_BYTES = 2 * 1024 * 1024;
/** Parts being uploaded at once; with the one being built, a push holds ≤ (this + 1) × PART_BYTES of segment bytes. */
export const PARTS_IN_FLIGHT = 4;
/**
 * Pages of consecutive frames read in one `read` (1 MiB): the local store reads adjacent pages in one
 * call, and in a browser each OPFS read call costs about as much as 60 pages' worth of bytes.
 */
export const READ_BATCH_PAGES = 256;

export interface SegmentStreamOptions {
  /** The frames, in order: each ≤ 64 pages. */
  readonly frames: readonly (readonly PageIdx[])[];
  /** Pages of a few consecutive frames, ≤ READ_BATCH_PAGES unless one frame is larger (read from the local store when needed: a push never holds all its pages). */
  readonly read: (idxs: readonly PageIdx[]) => ReadonlyMap<PageIdx, Page>;
  readonly deflate: Deflate;
  /** Which frames to deflate (default: a new CodecChoice, which stores frames while the link outruns deflate). */
  readonly codecs?: CodecChooser;
  /** Uploads one part under a fresh id; resolves with the id it landed under. */
  readonly upload: (bytes: Uint8Array) => Promise<SegmentId>;
  readonly partBytes?: number;
  readonly partsInFlight?: number;
  /**
   * Every frame is built and every part's upload has started (only for a segment in parts): the
   * frames, and how many of them each part holds, in order.
   */
  readonly onBuilt?: (built: { frames: readonly FrameRef[]; partFrames: readonly number[] }) => void;
  /** A part landed (for progress): its bytes. */
  readonly onUploaded?: (bytes: number) => void;
  readonly signal?: AbortSignal | undefined;
}

/** A built segment: its frames (with digests), and either the parts it was uploaded in or, when it fits in one part, its bytes, not uploaded yet. */
export type StreamedSegment =
  | { readonly frames: FrameRef[]; readonly parts: SegmentPart[]; readonly held?: undefined; readonly bytes: number }
  | { readonly frames: FrameRef[]; readonly parts?: undefined; readonly held: Uint8Array; readonly bytes: number };

/**
 * Builds a segment frame by frame — FRAMES_IN_FLIGHT compressing at once — and uploads it in parts of
 * about `partBytes` while it builds the next, at most `partsInFlight` at once, so memory stays bounded
 * whatever the push's size. A segment that fits in one part is handed back un-uploaded (the caller
 * may send it inline, or as one object beside the commit probe). On a failure, waits for the uploads
 * in flight before throwing: parts no commit names are harmless (remote GC deletes them).
 */
export async function streamSegment(options: SegmentStreamOptions): Promise<StreamedSegment> {
  const partBytes = options.partBytes ?? PART_BYTES;
  const partsInFlight = options.partsInFlight ?? PARTS_IN_FLIGHT;
  const codecs = options.codecs ?? new CodecChoice();
  const frames: FrameRef[] = [];
  const parts: Promise<SegmentPart>[] = [];
  const partFrames: number[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let chunks: Uint8Array[] = [];
  let chunkBytes = 0;
  let framesInChunk = 0;
  let total = 0;
  let failed: { reason: unknown } | undefined;
  // The builder's own time per frame leaves out its waits for a free upload slot.
  let waitedMs = 0;
  const flush = async () => {
    const waitFrom = performance.now();
    while (inFlight.size >= partsInFlight) await Promise.race(inFlight);
    waitedMs += performance.now() - waitFrom;
    const bytes = concat(chunks, chunkBytes);
    const count = framesInChunk;
    chunks = [];
    chunkBytes = 0;
    framesInChunk = 0;
    partFrames.push(count);
    codecs.uploadStarted();
    const part = options.upload(bytes).then((sid) => {
      codecs.uploadFinished(bytes.byteLength);
      options.onUploaded?.(bytes.byteLength);
      return { sid, frames: count };
    });
    const tracked = part.then(() => undefined, (reason: unknown) => {
      failed ??= { reason };
    });
    inFlight.add(tracked);
    void tracked.then(() => inFlight.delete(tracked));
    parts.push(part);
  };

  const encoding: Promise<EncodedFrame>[] = [];
  try {
    let next = 0;
    const batch = frameBatches(options.frames, options.read);
    const start = () => {
      const idxs = options.frames[next++] as readonly PageIdx[];
      const pages = batch(next - 1);
      const codec = codecs.choose(idxs.length * PAGE_SIZE);
      encoding.push(encodeFrameWith(idxs.map((idx) => [idx, pages.get(idx) as Page] as const), codec === 'store' ? store : options.deflate).then(async (f) => ({ frame: { pages: f.pages, bytes: f.bytes.byteLength, digest: await digest(f.bytes) }, bytes: f.bytes, codec })));
    };
    while (next < options.frames.length && encoding.length < FRAMES_IN_FLIGHT) start();
    let mark = performance.now();
    while (encoding.length > 0) {
      const { frame, bytes, codec } = await (encoding.shift() as Promise<EncodedFrame>);
      const now = performance.now();
      codecs.built(codec, frame.pages.size * PAGE_SIZE, bytes.byteLength, now - mark - waitedMs);
      mark = now;
      waitedMs = 0;
      options.signal?.throwIfAborted();
      // A part that failed fails the push now, not after the rest is built.
      if (failed) throw failed.reason;
      if (next < options.frames.length) start();
      if (chunkBytes > 0 && chunkBytes + bytes.byteLength > partBytes) await flush();
      frames.push(frame);
      chunks.push(bytes);
      chunkBytes += bytes.byteLength;
      framesInChunk++;
      total += bytes.byteLength;
    }
    if (parts.length === 0) return { frames, held: concat(chunks, chunkBytes), bytes: total };
    if (framesInChunk > 0) await flush();
    options.onBuilt?.({ frames, partFrames });
    return { frames, parts: await Promise.all(parts), bytes: total };
  } finally {
    await Promise.allSettled([...encoding, ...parts]);
  }
}

interface EncodedFrame {
  readonly frame: FrameRef;
  readonly bytes: Uint8Array;
  readonly codec: FrameCodec;
}

/** A "deflate" that keeps the pages as they are: the frame is stored (codec 0). */
const store: Deflate = (raw) => raw;

/**
 * `pagesOf(i)`: the pages of frame `i`, asked for in order. Reads them with those of the frames after it,
 * up to READ_BATCH_PAGES, and hands each frame's pages out once (the batch is dropped as it is used).
 */
function frameBatches(frames: readonly (readonly PageIdx[])[], read: (idxs: readonly PageIdx[]) => ReadonlyMap<PageIdx, Page>): (i: number) => ReadonlyMap<PageIdx, Page> {
  let held = new Map<PageIdx, Page>();
  let end = 0;
  return (i) => {
    const idxs = frames[i] as readonly PageIdx[];
    if (i >= end) {
      const wanted = [...idxs];
      for (end = i + 1; end < frames.length && wanted.length + (frames[end] as readonly PageIdx[]).length <= READ_BATCH_PAGES; end++) wanted.push(...(frames[end] as readonly PageIdx[]));
      held = new Map(read(wanted));
    }
    const pages = new Map<PageIdx, Page>();
    for (const idx of idxs) {
      pages.set(idx, held.get(idx) as Page);
      held.delete(idx);
    }
    return pages;
  };
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** SHA-256 through WebCrypto: native, and off the thread in browsers, so it overlaps compression and uploads. */
async function digest(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}
