import { describe, expect, it } from 'vitest';
import { Graft } from './graft.ts';
import { LSN } from './lsn.ts';
import { fakeVolumeId } from './testing.ts';

const local = fakeVolumeId(1);
const remote = fakeVolumeId(2);
const lsn = (n: number) => LSN.parse(n);

describe('Graft: the snapshot-path and ahead/behind rules', () => {
  it('a graft never synced: its local log is the whole path, every commit is ahead', () => {
    const g: Graft = { local, remote };
    expect(Graft.path(g, lsn(3))).toEqual([{ vid: local, start: 1, end: 3 }]);
    expect(Graft.path(g, undefined)).toEqual([]);
    expect(Graft.ahead(g, lsn(3))).toBe(3);
    expect(Graft.behind(g, lsn(5))).toBe(5);
  });

  it('a synced graft: unpushed local commits over the remote at the sync point; pushed ones are not on the path', () => {
    const g: Graft = { local, remote, sync: { remote: lsn(7), localWatermark: lsn(4) } };
    expect(Graft.path(g, lsn(6))).toEqual([{ vid: local, start: 5, end: 6 }, { vid: remote, start: 1, end: 7 }]);
    expect(Graft.path(g, lsn(4))).toEqual([{ vid: remote, start: 1, end: 7 }]);
    expect(Graft.unpushed(g, lsn(4))).toBeUndefined();
    expect(Graft.unpushed(g, lsn(5))).toEqual({ vid: local, start: 5, end: 5 });
    expect([Graft.ahead(g, lsn(6)), Graft.behind(g, lsn(9))]).toEqual([2, 2]);
    expect([Graft.ahead(g, lsn(4)), Graft.behind(g, lsn(7))]).toEqual([0, 0]);
  });
});
