import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeSegment, FRAME_HEADER_BYTES, Page, PageIdx, PageSet } from './index.ts';

describe('segment frames that do not compress', () => {
  it('are stored as they are (codec 0) and decode to the same pages', async () => {
    const noise = Array.from({ length: 3 }, () => crypto.getRandomValues(new Uint8Array(4096)) as Page);
    const { bytes, frames } = await encodeSegment([noise.map((p, i) => [PageIdx.parse(i + 1), p] as const)]);
    expect(bytes[5]).toBe(0);
    expect(bytes.byteLength).toBe(FRAME_HEADER_BYTES + 3 * 4096);
    const pages = decodeFrame(bytes, frames[0]!.pages);
    expect([...pages.values()]).toEqual(noise);
  });

  it('compress when they can, with a native or an injected deflate, and decode the same', async () => {
    const text = Page.from(new TextEncoder().encode('scion '.repeat(700)).slice(0, 4096));
    for (const deflate of [undefined, async (raw: Uint8Array) => new Uint8Array(await new Response(new Blob([raw as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('deflate-raw'))).arrayBuffer())]) {
      const { bytes, frames } = await encodeSegment([[[PageIdx.parse(7), text]]], deflate);
      expect(bytes[5]).toBe(1);
      expect(bytes.byteLength).toBeLessThan(200);
      expect(decodeFrame(bytes, PageSet.of([7])).get(PageIdx.parse(7))).toEqual(text);
      expect(frames[0]!.bytes).toBe(bytes.byteLength);
    }
  });
});
