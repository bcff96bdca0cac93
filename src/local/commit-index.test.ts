import { describe, expect, it } from 'vitest';
import { LSN, PageCount, PageIdx, PageSet, type Commit } from '../core/index.ts';
import { CommitIndex } from './commit-index.ts';
import { sidOf, vidOf } from './testing.ts';

const vid = vidOf(1);

/** A deterministic history: commit n writes a few pages of a 12-page volume (some commits write none). */
function history(n: number, seed: number): Commit[] {
  let x = seed;
  const rand = (k: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) % k;
  return Array.from({ length: n }, (_, i) => {
    const pages = Array.from({ length: rand(4) }, () => 1 + rand(12));
    return {
      vid, lsn: LSN.parse(i + 1), pageCount: PageCount.parse(12),
      ...(pages.length > 0 ? { segment: { sid: sidOf(1000 * seed + i), pages: PageSet.of(pages), frames: [] } } : {}),
    };
  });
}

function indexOf(commits: readonly Commit[]): CommitIndex {
  const index = new CommitIndex();
  for (const c of commits) index.add(c);
  return index;
}

describe('CommitIndex: a log squashed to a checkpoint at LSN k', () => {
  it('answers every lookup ending at or after k exactly as the whole history does', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const commits = history(60, seed);
      const whole = indexOf(commits);
      const squashed = indexOf(commits);
      for (const k of [10, 25, 25, 41]) squashed.squash(vid, LSN.parse(k));
      expect(squashed.oldest(vid)).toBe(41);
      expect(squashed.latest(vid)).toBe(60);
      for (let end = 41; end <= 60; end++) {
        for (let start = 1; start <= end; start++) {
          for (let p = 1; p <= 12; p++) {
            const page = PageIdx.parse(p);
            const want = whole.findVersion(vid, page, LSN.parse(start), LSN.parse(end));
            expect(squashed.findVersion(vid, page, LSN.parse(start), LSN.parse(end)), `seed ${seed} page ${p} ${start}..=${end}`).toBe(want);
            if (want !== undefined) expect(squashed.get(vid, want)).toBe(whole.get(vid, want));
          }
        }
      }
    }
  });

  it('keeps only the commits that still hold a page newest at k, and releases the segments of the others', () => {
    const commits = history(60, 7);
    const index = indexOf(commits);
    const orphans = index.squash(vid, LSN.parse(50));
    const live = new Set<number>();
    for (let p = 1; p <= 12; p++) {
      const v = index.findVersion(vid, PageIdx.parse(p), LSN.FIRST, LSN.parse(50));
      if (v !== undefined && v < 50) live.add(v);
    }
    for (let lsn = 1; lsn < 50; lsn++) {
      expect(index.get(vid, LSN.parse(lsn)) !== undefined, `commit ${lsn}`).toBe(live.has(lsn));
    }
    expect(index.commitCount).toBe(live.size + 11);
    const dropped = commits.filter((c) => c.lsn < 50 && !live.has(c.lsn) && c.segment).map((c) => c.segment?.sid);
    expect(orphans.sort()).toEqual(dropped.sort());
    for (const sid of dropped) expect(index.isSegmentReferenced(sid as NonNullable<typeof sid>)).toBe(false);
  });

  it('rebuilds the same index from its checkpoint (start, then the held commits in order)', () => {
    const squashed = indexOf(history(80, 9));
    squashed.squash(vid, LSN.parse(70));
    const rebuilt = new CommitIndex();
    for (const [v, first] of squashed.bases()) rebuilt.start(v, first);
    for (const c of squashed.all()) rebuilt.add(c);
    expect(rebuilt.commitCount).toBe(squashed.commitCount);
    for (let end = 70; end <= 80; end++) {
      for (let p = 1; p <= 12; p++) {
        const page = PageIdx.parse(p);
        expect(rebuilt.findVersion(vid, page, LSN.FIRST, LSN.parse(end))).toBe(squashed.findVersion(vid, page, LSN.FIRST, LSN.parse(end)));
      }
    }
  });

  it('refuses to squash past the latest commit', () => {
    const index = indexOf(history(5, 1));
    expect(() => index.squash(vid, LSN.parse(6))).toThrow(/past its latest commit/);
  });
});

describe('CommitIndex: large commits, looked up through their page sets rather than per page', () => {
  /** Commits over a 700-page volume: every third writes 300 or more pages (more than 16 such commits). */
  function mixed(n: number, seed: number): Commit[] {
    let x = seed;
    const rand = (k: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) % k;
    return Array.from({ length: n }, (_, i) => {
      const from = 1 + rand(400);
      const pages = i % 3 === 0 ? Array.from({ length: 300 + rand(2) }, (_, j) => from + j) : Array.from({ length: rand(4) }, () => 1 + rand(700));
      return {
        vid, lsn: LSN.parse(i + 1), pageCount: PageCount.parse(700),
        ...(pages.length > 0 ? { segment: { sid: sidOf(1000 * seed + i), pages: PageSet.of(pages), frames: [] } } : {}),
      };
    });
  }

  /** What a lookup must answer: the newest commit in start..=end that wrote the page. */
  const oracle = (commits: readonly Commit[], page: number, start: number, end: number) =>
    commits.filter((c) => c.lsn >= start && c.lsn <= end && c.segment?.pages.has(page)).at(-1)?.lsn;

  const pagesToCheck = [1, 2, 150, 299, 300, 301, 402, 550, 699, 700];

  it('answers every lookup as a scan of the whole history does', () => {
    for (const seed of [11, 12, 13]) {
      const commits = mixed(70, seed);
      const index = indexOf(commits);
      for (let end = 1; end <= 70; end++) {
        for (let start = 1; start <= end; start += 4) {
          for (const p of pagesToCheck) {
            expect(index.findVersion(vid, PageIdx.parse(p), LSN.parse(start), LSN.parse(end)), `seed ${seed} page ${p} ${start}..=${end}`).toBe(oracle(commits, p, start, end));
          }
        }
      }
    }
  });

  it('squashes, and rebuilds from its checkpoint, to the same answers', () => {
    const commits = mixed(90, 14);
    const squashed = indexOf(commits);
    squashed.squash(vid, LSN.parse(60));
    const rebuilt = new CommitIndex();
    for (const [v, first] of squashed.bases()) rebuilt.start(v, first);
    for (const c of squashed.all()) rebuilt.add(c);
    for (const index of [squashed, rebuilt]) {
      for (let end = 60; end <= 90; end++) {
        for (const p of pagesToCheck) {
          const page = PageIdx.parse(p);
          expect(index.findVersion(vid, page, LSN.FIRST, LSN.parse(end)), `page ${p} ..=${end}`).toBe(oracle(commits, p, 1, end));
        }
      }
    }
    // A second squash of the rebuilt log (its large commits deferred again) keeps the same commits.
    squashed.squash(vid, LSN.parse(80));
    rebuilt.squash(vid, LSN.parse(80));
    expect(rebuilt.all().map((c) => c.lsn)).toEqual(squashed.all().map((c) => c.lsn));
  });
});

