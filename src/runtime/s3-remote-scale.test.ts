import { describe, expect, inject, it } from 'vitest';
import { runRemoteScale } from '../../e2e/scenarios/remote-scale.ts';

/*
 * A volume of many small commits written straight into the real test bucket, cloned by new devices
 * before and after remote GC with retention (bench/remote-scale.bench.ts runs it with 100,000).
 */
const COMMITS = 200;
const bucket = inject('testBucket');

describe(`a volume of ${COMMITS} commits (${bucket.kind} bucket)`, () => {
  it('clones in one presign round trip and one bucket request to its first page, before and after remote GC; GC frees the segments no retained LSN reaches; every retained LSN reads right', { timeout: 120_000 }, async () => {
    const r = await runRemoteScale({ bucket, commits: COMMITS, pages: 50, retainCommits: 40, log: console.log });
    // The presign service reads the hint (with the commits after the checkpoint), the checkpoint commit, the
    // next LSN (absent) and the compacted index (absent until the compactor ran) and signs the segments they
    // name: then one frame, the only bucket request.
    for (const clone of [r.before.clone, r.after.clone, r.compacted.clone]) expect(clone).toMatchObject({ requests: 1, presignRoundTrips: 1 });
    expect(r.gc.retainedFrom).toBe(COMMITS - 40 + 1);
    // Below LSN 161 only the holders of the newest versions at 161 (the 49 commits before it) keep their segments.
    expect(r.gc.segmentsDeleted).toBe(COMMITS - 40 - 49);
    // Commit records go below the checkpoint at or before 161 (128), which the hint's (192) is above.
    expect(r.gc.commitsDeleted).toBe(127);
    expect(r.after.objects).toBe(r.before.objects - r.gc.segmentsDeleted - r.gc.commitsDeleted);
    // The other 49 pages, one segment each, before compaction; all in one frame after.
    expect(r.after.clone.allPages.requests).toBe(49);
    expect(r.compaction).toMatchObject({ pages: 50, segments: 1 });
    expect(r.compacted.clone.allPages.requests).toBe(0);
    expect(r.compacted.objects).toBe(r.after.objects + 2);
    expect(r.lsnsChecked).toBe(40);
    expect(r.wrongPages).toBe(0);
  });
});
