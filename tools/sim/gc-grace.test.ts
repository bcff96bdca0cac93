import { describe, expect, it } from 'vitest';
import { formatFailure } from './report.ts';
import { DEFAULT_WEIGHTS, simulate } from './simulator.ts';

/*
 * Remote GC deletes segments no commit references. A push uploads its segment before the commit
 * that references it, so a GC that lists commits, then segments, while a push sits between its
 * segment PUT and its commit PUT sees an unreferenced segment. Only the grace period (segments
 * younger than it are kept) protects it: this is the documented race, shown here without a grace
 * period and absent with one. The defense assumes a push takes less than the grace period.
 */
const SEEDS = Array.from({ length: 40 }, (_, i) => i + 1);
const config = { ops: 150, weights: { ...DEFAULT_WEIGHTS, remoteGc: 12 } };

describe('remote GC racing pushes', () => {
  it('without a grace period, GC deletes a segment an in-flight push then commits (and nothing else breaks)', { timeout: 120_000 }, async () => {
    const kinds = new Map<string, number[]>();
    for (const seed of SEEDS) {
      const r = await simulate(seed, { ...config, gcGraceMs: 0 });
      const kind = r.failure?.kind ?? 'ok';
      kinds.set(kind, [...(kinds.get(kind) ?? []), seed]);
      if (r.failure && r.failure.kind !== 'gc-deleted-live-segment') expect.fail(formatFailure(r));
    }
    expect(kinds.get('gc-deleted-live-segment')?.length ?? 0, JSON.stringify([...kinds])).toBeGreaterThan(0);
  });

  it('with a grace period, the same schedules keep every segment a commit references', { timeout: 120_000 }, async () => {
    for (const seed of SEEDS) {
      const r = await simulate(seed, { ...config, gcGraceMs: 60_000 });
      if (r.failure) expect.fail(formatFailure(r));
    }
  });
});
