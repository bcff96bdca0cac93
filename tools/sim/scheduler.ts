import type { Rng } from './rng.ts';

interface Parked {
  readonly label: string;
  readonly resume: () => void;
}

/**
 * Deterministic interleaving: every await point that matters (a remote request, a slow response, a
 * catalog write, a transaction's think time) parks here, and the simulator releases one parked
 * continuation at a time, chosen by the seeded Rng. Between releases the microtask queue is drained
 * (`settle`), so nothing else runs: the order of events is a function of the seed alone.
 */
export class Scheduler {
  readonly #parked: Parked[] = [];
  readonly #trace: string[] = [];
  readonly #rng: Rng;
  #now: number;
  #step = 0;

  constructor(rng: Rng, startMs = 1_700_000_000_000) {
    this.#rng = rng;
    this.#now = startMs;
  }

  /** The simulated clock in ms: ids, object timestamps and GC grace periods all read it. */
  readonly now = (): number => this.#now;

  advance(ms: number): void {
    this.#now += ms;
  }

  get step(): number {
    return this.#step;
  }

  get parkedCount(): number {
    return this.#parked.length;
  }

  /** Waits until the simulator releases this continuation. */
  park(label: string): Promise<void> {
    return new Promise((resume) => this.#parked.push({ label, resume }));
  }

  /** Releases one parked continuation, chosen by the Rng; returns its label. */
  releaseOne(): string | undefined {
    if (this.#parked.length === 0) return undefined;
    const [p] = this.#parked.splice(this.#rng.int(0, this.#parked.length - 1), 1) as [Parked];
    p.resume();
    return p.label;
  }

  /** Lets every runnable continuation run to its next park (drains the microtask queue). */
  settle(): Promise<void> {
    return new Promise((r) => setImmediate(r));
  }

  /** Appends one line to the run's trace, stamped with the step and clock. */
  log(line: string): void {
    this.#trace.push(`#${this.#step} t+${this.#now - 1_700_000_000_000} ${line}`);
  }

  nextStep(): void {
    this.#step++;
  }

  get trace(): readonly string[] {
    return this.#trace;
  }
}
