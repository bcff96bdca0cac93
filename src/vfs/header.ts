import type { Page } from '../core/index.ts';

/*
 * SQLite's database header lives in page 1. Two facts matter to the VFS:
 * - The pager keeps its page cache across transactions only while bytes 24..39 ("file change
 *   counter" and friends) read back unchanged (see HeaderCounter).
 * - B-tree pages start with a type byte (offset 100 on page 1): 0x02 / 0x05 are interior pages.
 */
export const CHANGE_COUNTER_OFFSET = 24;
export const VERSION_VALID_FOR_OFFSET = 92;

/** Whether a page is a B-tree interior page (index or table): the pages every lookup walks. */
export function isInteriorPage(pageIdx: number, page: Page): boolean {
  const type = page[pageIdx === 1 ? 100 : 0];
  return type === 0x02 || type === 0x05;
}

