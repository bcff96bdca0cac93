import type { Page } from '../core/index.ts';

/*
 * Just enough of SQLite's B-tree page and record formats (its file format document) to find the
 * schema's root pages and the overflow pages of each cell of a leaf page. The frame planner uses it to
 * place pages; it only steers placement, so a page it misreads costs bytes, never data.
 */

const TABLE_LEAF = 0x0d;
const INDEX_LEAF = 0x0a;
const TABLE_INTERIOR = 0x05;
const INDEX_INTERIOR = 0x02;

/** The usable bytes of a page (page size minus the reserved bytes that page 1's header declares at offset 20). */
export function usableSize(page1: Page | undefined): number {
  return page1 ? page1.byteLength - (page1[20] as number) : 4096;
}

/** A cell of a leaf page: where its payload starts, how much of it is on the page, its first overflow page (0: none). */
interface LeafCell {
  readonly payloadAt: number;
  readonly local: number;
  readonly overflow: number;
}

/** The cells of a table or index leaf page, in order; none for any other page, and only those that parse. */
function leafCells(pageIdx: number, page: Page, usable: number): LeafCell[] {
  const h = pageIdx === 1 ? 100 : 0;
  const type = page[h];
  if (type !== TABLE_LEAF && type !== INDEX_LEAF) return [];
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const count = view.getUint16(h + 3);
  // Largest payload kept on the page, and the smallest part kept when it spills.
  const maxLocal = type === TABLE_LEAF ? usable - 35 : Math.floor(((usable - 12) * 64) / 255) - 23;
  const minLocal = Math.floor(((usable - 12) * 32) / 255) - 23;
  const cells: LeafCell[] = [];
  for (let i = 0; i < count; i++) {
    const ptr = h + 8 + 2 * i;
    if (ptr + 2 > usable) break;
    let at = view.getUint16(ptr);
    const payload = readVarint(page, at);
    if (!payload) break;
    at += payload.length;
    if (type === TABLE_LEAF) {
      const rowid = readVarint(page, at);
      if (!rowid) break;
      at += rowid.length;
    }
    if (payload.value <= maxLocal) {
      if (at + payload.value > usable) break;
      cells.push({ payloadAt: at, local: payload.value, overflow: 0 });
      continue;
    }
    const spill = minLocal + ((payload.value - minLocal) % (usable - 4));
    const local = spill <= maxLocal ? spill : minLocal;
    if (at + local + 4 > usable) break;
    cells.push({ payloadAt: at, local, overflow: view.getUint32(at + local) });
  }
  return cells;
}

/** First overflow page of each cell of a table or index leaf page that spills, in cell order. */
export function leafOverflowHeads(pageIdx: number, page: Page, usable: number): number[] {
  return leafCells(pageIdx, page, usable).flatMap((c) => (c.overflow ? [c.overflow] : []));
}

/**
 * Root pages named by the rows of a sqlite_schema leaf page (its 4th column, `rootpage`), where the
 * row's record header and that column are on the page.
 */
export function schemaRootPages(pageIdx: number, page: Page, usable: number): number[] {
  const roots: number[] = [];
  for (const cell of leafCells(pageIdx, page, usable)) {
    const end = cell.payloadAt + cell.local;
    const header = readVarint(page, cell.payloadAt);
    if (!header) continue;
    let at = cell.payloadAt + header.length;
    let body = cell.payloadAt + header.value;
    for (let col = 0; col < 4 && at < cell.payloadAt + header.value; col++) {
      const type = readVarint(page, at);
      if (!type) break;
      at += type.length;
      const size = serialTypeSize(type.value);
      if (col === 3 && type.value >= 1 && type.value <= 4 && body + size <= end) roots.push(readInt(page, body, size));
      body += size;
    }
  }
  return roots;
}

const INT_SIZES = [0, 1, 2, 3, 4, 6, 8, 8, 0, 0];

function serialTypeSize(t: number): number {
  return t < 10 ? (INT_SIZES[t] as number) : t >= 12 ? Math.floor((t - 12) / 2) : 0;
}

function readInt(page: Page, at: number, size: number): number {
  let v = 0;
  for (let i = 0; i < size; i++) v = v * 256 + (page[at + i] as number);
  return v;
}

/** Child pages of a table or index interior page (each cell's left child, then the right-most); empty for any other page. */
export function interiorChildren(pageIdx: number, page: Page): number[] {
  const h = pageIdx === 1 ? 100 : 0;
  const type = page[h];
  if (type !== TABLE_INTERIOR && type !== INDEX_INTERIOR) return [];
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const cells = view.getUint16(h + 3);
  const children: number[] = [];
  for (let i = 0; i < cells; i++) {
    const ptr = h + 12 + 2 * i;
    if (ptr + 2 > page.byteLength) return children;
    const at = view.getUint16(ptr);
    if (at + 4 > page.byteLength) return children;
    children.push(view.getUint32(at));
  }
  children.push(view.getUint32(h + 8));
  return children;
}

/** The next page of an overflow chain (its first 4 bytes), 0 at the end. */
export function nextOverflowPage(page: Page): number {
  return new DataView(page.buffer, page.byteOffset, page.byteLength).getUint32(0);
}

/** SQLite's big-endian varint (1–9 bytes); undefined past the page's end. Payload sizes fit in a double exactly. */
function readVarint(page: Page, at: number): { value: number; length: number } | undefined {
  let value = 0;
  for (let i = 0; i < 9; i++) {
    const byte = page[at + i];
    if (byte === undefined) return undefined;
    if (i === 8) return { value: value * 256 + byte, length: 9 };
    value = value * 128 + (byte & 0x7f);
    if (byte < 0x80) return { value, length: i + 1 };
  }
  return undefined;
}
