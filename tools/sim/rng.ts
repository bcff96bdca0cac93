import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import type { IdSource } from '../../src/core/index.ts';

/**
 * The one source of randomness of a simulation run (xoroshiro128+ from pure-rand): scheduling,
 * faults, workload and the runtimes' ids all draw from it, so a seed replays a run exactly.
 */
export class Rng {
  readonly #gen: RandomGenerator;

  constructor(seed: number) {
    this.#gen = xoroshiro128plus(seed | 0);
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return uniformInt(this.#gen, min, max);
  }

  /** True with probability `p` (0 draws nothing, so a disabled fault does not shift the stream). */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.int(0, 999_999) < p * 1_000_000;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('BUG: pick from an empty list');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** A key of `weights`, each with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = (Object.entries(weights) as [K, number][]).filter(([, w]) => w > 0);
    const total = entries.reduce((n, [, w]) => n + w, 0);
    let x = this.int(0, Math.max(0, Math.ceil(total * 1000) - 1)) / 1000;
    for (const [k, w] of entries) {
      if (x < w) return k;
      x -= w;
    }
    return (entries.at(-1) as [K, number])[0];
  }

  fill(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i += 4) {
      const v = this.#gen.next();
      for (let k = 0; k < 4 && i + k < bytes.length; k++) bytes[i + k] = (v >>> (8 * k)) & 0xff;
    }
  }
}

/** Ids for the runtimes: the simulated clock and bytes from the run's Rng. */
export function simIds(rng: Rng, now: () => number): IdSource {
  return { now, random: (bytes) => rng.fill(bytes) };
}
