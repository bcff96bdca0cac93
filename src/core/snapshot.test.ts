import { describe, expect, it } from 'vitest';
import { LSN } from './lsn.ts';
import { PageCount } from './page-idx.ts';
import { type LsnRange, Snapshot } from './snapshot.ts';
import { expectScionError, fakeSegmentId, fakeVolumeId } from './testing.ts';

const v1 = fakeVolumeId(1);
const v2 = fakeVolumeId(2);
const range = (vid: typeof v1, start: number, end: number): LsnRange => ({ vid, start: LSN.parse(start), end: LSN.parse(end) });
const snap = (pageCount: number, ...path: LsnRange[]): Snapshot => ({ pageCount: PageCount.parse(pageCount), path });

const forked = snap(12, range(v1, 3, 7), range(v2, 1, 2));
const throughJson = (s: unknown): unknown => JSON.parse(JSON.stringify(s));

describe('Snapshot', () => {
  it('EMPTY has no path, no pages and no head', () => {
    expect(Snapshot.isEmpty(Snapshot.EMPTY)).toBe(true);
    expect(Snapshot.EMPTY.pageCount).toBe(0);
    expect(Snapshot.head(Snapshot.EMPTY)).toBeUndefined();
    expect(Snapshot.format(Snapshot.EMPTY)).toBe('empty');
  });

  it('head is the end of the newest range', () => {
    expect(Snapshot.head(forked)).toEqual({ vid: v1, lsn: 7 });
    expect(Snapshot.isEmpty(forked)).toBe(false);
  });

  it('equals compares page count and every range', () => {
    expect(Snapshot.equals(forked, snap(12, range(v1, 3, 7), range(v2, 1, 2)))).toBe(true);
    expect(Snapshot.equals(Snapshot.EMPTY, snap(0))).toBe(true);
    for (const other of [
      snap(13, range(v1, 3, 7), range(v2, 1, 2)),
      snap(12, range(v1, 3, 7)),
      snap(12, range(v1, 3, 7), range(v2, 1, 2), range(v2, 1, 1)),
      snap(12, range(v2, 3, 7), range(v2, 1, 2)),
      snap(12, range(v1, 4, 7), range(v2, 1, 2)),
      snap(12, range(v1, 3, 8), range(v2, 1, 2)),
      snap(12, range(v2, 1, 2), range(v1, 3, 7)),
    ]) {
      expect(Snapshot.equals(forked, other)).toBe(false);
      expect(Snapshot.equals(other, forked)).toBe(false);
    }
  });

  it('formats the path newest first with short ids and the page count', () => {
    expect(Snapshot.format(forked)).toBe(`${v1.slice(0, 8)}…[3..=7] → ${v2.slice(0, 8)}…[1..=2] (12 pages)`);
  });

  it('parses a snapshot that went through JSON', () => {
    for (const s of [Snapshot.EMPTY, forked, snap(0, range(v1, 1, 1)), snap(2 ** 32 - 1, range(v1, 1, Number.MAX_SAFE_INTEGER))]) {
      const parsed = Snapshot.parse(throughJson(s));
      expect(Snapshot.equals(parsed, s)).toBe(true);
      expect(parsed).toEqual(s);
    }
  });

  it('drops unknown fields', () => {
    const parsed = Snapshot.parse({ pageCount: 1, path: [{ vid: v1, start: 1, end: 2, extra: true }], extra: 'x' });
    expect(parsed).toEqual(snap(1, range(v1, 1, 2)));
  });

  it('rejects values that are not snapshot-shaped', () => {
    for (const input of [
      null,
      undefined,
      42,
      'snapshot',
      [],
      {},
      { pageCount: 1 },
      { path: [] },
      { pageCount: '1', path: [] },
      { pageCount: 1, path: {} },
      { pageCount: 1, path: [null] },
      { pageCount: 1, path: [42] },
      { pageCount: 1, path: [{ start: 1, end: 1 }] },
      { pageCount: 1, path: [{ vid: v1, end: 1 }] },
      { pageCount: 1, path: [{ vid: v1, start: 1 }] },
    ]) {
      expectScionError(() => Snapshot.parse(input), 'InvalidInput');
    }
  });

  it('rejects a bad page count', () => {
    for (const pageCount of [-1, 1.5, NaN, 2 ** 32]) expectScionError(() => Snapshot.parse({ pageCount, path: [] }), 'InvalidInput');
  });

  it('rejects a zero, negative or fractional LSN', () => {
    for (const [start, end] of [
      [0, 1],
      [1, 0],
      [0, 0],
      [-1, 2],
      [1.5, 2],
      [1, Number.MAX_SAFE_INTEGER + 1],
    ]) {
      expectScionError(() => Snapshot.parse({ pageCount: 1, path: [{ vid: v1, start, end }] }), 'InvalidInput');
    }
  });

  it('rejects an LSN that is not a number', () => {
    for (const [start, end] of [
      ['1', 2],
      [1, '2'],
      [true, 2],
      [[1], 2],
      [1, '0000000000000002'],
    ]) {
      expectScionError(() => Snapshot.parse({ pageCount: 1, path: [{ vid: v1, start, end }] }), 'InvalidInput');
    }
  });

  it('rejects a backwards range', () => {
    expectScionError(() => Snapshot.parse({ pageCount: 1, path: [{ vid: v1, start: 5, end: 4 }] }), 'InvalidInput');
    expectScionError(() => Snapshot.parse(throughJson(snap(1, range(v1, 1, 1), { vid: v2, start: LSN.parse(3), end: LSN.parse(2) }))), 'InvalidInput');
  });

  it('rejects a bad volume id, including a segment id and a non-string', () => {
    for (const vid of ['', 'nope', v1.toUpperCase(), fakeSegmentId(1), 42, null, [v1]]) {
      expectScionError(() => Snapshot.parse({ pageCount: 1, path: [{ vid, start: 1, end: 1 }] }), 'InvalidInput');
    }
  });
});
