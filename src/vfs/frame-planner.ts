import { FRAME_MAX_PAGES, type Page, type PageIdx } from '../core/index.ts';
import { chunkFrames, type FramePlan, type PageLookup } from '../runtime/index.ts';
import { interiorChildren, leafOverflowHeads, nextOverflowPage, schemaRootPages, usableSize } from './btree-page.ts';
import { isInteriorPage } from './header.ts';

/**
 * Pages per frame outside the hot ones. A miss fetches a whole frame (it is compressed and hashed
 * whole), so small frames keep scattered reads near the pages they touch; a scan still reads many
 * of them in one request, because adjacent frames are adjacent bytes of the segment.
 */
export const LEAF_FRAME_PAGES = 8;
/** A leaf and its rows' overflow pages stay in one frame up to this many pages. */
const UNIT_MAX_PAGES = 16;

/**
 * Frames for a push of SQLite pages: the schema, every root page and every B-tree interior page first
 * (the hot frames a cold reader fetches in one request before it opens the database), then the rest
 * in page order in small frames, each leaf together with the overflow pages of its cells, so a row
 * is read in one request.
 */
export function planSqliteFrames(pages: PageLookup): FramePlan {
  const usable = usableSize(pages.get(1 as PageIdx));
  const schema = schemaPages(pages, usable);
  const ordered = [...pages.keys()].sort((a, b) => a - b);
  const hot: PageIdx[] = [];
  const rest: PageIdx[] = [];
  // Each page is read once, in order: what placing the rest needs of it is kept, never the page.
  const links = new PageLinks(ordered.at(-1) ?? 0);
  for (const idx of ordered) {
    const page = pages.get(idx) as Page;
    if (schema.has(idx) || isInteriorPage(idx, page)) {
      hot.push(idx);
      continue;
    }
    rest.push(idx);
    links.record(idx, page, usable);
  }
  const hotFrames = chunkFrames(hot);
  return { frames: [...hotFrames, ...packUnits(leafUnits(links, rest))], hotFrames: hotFrames.length };
}

/** Of each page outside the hot ones: the overflow pages its cells start, and the page its first 4 bytes name (an overflow page's next). */
class PageLinks {
  readonly #heads = new Map<PageIdx, number[]>();
  readonly #next: Uint32Array;

  constructor(maxIdx: number) {
    this.#next = new Uint32Array(maxIdx + 1);
  }

  record(idx: PageIdx, page: Page, usable: number): void {
    const heads = leafOverflowHeads(idx, page, usable);
    if (heads.length > 0) this.#heads.set(idx, heads);
    this.#next[idx] = nextOverflowPage(page);
  }

  headsOf(idx: PageIdx): readonly number[] {
    return this.#heads.get(idx) ?? [];
  }

  nextOf(idx: PageIdx): number {
    return this.#next[idx] ?? 0;
  }
}

/**
 * The sqlite_schema B-tree (rooted at page 1) among the pushed pages, with its rows' overflow pages,
 * and the root page of every table and index it names: an open reads the schema (and sqlite_stat1),
 * a first query of a table its root, and a small table is nothing but its root.
 */
function schemaPages(pages: PageLookup, usable: number): Set<PageIdx> {
  const found = new Set<PageIdx>();
  const roots: number[] = [];
  const visit = (idx: PageIdx): void => {
    const page = pages.get(idx);
    if (!page || found.has(idx)) return;
    found.add(idx);
    for (const child of interiorChildren(idx, page)) visit(child as PageIdx);
    roots.push(...schemaRootPages(idx, page, usable));
    const links = { headsOf: () => leafOverflowHeads(idx, page, usable), nextOf: (p: PageIdx) => nextOverflowPage(pages.get(p) as Page) };
    for (const o of overflowPages(links, idx, (p) => pages.has(p) && !found.has(p))) found.add(o);
  };
  visit(1 as PageIdx);
  for (const root of roots) if (pages.has(root as PageIdx)) found.add(root as PageIdx);
  return found;
}

/**
 * The overflow pages the cells of leaf `leaf` start, chain by chain, as far as `take` accepts them
 * (a page already placed, one not pushed, or a cycle ends a chain).
 */
function overflowPages(links: Pick<PageLinks, 'headsOf' | 'nextOf'>, leaf: PageIdx, take: (idx: PageIdx) => boolean): PageIdx[] {
  const chain: PageIdx[] = [];
  const seen = new Set<PageIdx>([leaf]);
  for (const head of links.headsOf(leaf)) {
    for (let idx = head as PageIdx; !seen.has(idx) && take(idx); idx = links.nextOf(idx) as PageIdx) {
      seen.add(idx);
      chain.push(idx);
    }
  }
  return chain;
}

/** `rest` in page order as units: a leaf with the overflow pages its cells start, or a page alone. */
function leafUnits(links: PageLinks, rest: readonly PageIdx[]): PageIdx[][] {
  const isRest = new Set(rest);
  const owned = new Map<PageIdx, PageIdx[]>();
  const claimed = new Set<PageIdx>();
  for (const leaf of rest) {
    if (claimed.has(leaf)) continue;
    const chain = overflowPages(links, leaf, (idx) => isRest.has(idx) && !claimed.has(idx));
    for (const idx of chain) claimed.add(idx);
    if (chain.length > 0) owned.set(leaf, chain);
  }
  return rest.filter((idx) => !claimed.has(idx)).map((idx) => [idx, ...(owned.get(idx) ?? [])]);
}

/** Packs units into frames of LEAF_FRAME_PAGES (up to UNIT_MAX_PAGES for one unit), never splitting one that fits. */
function packUnits(units: readonly PageIdx[][]): PageIdx[][] {
  const frames: PageIdx[][] = [];
  let current: PageIdx[] = [];
  const flush = () => {
    if (current.length > 0) frames.push(current);
    current = [];
  };
  for (const unit of units) {
    if (current.length + unit.length > LEAF_FRAME_PAGES) flush();
    if (unit.length <= UNIT_MAX_PAGES) {
      current.push(...unit);
      continue;
    }
    for (let i = 0; i < unit.length; i += FRAME_MAX_PAGES) {
      flush();
      current = unit.slice(i, i + FRAME_MAX_PAGES);
    }
  }
  flush();
  return frames;
}
