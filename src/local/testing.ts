// Test support for the local store tests: deterministic ids, pages whose bytes depend on where they belong.
import { LSN, Page, PAGE_SIZE, PageCount, PageIdx, PageSet, SegmentId, VolumeId, type Commit, type IdSource } from '../core/index.ts';
import type { CommitEntry } from './local-store.ts';

const fixed = (n: number): IdSource => ({ now: () => 1_700_000_000_000 + n, random: (b) => void b.fill(n & 0xff) });
export const vidOf = (n: number): VolumeId => VolumeId.random(fixed(n));
export const sidOf = (n: number): SegmentId => SegmentId.random(fixed(n));
export const idx = (n: number): PageIdx => PageIdx.parse(n);

/** A page whose every byte depends on (seed, pageIdx), so swapped or stale pages are caught. */
export function makePage(seed: number, pageIdx: number): Page {
  const p = Page.zeroed();
  new DataView(p.buffer).setUint32(0, seed, true);
  new DataView(p.buffer).setUint32(4, pageIdx, true);
  for (let i = 8; i < PAGE_SIZE; i++) p[i] = (seed * 31 + pageIdx * 7 + i * 13) & 0xff;
  return p;
}

/** A local commit of `vid` at `lsn` writing `pages` under segment `sid`, carrying their bytes. */
export function localCommit(vid: VolumeId, lsn: number, sid: number, pages: number[]): CommitEntry {
  const set = PageSet.of(pages);
  const commit: Commit = {
    vid,
    lsn: LSN.parse(lsn),
    pageCount: PageCount.parse(Math.max(...pages)),
    segment: { sid: sidOf(sid), pages: set, frames: [] },
  };
  return { commit, pages: new Map([...set].map((i) => [i, makePage(sid, i)])) };
}
