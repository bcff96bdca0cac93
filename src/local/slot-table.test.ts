import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, PageIdx, PageSet, SegmentId } from '../core/index.ts';
import { SlotTable } from './slot-table.ts';

const A = SegmentId.random();
const B = SegmentId.random();
const C = SegmentId.random();
const p = (n: number): PageIdx => PageIdx.parse(n);

describe('SlotTable', () => {
  it('places pages, reports their slot and CRC, and frees a slot when its only page goes', () => {
    const t = new SlotTable();
    expect(t.place(A, p(1), 0, 11)).toBeUndefined();
    expect(t.place(A, p(2), 3, 22)).toBeUndefined();
    expect([t.slotOf(A, p(1)), t.crcOf(0), t.slotOf(A, p(2)), t.crcOf(3)]).toEqual([0, 11, 3, 22]);
    expect([t.slotCount, t.usedSlots, t.pageKeys]).toEqual([4, 2, 2]);
    expect([t.isUsed(0), t.isUsed(1), t.isUsed(3), t.isUsed(9)]).toEqual([true, false, true, false]);
    expect(t.forget(A, p(2))).toBe(3);
    expect(t.forget(A, p(2))).toBeUndefined(); // not held any more
    expect(t.trimSlotCount()).toBe(true);
    expect([t.slotCount, t.usedSlots, t.pageKeys]).toEqual([1, 1, 1]);
  });

  it('placing a held page again frees its old slot, not the new one', () => {
    const t = new SlotTable();
    t.place(A, p(1), 0, 11);
    expect(t.place(A, p(1), 5, 55)).toBe(0);
    expect([t.slotOf(A, p(1)), t.crcOf(5), t.usedSlots, t.pageKeys]).toEqual([5, 55, 1, 1]);
    // The same slot again: nothing is freed.
    expect(t.place(A, p(1), 5, 55)).toBeUndefined();
    expect([t.usedSlots, t.pageKeys, t.isUsed(5)]).toEqual([1, 1, true]);
  });

  it('a shared slot stays in use until its last owner goes, whichever goes first', () => {
    const t = new SlotTable();
    t.place(A, p(7), 2, 77);
    t.place(B, p(7), 2, 77);
    t.place(C, p(7), 2, 77);
    expect(t.ownersOf(2)).toEqual([{ sid: A, idx: 7 }, { sid: B, idx: 7 }, { sid: C, idx: 7 }]);
    expect([t.usedSlots, t.pageKeys]).toEqual([1, 3]);
    expect(t.forget(A, p(7))).toBeUndefined(); // the first owner: the next one takes its place
    expect(t.forget(C, p(7))).toBeUndefined(); // a later one
    expect(t.ownersOf(2)).toEqual([{ sid: B, idx: 7 }]);
    expect(t.forget(B, p(7))).toBe(2);
    expect([t.usedSlots, t.pageKeys, t.ownersOf(2)]).toEqual([0, 0, []]);
    expect([...t.segments()]).toEqual([]);
  });

  it('moves every owner of a slot, with its CRC, and the old slot becomes free', () => {
    const t = new SlotTable();
    t.place(A, p(1), 0, 10);
    t.place(A, p(2), 9, 90);
    t.place(B, p(2), 9, 90);
    t.forget(A, p(1));
    t.move(9, 0);
    expect([t.slotOf(A, p(2)), t.slotOf(B, p(2)), t.crcOf(0), t.isUsed(9), t.isUsed(0)]).toEqual([0, 0, 90, false, true]);
    expect(t.ownersOf(0)).toEqual([{ sid: A, idx: 2 }, { sid: B, idx: 2 }]);
    expect(t.trimSlotCount()).toBe(true);
    expect(t.slotCount).toBe(1);
    expect(() => t.move(5, 6)).toThrow(/moving slot 5 to 6/);
  });

  it('clear forgets everything', () => {
    const t = new SlotTable();
    for (let i = 0; i < 3000; i++) t.place(A, p(i + 1), i, i);
    expect([t.slotCount, t.usedSlots, t.crcOf(2999)]).toEqual([3000, 3000, 2999]);
    t.clear();
    expect([t.slotCount, t.usedSlots, t.pageKeys, t.slotOf(A, p(1))]).toEqual([0, 0, 0, undefined]);
  });

  it('an image reads back the same table: slots, CRCs, shared slots, free slots inside; changes after it work as before', () => {
    const t = new SlotTable();
    for (let i = 1; i <= 50; i++) t.place(A, p(i), i + 3, 1000 + i);
    t.place(B, p(2), 5, 1002); // shares A's page 2
    t.place(C, p(9), 0, 9);
    t.forget(A, p(10)); // slot 13 free inside
    const w = new ByteWriter(64);
    t.writeImage(w);
    const r = new ByteReader(w.finish(), 'test image');
    const u = SlotTable.readImage(r);
    r.end();
    expect([u.slotCount, u.usedSlots, u.pageKeys]).toEqual([t.slotCount, t.usedSlots, t.pageKeys]);
    for (let s = 0; s < t.slotCount; s++) {
      expect([u.isUsed(s), u.isUsed(s) ? u.crcOf(s) : 0]).toEqual([t.isUsed(s), t.isUsed(s) ? t.crcOf(s) : 0]);
      expect(new Set(u.ownersOf(s).map((o) => `${o.sid}/${o.idx}`))).toEqual(new Set(t.ownersOf(s).map((o) => `${o.sid}/${o.idx}`)));
    }
    expect([u.slotOf(A, p(1)), u.slotOf(A, p(10)), u.slotOf(A, p(50)), u.slotOf(A, p(51)), u.slotOf(B, p(2))]).toEqual([4, undefined, 53, undefined, 5]);
    expect(u.pagesOf(B)).toEqual(PageSet.of([2]));
    expect(u.forget(A, p(2))).toBeUndefined(); // B still refers to slot 5
    expect(u.forget(B, p(2))).toBe(5);
    u.move(53, 13);
    expect([u.slotOf(A, p(50)), u.crcOf(13), u.trimSlotCount(), u.slotCount]).toEqual([13, 1050, true, 53]);
  });

  it('an image of a few pages in far slots reads back (the slot columns grow past the pages)', () => {
    const t = new SlotTable();
    t.place(A, p(1), 5000, 1);
    t.place(A, p(2), 2, 2);
    t.place(B, p(7), 70_000, 7);
    const w = new ByteWriter(64);
    t.writeImage(w);
    const u = SlotTable.readImage(new ByteReader(w.finish(), 'test image'));
    expect([u.slotCount, u.usedSlots, u.pageKeys]).toEqual([70_001, 3, 3]);
    expect([u.crcOf(5000), u.crcOf(2), u.crcOf(70_000), u.isUsed(69_999)]).toEqual([1, 2, 7, false]);
    expect(u.ownersOf(70_000)).toEqual([{ sid: B, idx: p(7) }]);
  });

  it('an image listing the pages of a segment out of order is Corrupt', () => {
    const t = new SlotTable();
    t.place(A, p(1), 0, 1);
    t.place(A, p(2), 1, 2);
    const w = new ByteWriter(64);
    t.writeImage(w);
    const bytes = w.finish();
    const pagesAt = 8 + 20; // counts, then one segment's id and page count
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(pagesAt + 4, 1, true); // pages 1, 1
    expect(() => SlotTable.readImage(new ByteReader(bytes, 'test image'))).toThrow(/out of order/);
  });

  it('an image whose columns do not fit together is Corrupt', () => {
    const t = new SlotTable();
    t.place(A, p(1), 0, 1);
    const w = new ByteWriter(64);
    t.writeImage(w);
    const bytes = w.finish();
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(4, 2, true); // claims 2 pages, holds 1
    expect(() => SlotTable.readImage(new ByteReader(bytes, 'test image'))).toThrow(/counts 2 pages/);
  });

  it('read from an image, pages are found with their CRCs before any use by slot; a write fills the slot columns first', () => {
    const t = new SlotTable();
    for (let i = 1; i <= 20; i++) t.place(A, p(i), i - 1, 500 + i);
    t.place(B, p(3), 2, 503); // shares A's page 3
    const w = new ByteWriter(64);
    t.writeImage(w);
    const u = SlotTable.readImage(new ByteReader(w.finish(), 'test image'));
    expect([u.slotCount, u.pageKeys, u.slotOf(A, p(7)), u.pageCrcOf(A, p(7)), u.pageCrcOf(B, p(3))]).toEqual([20, 21, 6, 507, 503]);
    expect(u.trimSlotCount()).toBe(false); // the last slot is in use: nothing to trim, nothing to fill
    expect(u.place(C, p(1), 20, 9)).toBeUndefined(); // fills, then places
    expect([u.usedSlots, u.crcOf(6), u.pageCrcOf(C, p(1)), u.ownersOf(2).length]).toEqual([21, 507, 9, 2]);
    expect(u.forget(A, p(3))).toBeUndefined(); // B still refers to slot 2
    expect([u.pageCrcOf(A, p(4)), u.pageCrcOf(B, p(3)), u.forget(B, p(3))]).toEqual([504, 503, 2]);
  });

  it('an image giving a shared slot two CRCs reads its pages, and is Corrupt at every use by slot, changing nothing', () => {
    const t = new SlotTable();
    t.place(A, p(1), 0, 11);
    t.place(B, p(1), 0, 11);
    const w = new ByteWriter(64);
    t.writeImage(w);
    const bytes = w.finish();
    const crcsAt = 8 + 2 * 20 + 4 * 2 * 2; // counts, two segments, the page and slot columns
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(crcsAt + 4, 12, true); // B's page 1: CRC 12
    const u = SlotTable.readImage(new ByteReader(bytes, 'test image'));
    expect([u.slotOf(A, p(1)), u.pageCrcOf(A, p(1))]).toEqual([0, 11]);
    expect(() => u.place(C, p(1), 1, 1)).toThrow(/two different CRCs/);
    expect(() => u.usedSlots).toThrow(/two different CRCs/);
    expect([u.slotOf(C, p(1)), u.pageKeys, u.slotCount]).toEqual([undefined, 2, 1]);
  });
});
