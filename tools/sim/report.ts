import type { SimResult } from './simulator.ts';

/** A failure as a report: the seed, the broken invariant, the last operations, and how to replay it. */
export function formatFailure(r: SimResult, traceLines = 50): string {
  if (!r.failure) return `seed ${r.seed}: ok`;
  const c = r.config;
  return [
    `Simulation failed: seed ${r.seed} (${c.clients} clients, ${c.ops} ops, ${c.maxInFlight} in flight, GC grace ${c.gcGraceMs} ms)`,
    `${r.failure.kind}: ${r.failure.message}`,
    `Last ${Math.min(traceLines, r.trace.length)} of ${r.trace.length} trace lines:`,
    ...r.trace.slice(-traceLines).map((l) => `  ${l}`),
    `Replay: npm run sim -- --seed ${r.seed} --clients ${c.clients} --ops ${c.ops} --inflight ${c.maxInFlight}${c.gcGraceMs !== 60_000 ? ` --grace ${c.gcGraceMs}` : ''}${c.faultScale !== 1 ? ` --faults ${c.faultScale}` : ''} --trace`,
  ].join('\n');
}

/**
 * What a run exercised, counted from its trace: faults by kind, crash points that fired, and how
 * operations ended (`push → pushed`, `transfer → Corrupt`, …).
 */
export function coverageOf(trace: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  const add = (k: string) => out.set(k, (out.get(k) ?? 0) + 1);
  for (const line of trace) {
    const fault = / fault ([a-z ]+?): /.exec(line);
    if (fault) add(`fault: ${fault[1]}`);
    const crash = / CRASH \(epoch \d+\): (power loss|store write torn|before [a-zA-Z]+ [a-zA-Z]+|after [a-zA-Z]+ [a-zA-Z]+)/.exec(line);
    if (crash) add(`crash: ${crash[1]}`);
    const end = / end ([a-zA-Z]+)#\d+ → (.*)$/.exec(line);
    if (end) add(`${end[1]} → ${/^(crashed|[A-Z][A-Za-z]+:|pushed|pulled|diverged|up-to-date|nothing|enough|no jump|graft \S+ was deleted)/.exec(end[2] as string)?.[1]?.replace(':', '') ?? 'ok'}`);
    if (line.includes('torn tail dropped')) add('restart: torn tail dropped');
    if (line.includes('ConcurrentWrite, retrying')) add('transfer: ConcurrentWrite retried');
    if (line.includes('remote GC deleted segment')) add('remote GC: segment deleted');
  }
  return out;
}
