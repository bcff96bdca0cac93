import { describe, expect, it } from 'vitest';
import { formatFailure } from './report.ts';
import { DEFAULT_WEIGHTS, simulate, type SimResult } from './simulator.ts';

/*
 * The CI share of the deterministic simulation: a fixed set of seeds, each a full run of
 * 2–4 clients, faults, crashes and the bank workload, then a final sync and an audit of every remote
 * LSN. A failure prints the seed, the broken invariant and the last 50 scheduled operations;
 * `npm run sim -- --seed <seed> --ops <ops>` replays it exactly. `npm run sim -- --minutes 60` runs long.
 */
const SEEDS = 400;
const OPS = 150;
const CHUNK = 50;

function expectOk(r: SimResult): void {
  if (r.failure) expect.fail(formatFailure(r));
}

describe('deterministic simulation: bank transfers under faults and crashes', () => {
  for (let first = 1; first <= SEEDS; first += CHUNK) {
    const last = Math.min(SEEDS, first + CHUNK - 1);
    it(`seeds ${first}–${last} keep every invariant`, { timeout: 120_000 }, async () => {
      for (let seed = first; seed <= last; seed++) expectOk(await simulate(seed, { ops: OPS }));
    });
  }
});

describe('reproducibility', () => {
  it('a seed replays exactly: the same trace, outcome and remote objects', { timeout: 60_000 }, async () => {
    const a = await simulate(4242, { ops: OPS });
    const b = await simulate(4242, { ops: OPS });
    expect(b.trace.length).toBeGreaterThan(100);
    expect(b.trace).toEqual(a.trace);
    expect(b.failure).toEqual(a.failure);
    expect(b.fingerprint).toBe(a.fingerprint);
    const other = await simulate(4243, { ops: OPS });
    expect(other.fingerprint).not.toBe(a.fingerprint);
  });

  it('a failure names its seed, the broken invariant, the last 50 operations and how to replay them', { timeout: 60_000 }, async () => {
    // GC without a grace period races pushes (see gc-grace.test.ts): a reliable way to fail.
    let failed: SimResult | undefined;
    for (let seed = 1; !failed && seed <= 40; seed++) {
      const r = await simulate(seed, { gcGraceMs: 0, ops: 150, weights: { ...DEFAULT_WEIGHTS, remoteGc: 12 } });
      if (r.failure) failed = r;
    }
    if (!failed) return expect.fail('no seed of 1–40 made GC without grace race a push');
    const report = formatFailure(failed);
    expect(report).toContain(`seed ${failed.seed}`);
    expect(report).toContain(`${failed.failure?.kind}: `);
    expect(report).toContain(`Replay: npm run sim -- --seed ${failed.seed} `);
    expect(report.split('\n').filter((l) => /^ {2}#\d+ /.test(l))).toHaveLength(Math.min(50, failed.trace.length));
    const again = await simulate(failed.seed, failed.config);
    expect(again.failure).toEqual(failed.failure);
    expect(again.trace).toEqual(failed.trace);
  });
});
