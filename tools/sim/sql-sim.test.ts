import { describe, expect, it } from 'vitest';
import { simulateSql, type SqlSimResult } from './sql-sim.ts';

/*
 * The SQL layer under the seeded scheduler (see sql-sim.ts): 160 seeds of three connections running
 * transfers statement by statement while pushes, pulls and moves to a fork land under them.
 */
const SEEDS = 160;
const CHUNK = 40;

function report(r: SqlSimResult): string {
  return `seed ${r.seed}: ${r.failure}\n${r.trace.slice(-40).join('\n')}`;
}

describe('SQL simulation: connections, pushes, pulls and moves', () => {
  for (let first = 1; first <= SEEDS; first += CHUNK) {
    it(`seeds ${first}–${first + CHUNK - 1}: every ConcurrentWrite committed nothing, every COMMIT is stored once`, { timeout: 60_000 }, async () => {
      const totals = { acked: 0, refused: 0, refusedInside: 0, pushes: 0, pulls: 0, moves: 0 };
      for (let seed = first; seed < first + CHUNK; seed++) {
        const r = await simulateSql(seed);
        if (r.failure) expect.fail(report(r));
        for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.stats[k];
      }
      // The runs exercise what they claim to.
      expect(totals.acked).toBeGreaterThan(150);
      expect(totals.refusedInside).toBeGreaterThan(30);
      expect(totals.pushes).toBeGreaterThan(100);
      expect(totals.pulls).toBeGreaterThan(20);
      expect(totals.moves).toBeGreaterThan(10);
    });
  }

  it('a seed replays exactly', async () => {
    const [a, b] = [await simulateSql(77), await simulateSql(77)];
    expect(b.trace).toEqual(a.trace);
  });
});
