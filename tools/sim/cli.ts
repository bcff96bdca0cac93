// npm run sim -- [--seeds N] [--minutes M] [--start S] [--seed S [--trace]] [--clients C] [--ops N]
//                [--inflight N] [--grace MS] [--faults SCALE]
// Runs simulations until N seeds or M minutes are done, prints progress, and stops at the first
// failing seed with its trace. `--seed S` replays one seed (add --trace for every line).
import { parseArgs } from 'node:util';
import { coverageOf, formatFailure } from './report.ts';
import { simulate, type SimConfig, type SimResult } from './simulator.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    minutes: { type: 'string' },
    start: { type: 'string' },
    seed: { type: 'string' },
    clients: { type: 'string' },
    ops: { type: 'string' },
    grace: { type: 'string' },
    inflight: { type: 'string' },
    faults: { type: 'string' },
    trace: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log('npm run sim -- [--seeds N] [--minutes M] [--start S] [--seed S [--trace]] [--clients C] [--ops N] [--inflight N] [--grace MS] [--faults SCALE]');
  process.exit(0);
}

const int = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer; got ${v}`);
    process.exit(2);
  }
  return n;
};

const overrides: Partial<SimConfig> = {};
const clients = int(values.clients, 'clients');
const ops = int(values.ops, 'ops');
const grace = int(values.grace, 'grace');
if (clients !== undefined) Object.assign(overrides, { clients });
if (ops !== undefined) Object.assign(overrides, { ops });
if (grace !== undefined) Object.assign(overrides, { gcGraceMs: grace });
const inflight = int(values.inflight, 'inflight');
if (inflight !== undefined) Object.assign(overrides, { maxInFlight: Math.max(1, inflight) });
if (values.faults !== undefined) {
  const faultScale = Number(values.faults);
  if (!(faultScale >= 0)) {
    console.error(`--faults must be a number ≥ 0 (a multiple of the default rates); got ${values.faults}`);
    process.exit(2);
  }
  Object.assign(overrides, { faultScale });
}

// An unhandled rejection inside the engine is a bug the run must not swallow.
process.on('unhandledRejection', (e) => {
  console.error('Unhandled rejection (a floating promise in the engine or the simulator):', e);
  process.exit(3);
});

const totals = { runs: 0, steps: 0, faults: 0, crashes: 0, acked: 0, discarded: 0, lost: 0 };

function report(r: SimResult): never {
  console.error(formatFailure(r));
  console.error(`(after ${totals.runs} passing runs)`);
  process.exit(1);
}

const single = int(values.seed, 'seed');
if (single !== undefined) {
  const r = await simulate(single, overrides);
  if (values.trace) for (const line of r.trace) console.log(line);
  if (r.failure) report(r);
  console.log(`seed ${single}: ok in ${r.stats.ms} ms — ${JSON.stringify(r.stats)} fingerprint ${r.fingerprint}`);
  process.exit(0);
}

const seeds = int(values.seeds, 'seeds') ?? (values.minutes ? Infinity : 1000);
const deadline = Date.now() + (Number(values.minutes ?? Infinity) * 60_000 || Infinity);
const start = int(values.start, 'start') ?? (Date.now() % 1_000_000_000);
console.log(`Simulating seeds ${start}… (${seeds === Infinity ? 'no seed limit' : `${seeds} seeds`}, ${values.minutes ? `${values.minutes} min` : 'no time limit'})`);
const coverage = new Map<string, number>();
const began = Date.now();
const elapsed = (): string => `${Math.round((Date.now() - began) / 1000)} s`;
let lastProgress = Date.now();
for (let seed = start; seed < start + seeds && Date.now() < deadline; seed++) {
  const r = await simulate(seed, overrides);
  if (r.failure) report(r);
  totals.runs++;
  totals.steps += r.stats.steps;
  totals.faults += r.stats.faults;
  totals.crashes += r.stats.crashes;
  totals.acked += r.stats.transfers.acked;
  totals.discarded += r.stats.transfers.discarded;
  totals.lost += r.stats.transfers.lost;
  for (const [k, v] of coverageOf(r.trace)) coverage.set(k, (coverage.get(k) ?? 0) + v);
  if (Date.now() - lastProgress > 10_000) {
    lastProgress = Date.now();
    console.log(`… ${totals.runs} runs ok in ${elapsed()} (last seed ${seed}): ${JSON.stringify(totals)}`);
  }
}
console.log(`All ${totals.runs} runs ok in ${elapsed()} (seeds ${start}–${start + totals.runs - 1}): ${JSON.stringify(totals)}`);
console.log('What the runs exercised:');
for (const [k, v] of [...coverage].sort(([a], [b]) => a.localeCompare(b))) console.log(`  ${k}: ${v}`);
