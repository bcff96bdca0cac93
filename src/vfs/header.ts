import { crc32c, type LSN, type Page, type VolumeId } from '../core/index.ts';

/*
 * SQLite's database header lives in page 1. Two facts matter to the VFS:
 * - The pager keeps its page cache across transactions only while bytes 24..39 ("file change
 *   counter" and friends) read back unchanged, so presenting a value derived from the snapshot makes
 *   SQLite drop its cache exactly when the snapshot changed under it (graft.md §11.3).
 * - B-tree pages start with a type byte (offset 100 on page 1): 0x02 / 0x05 are interior pages.
 */
export const CHANGE_COUNTER_OFFSET = 24;
export const VERSION_VALID_FOR_OFFSET = 92;

/** 4 bytes derived from a snapshot head: what SQLite reads as the change counter of that snapshot. */
export function snapshotCounter(head: { vid: VolumeId; lsn: LSN } | undefined): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, crc32c(new TextEncoder().encode(head ? `${head.vid}:${head.lsn}` : 'empty')), false);
  return out;
}

/** Overwrites the counter fields of page 1 that fall inside the read [offset, offset + dest.length). */
export function patchCounter(dest: Uint8Array, offset: number, counter: Uint8Array): void {
  for (const field of [CHANGE_COUNTER_OFFSET, VERSION_VALID_FOR_OFFSET]) {
    for (let i = 0; i < 4; i++) {
      const at = field + i - offset;
      if (at >= 0 && at < dest.byteLength) dest[at] = counter[i] as number;
    }
  }
}

/** Whether a page is a B-tree interior page (index or table): the pages every lookup walks. */
export function isInteriorPage(pageIdx: number, page: Page): boolean {
  const type = page[pageIdx === 1 ? 100 : 0];
  return type === 0x02 || type === 0x05;
}

/** The page size a database header declares (1 means 65536), or undefined for an empty file. */
export function headerPageSize(page1: Uint8Array): number | undefined {
  if (page1.byteLength < 18 || page1.every((b) => b === 0)) return undefined;
  const raw = (page1[16] as number) * 256 + (page1[17] as number);
  return raw === 1 ? 65536 : raw;
}

