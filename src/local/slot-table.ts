import { assert, corrupt, PageSet, SegmentId, type ByteReader, type ByteWriter, type PageIdx } from '../core/index.ts';

/** A page held in a slot: which segment's page it is. */
export interface PageKey {
  readonly sid: SegmentId;
  readonly idx: PageIdx;
}

/**
 * The pages of one segment held in slots. Read from a checkpoint image they stay the image's two
 * sorted columns (page, slot), searched in place; the first change to the segment turns them into
 * a map. So an open does no work per page, and only segments changed since pay for a map.
 */
interface HeldSegment {
  readonly sid: SegmentId;
  /** This segment's number in the per-slot owner column (≥ 1; 0 there means free). */
  readonly ord: number;
  slots: Map<PageIdx, number> | undefined;
  image: ImageColumns | undefined;
}

/** One segment's columns of a checkpoint image: its pages ascending, their slots and their slots' CRCs. */
interface ImageColumns {
  readonly idxs: Uint32Array;
  readonly slots: Uint32Array;
  readonly crcs: Uint32Array;
}

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('Scion needs a little-endian platform (its checkpoint images are read as stored).');

/**
 * Which slot of the page file holds each (segment, page), the CRC-32C of each slot's bytes, and who
 * refers to each slot (a pushed page and the local page it came from share one). Per slot a CRC and
 * its first owner in typed arrays; only slots with several owners get an object. `toImage` writes
 * it as those columns, and `fromImage` takes them back as they are.
 */
export class SlotTable {
  readonly #segments = new Map<SegmentId, HeldSegment>();
  /** Segment by `ord`; index 0 unused. */
  #byOrd: (HeldSegment | undefined)[] = [undefined];
  #crcs = new Uint32Array(0);
  /** Per slot: the `ord` of its first owner's segment, or 0 when the slot is free. */
  #ownerSeg = new Uint32Array(0);
  #ownerIdx = new Uint32Array(0);
  /** Owners after the first, of the few slots shared by several pages. */
  readonly #sharers = new Map<number, PageKey[]>();
  #slotCount = 0;
  #usedSlots = 0;
  #pageKeys = 0;
  /**
   * Read from an image and the per-slot columns not filled yet: an open reads pages by (segment,
   * page) from the image's own columns, and the first use by slot (a write, compaction, stats) fills them.
   */
  #unfilled = false;

  /** Slots up to the last one in use (free ones inside included). */
  get slotCount(): number {
    return this.#slotCount;
  }

  get usedSlots(): number {
    this.#fill();
    return this.#usedSlots;
  }

  /** Pages held, counted by (segment, page). */
  get pageKeys(): number {
    return this.#pageKeys;
  }

  slotOf(sid: SegmentId, idx: PageIdx): number | undefined {
    const held = this.#segments.get(sid);
    if (!held) return undefined;
    if (held.slots) return held.slots.get(idx);
    const image = held.image as ImageColumns;
    const at = positionIn(image.idxs, idx);
    return at === undefined ? undefined : image.slots[at] as number;
  }

  /** The CRC-32C of the bytes a slot in use holds. */
  crcOf(slot: number): number {
    this.#fill();
    return this.#crcs[slot] as number;
  }

  /** The CRC-32C of the slot holding page `idx` of `sid` (held: `slotOf` found it). */
  pageCrcOf(sid: SegmentId, idx: PageIdx): number {
    const image = this.#segments.get(sid)?.image;
    if (!image) return this.crcOf(this.slotOf(sid, idx) as number);
    return image.crcs[positionIn(image.idxs, idx) as number] as number;
  }

  /** The pages of `sid` held, ascending, or undefined if none. */
  pagesOf(sid: SegmentId): PageSet | undefined {
    const held = this.#segments.get(sid);
    return held && pageSetOf(held);
  }

  /** Every segment with pages held, and those pages. */
  *segments(): Generator<[SegmentId, PageSet]> {
    for (const [sid, held] of this.#segments) yield [sid, pageSetOf(held)];
  }

  isUsed(slot: number): boolean {
    this.#fill();
    return slot < this.#slotCount && this.#ownerSeg[slot] !== 0;
  }

  /** The pages that refer to a slot (none when it is free). */
  ownersOf(slot: number): PageKey[] {
    this.#fill();
    const first = slot < this.#slotCount ? this.#byOrd[this.#ownerSeg[slot] as number] : undefined;
    if (!first) return [];
    return [{ sid: first.sid, idx: this.#ownerIdx[slot] as PageIdx }, ...(this.#sharers.get(slot) ?? [])];
  }

  /** Holds page `idx` of `sid` in `slot` (whose bytes have checksum `crc`); a page held elsewhere before is forgotten first. Returns a slot that became free. */
  place(sid: SegmentId, idx: PageIdx, slot: number, crc: number): number | undefined {
    this.#fill();
    let freed: number | undefined;
    if (this.slotOf(sid, idx) !== undefined) freed = this.forget(sid, idx);
    let held = this.#segments.get(sid); // gone if that was its last page
    if (!held) {
      held = { sid, ord: this.#byOrd.length, slots: new Map(), image: undefined };
      this.#byOrd.push(held);
      this.#segments.set(sid, held);
    }
    mapOf(held).set(idx, slot);
    this.#pageKeys++;
    if (this.isUsed(slot)) {
      const more = this.#sharers.get(slot);
      if (more) more.push({ sid, idx });
      else this.#sharers.set(slot, [{ sid, idx }]);
    } else {
      this.#reserve(slot + 1);
      this.#ownerSeg[slot] = held.ord;
      this.#ownerIdx[slot] = idx;
      this.#crcs[slot] = crc;
      this.#usedSlots++;
      if (slot >= this.#slotCount) this.#slotCount = slot + 1;
    }
    return freed === slot ? undefined : freed;
  }

  /** Forgets page `idx` of `sid`; returns its slot if no page refers to it any more. */
  forget(sid: SegmentId, idx: PageIdx): number | undefined {
    this.#fill();
    const held = this.#segments.get(sid);
    const slot = this.slotOf(sid, idx);
    if (!held || slot === undefined) return undefined;
    const slots = mapOf(held);
    slots.delete(idx);
    if (slots.size === 0) {
      this.#segments.delete(sid);
      this.#byOrd[held.ord] = undefined;
    }
    this.#pageKeys--;
    const more = this.#sharers.get(slot);
    if (this.#ownerSeg[slot] === held.ord && this.#ownerIdx[slot] === idx) {
      const next = more?.shift();
      if (next) {
        this.#ownerSeg[slot] = (this.#segments.get(next.sid) as HeldSegment).ord;
        this.#ownerIdx[slot] = next.idx;
        if (more?.length === 0) this.#sharers.delete(slot);
        return undefined;
      }
      this.#ownerSeg[slot] = 0;
      this.#usedSlots--;
      return slot;
    }
    const left = (more ?? []).filter((o) => o.sid !== sid || o.idx !== idx);
    if (left.length > 0) this.#sharers.set(slot, left);
    else this.#sharers.delete(slot);
    return undefined;
  }

  /** Points every owner of slot `from` (in use) at slot `to` (free), whose bytes are now a copy. */
  move(from: number, to: number): void {
    this.#fill();
    const owners = this.ownersOf(from);
    assert(owners.length > 0 && !this.isUsed(to), `moving slot ${from} to ${to}`);
    for (const { sid, idx } of owners) mapOf(this.#segments.get(sid) as HeldSegment).set(idx, to);
    this.#reserve(to + 1);
    this.#ownerSeg[to] = this.#ownerSeg[from] as number;
    this.#ownerIdx[to] = this.#ownerIdx[from] as number;
    this.#crcs[to] = this.#crcs[from] as number;
    const more = this.#sharers.get(from);
    if (more) {
      this.#sharers.set(to, more);
      this.#sharers.delete(from);
    }
    this.#ownerSeg[from] = 0;
    if (to >= this.#slotCount) this.#slotCount = to + 1;
  }

  /** Moves the end of the slots down past free ones; returns whether it moved. */
  trimSlotCount(): boolean {
    if (this.#unfilled) return false; // an image's slot count ends at its last slot in use
    this.#fill();
    let count = this.#slotCount;
    while (count > 0 && this.#ownerSeg[count - 1] === 0) count--;
    if (count === this.#slotCount) return false;
    this.#slotCount = count;
    return true;
  }

  clear(): void {
    this.#segments.clear();
    this.#sharers.clear();
    this.#byOrd = [undefined];
    this.#crcs = new Uint32Array(0);
    this.#ownerSeg = new Uint32Array(0);
    this.#ownerIdx = new Uint32Array(0);
    this.#slotCount = this.#usedSlots = this.#pageKeys = 0;
    this.#unfilled = false;
  }

  /**
   * The table as columns of u32: segment count and page count; each segment's id and page count;
   * then per page, segment by segment in ascending page order, its page, its slot and its slot's CRC.
   * O(pages held), free slots cost nothing.
   */
  writeImage(w: ByteWriter): void {
    this.#fill();
    const segments = [...this.#segments.values()];
    w.u32(segments.length).u32(this.#pageKeys);
    for (const held of segments) w.bytes(SegmentId.toBytes(held.sid)).u32(pageCountOf(held));
    const columns = segments.map(columnsOf);
    for (const { idxs } of columns) writeColumn(w, idxs);
    for (const { slots } of columns) writeColumn(w, slots);
    for (const { slots } of columns) writeColumn(w, slots.map((slot) => this.#crcs[slot] as number));
  }

  /**
   * A table read from `writeImage`'s bytes: its columns are copied as stored and each segment searches
   * its own in place. Checks each segment's pages are in order (the search needs it) and finds the
   * slot count; the per-slot columns are filled at their first use. Throws Corrupt if they do not fit.
   */
  static readImage(r: ByteReader): SlotTable {
    const [segmentCount, pageKeys] = [r.u32(), r.u32()];
    const t = new SlotTable();
    const counts = new Uint32Array(segmentCount);
    let total = 0;
    for (let i = 0; i < segmentCount; i++) {
      const sid = SegmentId.fromBytes(r.bytes(16));
      total += counts[i] = r.u32();
      const held: HeldSegment = { sid, ord: i + 1, slots: undefined, image: undefined };
      t.#byOrd.push(held);
      t.#segments.set(sid, held);
    }
    if (total !== pageKeys || t.#segments.size !== segmentCount) throw corrupt(`a page table image counts ${pageKeys} pages in ${segmentCount} distinct segments, but they hold ${total}`);
    const idxs = readColumn(r, total);
    const slots = readColumn(r, total);
    const crcs = readColumn(r, total);
    let slotCount = 0;
    for (let ord = 1, at = 0; ord <= segmentCount; ord++) {
      const held = t.#byOrd[ord] as HeldSegment;
      const end = at + (counts[ord - 1] as number);
      held.image = { idxs: idxs.subarray(at, end), slots: slots.subarray(at, end), crcs: crcs.subarray(at, end) };
      let previous = 0;
      for (let i = at; i < end; i++) {
        const idx = idxs[i] as number;
        if (idx <= previous) throw corrupt(`a page table image lists the pages of segment ${held.sid} out of order`);
        previous = idx;
        const slot = slots[i] as number;
        if (slot >= slotCount) slotCount = slot + 1;
      }
      at = end;
    }
    t.#slotCount = slotCount;
    t.#pageKeys = pageKeys;
    t.#unfilled = total > 0;
    return t;
  }

  /**
   * Fills the per-slot columns from the image's segments (every segment still has its image: any
   * change fills first). All or nothing: a slot given two CRCs throws Corrupt and leaves the table
   * as it was, so every later use by slot reports it again.
   */
  #fill(): void {
    if (!this.#unfilled) return;
    const size = Math.max(this.#slotCount, 1024);
    const ownerSeg = new Uint32Array(size);
    const ownerIdx = new Uint32Array(size);
    const slotCrcs = new Uint32Array(size);
    const sharers = new Map<number, PageKey[]>();
    let used = 0;
    // Once per page held, on code V8 has not optimised yet: one pass, locals rather than fields.
    for (let ord = 1; ord < this.#byOrd.length; ord++) {
      const held = this.#byOrd[ord];
      if (!held?.image) continue;
      const { idxs, slots, crcs } = held.image;
      for (let i = 0; i < idxs.length; i++) {
        const slot = slots[i] as number;
        if (ownerSeg[slot] === 0) {
          ownerSeg[slot] = ord;
          ownerIdx[slot] = idxs[i] as number;
          slotCrcs[slot] = crcs[i] as number;
          used++;
        } else {
          if (slotCrcs[slot] !== crcs[i]) throw corrupt(`a page table image gives slot ${slot} two different CRCs`);
          const key = { sid: held.sid, idx: idxs[i] as PageIdx };
          const more = sharers.get(slot);
          if (more) more.push(key);
          else sharers.set(slot, [key]);
        }
      }
    }
    [this.#ownerSeg, this.#ownerIdx, this.#crcs] = [ownerSeg, ownerIdx, slotCrcs];
    for (const [slot, keys] of sharers) this.#sharers.set(slot, keys);
    this.#usedSlots = used;
    this.#unfilled = false;
  }

  #reserve(slots: number): void {
    if (this.#crcs.length >= slots) return;
    const size = Math.max(slots, 2 * this.#crcs.length, 1024);
    this.#crcs = grow(this.#crcs, size);
    this.#ownerSeg = grow(this.#ownerSeg, size);
    this.#ownerIdx = grow(this.#ownerIdx, size);
  }
}

function grow(column: Uint32Array, size: number): Uint32Array<ArrayBuffer> {
  const out = new Uint32Array(size);
  out.set(column.subarray(0, Math.min(column.length, size)));
  return out;
}

/** Where `idx` is in the ascending column `idxs`, or undefined. */
function positionIn(idxs: Uint32Array, idx: number): number | undefined {
  let lo = 0;
  let hi = idxs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = idxs[mid] as number;
    if (at === idx) return mid;
    if (at < idx) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** The segment's pages as a map, built from its image columns at its first change. */
function mapOf(held: HeldSegment): Map<PageIdx, number> {
  if (held.slots) return held.slots;
  const { idxs, slots } = held.image as ImageColumns;
  const map = new Map<PageIdx, number>();
  for (let i = 0; i < idxs.length; i++) map.set(idxs[i] as PageIdx, slots[i] as number);
  held.slots = map;
  held.image = undefined;
  return map;
}

function pageCountOf(held: HeldSegment): number {
  return held.slots ? held.slots.size : (held.image as ImageColumns).idxs.length;
}

function pageSetOf(held: HeldSegment): PageSet {
  return held.slots ? PageSet.of(held.slots.keys()) : PageSet.of((held.image as ImageColumns).idxs);
}

/** The segment's (page, slot) columns in ascending page order. */
function columnsOf(held: HeldSegment): { idxs: Uint32Array; slots: Uint32Array } {
  if (held.image) return held.image;
  const map = held.slots as Map<PageIdx, number>;
  const idxs = Uint32Array.from(map.keys()).sort();
  const slots = new Uint32Array(idxs.length);
  for (let i = 0; i < idxs.length; i++) slots[i] = map.get(idxs[i] as PageIdx) as number;
  return { idxs, slots };
}

function writeColumn(w: ByteWriter, column: Uint32Array): void {
  w.bytes(new Uint8Array(column.buffer, column.byteOffset, column.byteLength));
}

/** `n` u32 values copied into a column of their own (the record's bytes need not stay alive or aligned). */
function readColumn(r: ByteReader, n: number): Uint32Array<ArrayBuffer> {
  if (4 * n > r.remaining) throw corrupt(`a page table image claims a column of ${n} values, ${r.remaining} bytes left`);
  const column = new Uint32Array(n);
  new Uint8Array(column.buffer).set(r.bytes(4 * n));
  return column;
}
