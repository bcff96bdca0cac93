import type { Page, PageIdx } from '../../core/index.ts';

/**
 * Reads one page of `ascending` at a time, fetched with the `window - 1` pages after it in one `read`
 * and kept until a page outside them is asked for: a reader going through the pages in order (the
 * frame planner) makes one store read per window, not one per page, and holds one window at most.
 */
export function windowedReader(ascending: readonly PageIdx[], window: number, read: (idxs: readonly PageIdx[]) => ReadonlyMap<PageIdx, Page>): (idx: PageIdx) => Page {
  let held: ReadonlyMap<PageIdx, Page> = new Map();
  return (idx) => {
    const page = held.get(idx);
    if (page) return page;
    const at = lowerBound(ascending, idx);
    if (ascending[at] !== idx) return read([idx]).get(idx) as Page;
    held = read(ascending.slice(at, at + window));
    return held.get(idx) as Page;
  };
}

/** The first position in `ascending` whose value is ≥ `idx`. */
function lowerBound(ascending: readonly PageIdx[], idx: PageIdx): number {
  let lo = 0;
  let hi = ascending.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ascending[mid] as PageIdx) < idx) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
