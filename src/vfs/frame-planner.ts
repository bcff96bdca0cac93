import type { Page, PageIdx } from '../core/index.ts';
import { chunkFrames, type FramePlan } from '../runtime/index.ts';
import { isInteriorPage } from './header.ts';

/**
 * Frames for a push of SQLite pages: page 1 and every B-tree interior page first (the hot frames a
 * cold reader fetches in one request before its first lookup), then the rest in page order.
 */
export function planSqliteFrames(pages: ReadonlyMap<PageIdx, Page>): FramePlan {
  const hot: PageIdx[] = [];
  const rest: PageIdx[] = [];
  for (const idx of [...pages.keys()].sort((a, b) => a - b)) {
    if (idx === 1 || isInteriorPage(idx, pages.get(idx) as Page)) hot.push(idx);
    else rest.push(idx);
  }
  const hotFrames = chunkFrames(hot);
  return { frames: [...hotFrames, ...chunkFrames(rest)], hotFrames: hotFrames.length };
}
