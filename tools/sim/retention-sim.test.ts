import { describe, expect, it } from 'vitest';
import { formatFailure } from './report.ts';
import { DEFAULT_WEIGHTS, simulate } from './simulator.ts';

/*
 * Remote GC with retention (each volume's last 3 LSNs) runs often, concurrently with pushes, pulls,
 * clones, forks, crashes and faults. It deletes the segments of older commits; every retained
 * (volume, LSN) must still read exactly as clients read it before (the auditor checks out each one
 * on a fresh device and compares checksums), and no retained commit may lose its segment.
 */
// 84, 87, 88, 109: a GC run that failed after some of its deletes reported no retained floor, so the
// auditor checked out LSNs below it and found their segments gone (the simulator's bookkeeping, not Scion).
const SEEDS = [...Array.from({ length: 30 }, (_, i) => i + 1), 84, 87, 88, 109];

describe('remote GC with retention in the simulation', () => {
  it('every retained LSN reads the same before and after, under faults and crashes', { timeout: 180_000 }, async () => {
    let deleted = 0;
    for (const seed of SEEDS) {
      const r = await simulate(seed, { ops: 150, retainCommits: 3, weights: { ...DEFAULT_WEIGHTS, remoteGc: 12 } });
      if (r.failure) expect.fail(formatFailure(r));
      deleted += r.stats.segmentsDeleted;
    }
    // Retention did delete history (else this test could not fail).
    expect(deleted).toBeGreaterThan(SEEDS.length);
  });
});
