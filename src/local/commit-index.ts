import { assert, LSN, type Commit, type PageIdx, type SegmentId, type VolumeId } from '../core/index.ts';

interface VolumeLog {
  /** commits[i] has LSN i + 1: logs are gap-free from 1. */
  readonly commits: Commit[];
  /** For each page, the ascending LSNs of the commits that wrote it. */
  readonly versions: Map<PageIdx, LSN[]>;
}

/**
 * The in-memory index every store rebuilds at open: commits by (volume, LSN), which commit last wrote
 * a page at or below an LSN, and how many commits reference each segment.
 */
export class CommitIndex {
  readonly #logs = new Map<VolumeId, VolumeLog>();
  readonly #segmentRefs = new Map<SegmentId, number>();
  #commitCount = 0;

  get commitCount(): number {
    return this.#commitCount;
  }

  latest(vid: VolumeId): LSN | undefined {
    const n = this.#logs.get(vid)?.commits.length;
    return n ? (n as LSN) : undefined;
  }

  get(vid: VolumeId, lsn: LSN): Commit | undefined {
    return this.#logs.get(vid)?.commits[lsn - 1];
  }

  /** Every commit, volume by volume in LSN order (the order `add` accepts them in). */
  all(): Commit[] {
    return [...this.#logs.values()].flatMap((log) => log.commits);
  }

  volumes(): VolumeId[] {
    return [...this.#logs.keys()];
  }

  /** Throws Internal unless `commit.lsn` is its volume's next LSN. */
  checkNext(commit: Commit, pending: ReadonlyMap<VolumeId, LSN>): void {
    const expected = LSN.next(pending.get(commit.vid) ?? this.latest(commit.vid));
    assert(commit.lsn === expected, `commit ${commit.vid}@${commit.lsn} appended where ${expected} was next`);
  }

  add(commit: Commit): void {
    let log = this.#logs.get(commit.vid);
    if (!log) this.#logs.set(commit.vid, (log = { commits: [], versions: new Map() }));
    assert(commit.lsn === log.commits.length + 1, `commit ${commit.vid}@${commit.lsn} out of order`);
    log.commits.push(commit);
    this.#commitCount++;
    if (!commit.segment) return;
    this.#segmentRefs.set(commit.segment.sid, (this.#segmentRefs.get(commit.segment.sid) ?? 0) + 1);
    for (const idx of commit.segment.pages) {
      const lsns = log.versions.get(idx);
      if (lsns) lsns.push(commit.lsn);
      else log.versions.set(idx, [commit.lsn]);
    }
  }

  findVersion(vid: VolumeId, pageIdx: PageIdx, start: LSN, end: LSN): LSN | undefined {
    const lsns = this.#logs.get(vid)?.versions.get(pageIdx);
    if (!lsns) return undefined;
    // Largest LSN ≤ end.
    let lo = 0;
    let hi = lsns.length - 1;
    let found: LSN | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = lsns[mid] as LSN;
      if (v <= end) {
        found = v;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found !== undefined && found >= start ? found : undefined;
  }

  isSegmentReferenced(sid: SegmentId): boolean {
    return this.#segmentRefs.has(sid);
  }

  /** Removes a volume's log; returns the segments no commit references any more. */
  drop(vid: VolumeId): SegmentId[] {
    const log = this.#logs.get(vid);
    if (!log) return [];
    this.#logs.delete(vid);
    this.#commitCount -= log.commits.length;
    const orphans: SegmentId[] = [];
    for (const c of log.commits) {
      if (!c.segment) continue;
      const left = (this.#segmentRefs.get(c.segment.sid) ?? 1) - 1;
      if (left > 0) this.#segmentRefs.set(c.segment.sid, left);
      else {
        this.#segmentRefs.delete(c.segment.sid);
        orphans.push(c.segment.sid);
      }
    }
    return orphans;
  }
}

