import { describe, expect, it } from 'vitest';
import { CommitHash } from './commit-hash.ts';
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

describe('Graft.parse: pending and abandoned pushes', () => {
  const hash = CommitHash.fromBytes(new Uint8Array(32).fill(7));
  const push = { local: lsn(3), remote: lsn(2), hash };

  it('round-trips abandoned pushes through JSON, and unlanded lists them before the pending one', () => {
    const g: Graft = { local, remote, sync: { remote: lsn(1), localWatermark: lsn(1) }, pending: { ...push, local: lsn(4) }, abandoned: [push] };
    const back = Graft.parse(JSON.parse(JSON.stringify(g)));
    expect(back).toEqual(g);
    expect(Graft.unlanded(back).map((u) => u.local)).toEqual([3, 4]);
  });

  it('an empty list reads as none; a list of something else is InvalidInput', () => {
    expect(Graft.parse({ local, remote, abandoned: [] }).abandoned).toBeUndefined();
    expect(() => Graft.parse({ local, remote, abandoned: 'x' })).toThrow(/abandoned must be a list/);
    expect(() => Graft.parse({ local, remote, abandoned: [{ local: 1, remote: 1, hash: 'nope' }] })).toThrow();
  });
});
