import { blake3 } from '@noble/hashes/blake3.js';
import { Page } from './page.ts';
import type { PageCount, PageIdx } from './page-idx.ts';

/**
 * Order-independent digest of a snapshot's visible content: each non-zero page contributes
 * blake3(pageIdx ‖ page) to a 128-bit sum and xor, so replicas that hold equal pages agree no matter the
 * order pages were read in or which commits wrote them. All-zero pages count as absent, since
 * never-written pages read as zeros.
 */
export class ChecksumBuilder {
  #sum = 0n;
  #xor = 0n;
  #count = 0;
  readonly #input = new Uint8Array(4 + 4096);

  add(pageIdx: PageIdx, page: Page): void {
    if (Page.isZero(page)) return;
    new DataView(this.#input.buffer).setUint32(0, pageIdx, false);
    this.#input.set(page, 4);
    const d = blake3(this.#input, { dkLen: 16 });
    let v = 0n;
    for (const b of d) v = (v << 8n) | BigInt(b);
    this.#sum = (this.#sum + v) & ((1n << 128n) - 1n);
    this.#xor ^= v;
    this.#count++;
  }

  /** 32 lowercase hex characters. */
  finish(pageCount: PageCount): string {
    const out = new Uint8Array(40);
    const view = new DataView(out.buffer);
    view.setUint32(0, pageCount, false);
    view.setUint32(4, this.#count, false);
    for (let i = 0; i < 16; i++) {
      out[8 + i] = Number((this.#sum >> BigInt(8 * (15 - i))) & 0xffn);
      out[24 + i] = Number((this.#xor >> BigInt(8 * (15 - i))) & 0xffn);
    }
    return Array.from(blake3(out, { dkLen: 16 }), (b) => b.toString(16).padStart(2, '0')).join('');
  }
}
