import { assert, type PageIdx, type SegmentId } from '../core/index.ts';

/** A page held in a slot: which segment's page it is. */
export interface PageKey {
  readonly sid: SegmentId;
  readonly idx: PageIdx;
}

/** The pages of one segment held in slots: page → slot. */
interface HeldSegment {
  readonly sid: SegmentId;
  readonly slots: Map<PageIdx, number>;
}

/**
 * Which slot of the page file holds each (segment, page), the CRC-32C of each slot's bytes, and who
 * refers to each slot (a pushed page and the local page it came from share one). A store rebuilds it
 * at every open from its journal, so it is kept flat: per page one map entry, per slot a CRC and its
 * first owner in typed arrays; only slots with several owners get an object.
 */
export class SlotTable {
  readonly #segments = new Map<SegmentId, HeldSegment>();
  #crcs = new Uint32Array(0);
  /** Per slot: the segment of its first owner, or undefined when the slot is free. */
  #owner: (HeldSegment | undefined)[] = [];
  #ownerIdx = new Uint32Array(0);
  /** Owners after the first, of the few slots shared by several pages. */
  readonly #sharers = new Map<number, PageKey[]>();
  #slotCount = 0;
  #usedSlots = 0;
  #pageKeys = 0;

  /** Slots up to the last one in use (free ones inside included). */
  get slotCount(): number {
    return this.#slotCount;
  }

  get usedSlots(): number {
    return this.#usedSlots;
  }

  /** Pages held, counted by (segment, page). */
  get pageKeys(): number {
    return this.#pageKeys;
  }

  slotOf(sid: SegmentId, idx: PageIdx): number | undefined {
    return this.#segments.get(sid)?.slots.get(idx);
  }

  /** The CRC-32C of the bytes a slot in use holds. */
  crcOf(slot: number): number {
    return this.#crcs[slot] as number;
  }

  /** The pages of `sid` held, page → slot. */
  segment(sid: SegmentId): ReadonlyMap<PageIdx, number> | undefined {
    return this.#segments.get(sid)?.slots;
  }

  /** Every segment with pages held, and its pages (page → slot). */
  *segments(): Generator<[SegmentId, ReadonlyMap<PageIdx, number>]> {
    for (const [sid, held] of this.#segments) yield [sid, held.slots];
  }

  isUsed(slot: number): boolean {
    return slot < this.#slotCount && this.#owner[slot] !== undefined;
  }

  /** The pages that refer to a slot (none when it is free). */
  ownersOf(slot: number): PageKey[] {
    const first = this.#owner[slot];
    if (!first) return [];
    return [{ sid: first.sid, idx: this.#ownerIdx[slot] as PageIdx }, ...(this.#sharers.get(slot) ?? [])];
  }

  /** Holds page `idx` of `sid` in `slot` (whose bytes have checksum `crc`); a page held elsewhere before is forgotten first. Returns a slot that became free. */
  place(sid: SegmentId, idx: PageIdx, slot: number, crc: number): number | undefined {
    let held = this.#segments.get(sid);
    let freed: number | undefined;
    if (held?.slots.has(idx)) {
      freed = this.forget(sid, idx);
      held = this.#segments.get(sid); // gone if that was its last page
    }
    if (!held) this.#segments.set(sid, (held = { sid, slots: new Map() }));
    held.slots.set(idx, slot);
    this.#pageKeys++;
    if (this.#owner[slot] !== undefined) {
      const more = this.#sharers.get(slot);
      if (more) more.push({ sid, idx });
      else this.#sharers.set(slot, [{ sid, idx }]);
    } else {
      this.#reserve(slot + 1);
      this.#owner[slot] = held;
      this.#ownerIdx[slot] = idx;
      this.#crcs[slot] = crc;
      this.#usedSlots++;
      if (slot >= this.#slotCount) this.#slotCount = slot + 1;
    }
    return freed === slot ? undefined : freed;
  }

  /** Forgets page `idx` of `sid`; returns its slot if no page refers to it any more. */
  forget(sid: SegmentId, idx: PageIdx): number | undefined {
    const held = this.#segments.get(sid);
    const slot = held?.slots.get(idx);
    if (!held || slot === undefined) return undefined;
    held.slots.delete(idx);
    if (held.slots.size === 0) this.#segments.delete(sid);
    this.#pageKeys--;
    const more = this.#sharers.get(slot);
    if (this.#owner[slot] === held && this.#ownerIdx[slot] === idx) {
      const next = more?.shift();
      if (next) {
        this.#owner[slot] = this.#segments.get(next.sid) as HeldSegment;
        this.#ownerIdx[slot] = next.idx;
        if (more?.length === 0) this.#sharers.delete(slot);
        return undefined;
      }
      this.#owner[slot] = undefined;
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
    const owners = this.ownersOf(from);
    assert(owners.length > 0 && !this.isUsed(to), `moving slot ${from} to ${to}`);
    for (const { sid, idx } of owners) this.#segments.get(sid)?.slots.set(idx, to);
    this.#reserve(to + 1);
    this.#owner[to] = this.#owner[from];
    this.#ownerIdx[to] = this.#ownerIdx[from] as number;
    this.#crcs[to] = this.#crcs[from] as number;
    const more = this.#sharers.get(from);
    if (more) {
      this.#sharers.set(to, more);
      this.#sharers.delete(from);
    }
    this.#owner[from] = undefined;
    if (to >= this.#slotCount) this.#slotCount = to + 1;
  }

  /** Moves the end of the slots down past free ones; returns whether it moved. */
  trimSlotCount(): boolean {
    let count = this.#slotCount;
    while (count > 0 && this.#owner[count - 1] === undefined) count--;
    if (count === this.#slotCount) return false;
    this.#slotCount = count;
    this.#owner.length = count;
    return true;
  }

  clear(): void {
    this.#segments.clear();
    this.#sharers.clear();
    this.#owner = [];
    this.#crcs = new Uint32Array(0);
    this.#ownerIdx = new Uint32Array(0);
    this.#slotCount = this.#usedSlots = this.#pageKeys = 0;
  }

  #reserve(slots: number): void {
    while (this.#owner.length < slots) this.#owner.push(undefined);
    if (this.#crcs.length >= slots) return;
    const size = Math.max(slots, 2 * this.#crcs.length, 1024);
    const crcs = new Uint32Array(size);
    crcs.set(this.#crcs);
    this.#crcs = crcs;
    const idxs = new Uint32Array(size);
    idxs.set(this.#ownerIdx);
    this.#ownerIdx = idxs;
  }
}
