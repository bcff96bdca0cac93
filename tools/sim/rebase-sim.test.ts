import { describe, expect, it } from 'vitest';
import { simulateRebase } from './rebase-sim.ts';

/*
 * Rebase by replay under seeded chaos (see rebase-sim.ts): three devices transfer, push, pull, rebase
 * and crash (also mid-replay) while bucket requests fail or lose their answers; then all converge.
 */
const SEEDS = Number(process.env['REBASE_SIM_SEEDS'] ?? 40);

describe('rebase simulation: devices, faults, crashes mid-rebase', () => {
  it(`seeds 1–${SEEDS}: all converge, money adds up, every acknowledged transfer is stored once or was reported to onConflict`, { timeout: 120_000 }, async () => {
    const totals = { acked: 0, stored: 0, dropped: 0, rebased: 0, replayed: 0, crashes: 0, crashesMidRebase: 0, faults: 0 };
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await simulateRebase(seed);
      if (r.failure) expect.fail(`seed ${seed}: ${r.failure}\n${r.trace.slice(-30).join('\n')}`);
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.stats[k];
    }
    // The runs exercise what they claim to.
    expect(totals.acked).toBeGreaterThan(100);
    expect(totals.stored).toBeGreaterThan(totals.acked * 0.6);
    expect(totals.rebased).toBeGreaterThan(10);
    expect(totals.replayed).toBeGreaterThan(20);
    expect(totals.crashesMidRebase).toBeGreaterThan(2);
    expect(totals.faults).toBeGreaterThan(10);
    console.log(JSON.stringify(totals));
  });
});
