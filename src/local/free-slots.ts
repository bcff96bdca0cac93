/**
 * Free page slots, lowest first (a binary min-heap). Removal is lazy: the owner checks a popped
 * slot with `isFree` and skips stale entries, so freeing and trimming the file cost O(log n).
 */
export class FreeSlots {
  readonly #heap: number[] = [];

  push(slot: number): void {
    const h = this.#heap;
    h.push(slot);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as number) <= (h[i] as number)) break;
      [h[parent], h[i]] = [h[i] as number, h[parent] as number];
      i = parent;
    }
  }

  /** The lowest slot for which `isFree` holds, removed; undefined if none. */
  pop(isFree: (slot: number) => boolean): number | undefined {
    while (this.#heap.length > 0) {
      const top = this.#takeMin();
      if (isFree(top)) return top;
    }
    return undefined;
  }

  /** The lowest slot for which `isFree` holds, left in place. */
  peek(isFree: (slot: number) => boolean): number | undefined {
    while (this.#heap.length > 0) {
      const top = this.#heap[0] as number;
      if (isFree(top)) return top;
      this.#takeMin();
    }
    return undefined;
  }

  clear(): void {
    this.#heap.length = 0;
  }

  #takeMin(): number {
    const h = this.#heap;
    const top = h[0] as number;
    const last = h.pop() as number;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && (h[l] as number) < (h[m] as number)) m = l;
        if (r < h.length && (h[r] as number) < (h[m] as number)) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i] as number, h[m] as number];
        i = m;
      }
    }
    return top;
  }
}
