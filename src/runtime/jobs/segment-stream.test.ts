import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { decodeFrame, FRAME_MAX_PAGES, frameSpan, Page, PAGE_SIZE, PageIdx, PageSet, SegmentId, type SegmentRef } from '../../core/index.ts';
import { READ_BATCH_PAGES, streamSegment } from './segment-stream.ts';

/** Pages that compress to about a quarter. */
function pageOf(idx: number): Page {
  const p = Page.zeroed();
  let x = idx * 2654435761;
  for (let i = 0; i < PAGE_SIZE; i += 4) p[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return p;
}

function equalPages(a: Page | undefined, b: Page): boolean {
  return a !== undefined && a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
}

describe('a large segment streams out in parts', () => {
  it('uploads parts while it builds the next, never more than partsInFlight × partBytes in flight, and every frame reads back from its part', async () => {
    const pages = 4096;
    const frames = Array.from({ length: pages / FRAME_MAX_PAGES }, (_, f) => Array.from({ length: FRAME_MAX_PAGES }, (_, i) => PageIdx.parse(f * FRAME_MAX_PAGES + i + 1)));
    // Above one stored frame (256 KiB and its header): the stream may store frames.
    const partBytes = 512 * 1024;
    const objects = new Map<SegmentId, Uint8Array>();
    let inFlight = 0;
    let peak = 0;
    let n = 0;
    let built = 0;
    const builtAtUpload: number[] = [];
    const streamed = await streamSegment({
      frames,
      read: (idxs) => {
        built += idxs.length;
        return new Map(idxs.map((idx) => [idx, pageOf(idx)]));
      },
      deflate: async (raw) => deflateSync(raw, { level: 1 }),
      partBytes,
      partsInFlight: 2,
      upload: async (bytes) => {
        builtAtUpload.push(built);
        inFlight += bytes.byteLength;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight -= bytes.byteLength;
        const sid = `s${String(++n).padStart(25, '0')}` as SegmentId;
        objects.set(sid, bytes.slice());
        return sid;
      },
    });
    expect(streamed.parts?.length).toBeGreaterThan(3);
    expect(peak).toBeLessThanOrEqual(2 * partBytes);
    // Uploading started long before the last page was read.
    expect(builtAtUpload[0]).toBeLessThan(pages / 2);
    expect(streamed.parts!.reduce((sum, p) => sum + p.frames, 0)).toBe(frames.length);
    const seg: SegmentRef = { sid: SegmentId.random(), home: undefined, pages: PageSet.of(frames.flat()), frames: streamed.frames, parts: streamed.parts };
    for (const i of [0, 17, frames.length - 1]) {
      const span = frameSpan(seg, i, i);
      const bytes = (objects.get(span.at.sid) as Uint8Array).subarray(span.start, span.end);
      const page = decodeFrame(bytes, streamed.frames[i]!.pages).get(frames[i]![3]!);
      expect(page).toEqual(pageOf(frames[i]![3]!));
    }
  });

  it('a segment of stored and deflated frames, as its codec choice asked, reads back whole from its parts', async () => {
    const frames = Array.from({ length: 40 }, (_, f) => Array.from({ length: FRAME_MAX_PAGES }, (_, i) => PageIdx.parse(f * FRAME_MAX_PAGES + i + 1)));
    const objects = new Map<SegmentId, Uint8Array>();
    const events: string[] = [];
    let chosen = 0;
    const streamed = await streamSegment({
      frames,
      read: (idxs) => new Map(idxs.map((idx) => [idx, pageOf(idx)])),
      deflate: async (raw) => deflateSync(raw, { level: 1 }),
      // Runs of three deflated frames and two stored ones.
      codecs: {
        choose: (raw) => {
          expect(raw).toBe(FRAME_MAX_PAGES * PAGE_SIZE);
          return chosen++ % 5 < 3 ? 'deflate' : 'store';
        },
        built: (codec, raw, wire) => events.push(`${codec} ${raw > wire ? 'smaller' : 'whole'}`),
        uploadStarted: () => events.push('up'),
        uploadFinished: () => events.push('landed'),
      },
      partBytes: 1024 * 1024,
      upload: async (bytes) => {
        const sid = SegmentId.random();
        objects.set(sid, bytes.slice());
        return sid;
      },
    });
    const seg: SegmentRef = { sid: SegmentId.random(), home: undefined, pages: PageSet.of(frames.flat()), frames: streamed.frames, parts: streamed.parts };
    const codecs: number[] = [];
    for (const [i, frame] of streamed.frames.entries()) {
      const span = frameSpan(seg, i, i);
      const bytes = (objects.get(span.at.sid) as Uint8Array).subarray(span.start, span.end);
      codecs.push(bytes[5] as number);
      const pages = decodeFrame(bytes, frame.pages);
      // (toEqual on every 4 KiB page would take seconds.)
      expect(frames[i]!.every((idx) => equalPages(pages.get(idx), pageOf(idx)))).toBe(true);
    }
    expect(codecs.slice(0, 5)).toEqual([1, 1, 1, 0, 0]);
    expect(events.filter((e) => e.startsWith('deflate')).every((e) => e === 'deflate smaller')).toBe(true);
    expect(events.filter((e) => e.startsWith('store')).every((e) => e === 'store whole')).toBe(true);
    expect(events.filter((e) => e === 'up').length).toBe(streamed.parts!.length);
    expect(events.filter((e) => e === 'landed').length).toBe(streamed.parts!.length);
  });

  it('reads the pages of consecutive frames together, READ_BATCH_PAGES at most, each page once', async () => {
    const frames = Array.from({ length: 100 }, (_, f) => Array.from({ length: 8 }, (_, i) => PageIdx.parse(f * 8 + i + 1)));
    const reads: number[] = [];
    const streamed = await streamSegment({
      frames,
      read: (idxs) => {
        reads.push(idxs.length);
        return new Map(idxs.map((idx) => [idx, pageOf(idx)]));
      },
      deflate: async (raw) => deflateSync(raw, { level: 1 }),
      upload: () => Promise.reject(new Error('not expected')),
    });
    expect(reads).toEqual([READ_BATCH_PAGES, READ_BATCH_PAGES, READ_BATCH_PAGES, 800 - 3 * READ_BATCH_PAGES]);
    const held = streamed.held as Uint8Array;
    let at = 0;
    for (const [i, frame] of streamed.frames.entries()) {
      const pages = decodeFrame(held.subarray(at, at + frame.bytes), frame.pages);
      expect(pages.get(frames[i]![5]!)).toEqual(pageOf(frames[i]![5]!));
      at += frame.bytes;
    }
  });

  it('a segment that fits in one part is handed back, not uploaded', async () => {
    const streamed = await streamSegment({
      frames: [[PageIdx.parse(1), PageIdx.parse(2)]],
      read: (idxs) => new Map(idxs.map((idx) => [idx, pageOf(idx)])),
      deflate: async (raw) => deflateSync(raw),
      upload: () => Promise.reject(new Error('not expected')),
    });
    expect(streamed.held?.byteLength).toBe(streamed.frames[0]!.bytes);
  });

  it('a failed part fails the stream without building the rest, after the uploads in flight settled', async () => {
    const frames = Array.from({ length: 64 }, (_, f) => Array.from({ length: FRAME_MAX_PAGES }, (_, i) => PageIdx.parse(f * FRAME_MAX_PAGES + i + 1)));
    let read = 0;
    let settled = 0;
    const run = streamSegment({
      frames,
      read: (idxs) => {
        read += idxs.length;
        return new Map(idxs.map((idx) => [idx, pageOf(idx)]));
      },
      deflate: async (raw) => deflateSync(raw, { level: 1 }),
      partBytes: 64 * 1024,
      upload: async (bytes) => {
        await new Promise((r) => setTimeout(r, 10));
        settled++;
        if (bytes.byteLength > 0) throw new Error('the bucket is down');
        return SegmentId.random();
      },
    });
    await expect(run).rejects.toThrow('the bucket is down');
    expect(read).toBeLessThan(frames.length * FRAME_MAX_PAGES);
    const atFailure = settled;
    await new Promise((r) => setTimeout(r, 30));
    expect(settled).toBe(atFailure);
  });
});
