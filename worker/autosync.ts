// Autosync: pull then push on an interval and soon after local commits, paused while offline, with
// exponential backoff after failures. One loop per database name; status goes out as events.
import { backoffMs, ScionError } from '../src/core/index.ts';
import type { AutosyncOptions, SyncStatusEvent } from '../src/protocol/index.ts';

/** What one sync round did. `busy`: skipped because a write transaction is open; retried soon. */
export interface SyncRound {
  pulled: boolean;
  pushed: boolean;
  diverged: boolean;
  busy: boolean;
}

/** Whether the network is up, and changes to it (navigator.onLine and online/offline events). */
export interface NetworkState {
  readonly online: boolean;
  subscribe(listener: (online: boolean) => void): () => void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  random(): number;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
  random: () => Math.random(),
};

export const AUTOSYNC_DEFAULTS: Required<AutosyncOptions> = { intervalMs: 30_000, afterCommitMs: 1_000, minBackoffMs: 1_000, maxBackoffMs: 60_000 };

export class Autosync {
  readonly name: string;
  #options: Required<AutosyncOptions>;
  readonly #sync: () => Promise<SyncRound>;
  readonly #network: NetworkState;
  readonly #clock: Clock;
  readonly #emit: (e: SyncStatusEvent) => void;
  #timer: unknown;
  #dueAt: number | undefined;
  #failures = 0;
  #running = false;
  #rerun = false;
  #stopped = false;
  #unsubscribe: (() => void) | undefined;

  constructor(name: string, options: AutosyncOptions, deps: { sync: () => Promise<SyncRound>; network: NetworkState; clock?: Clock; emit: (e: SyncStatusEvent) => void }) {
    this.name = name;
    this.#options = { ...AUTOSYNC_DEFAULTS, ...options };
    this.#sync = deps.sync;
    this.#network = deps.network;
    this.#clock = deps.clock ?? SYSTEM_CLOCK;
    this.#emit = deps.emit;
  }

  get options(): Required<AutosyncOptions> {
    return this.#options;
  }

  /** Syncs now (if online), then keeps syncing. */
  start(): void {
    this.#unsubscribe = this.#network.subscribe((online) => {
      if (online) this.#schedule(0, true);
      else this.#goOffline();
    });
    if (this.#network.online) this.#schedule(0, true);
    else this.#goOffline();
  }

  update(options: AutosyncOptions): void {
    this.#options = { ...AUTOSYNC_DEFAULTS, ...options };
    if (!this.#running && this.#network.online) this.#schedule(this.#failures > 0 ? this.#backoff() : this.#options.intervalMs, true);
  }

  /** A local commit landed: sync soon (unless backing off after failures). */
  poke(): void {
    if (this.#stopped || this.#failures > 0) return;
    if (this.#running) this.#rerun = true;
    else this.#schedule(this.#options.afterCommitMs, false);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#cancel();
    this.#send({ state: 'stopped' });
  }

  /** Runs at `delay` from now; `replace` moves a later or earlier due time, otherwise only an earlier one wins. */
  #schedule(delay: number, replace: boolean): void {
    if (this.#stopped) return;
    const at = this.#clock.now() + delay;
    if (!replace && this.#dueAt !== undefined && this.#dueAt <= at) return;
    this.#cancel();
    this.#dueAt = at;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#dueAt = undefined;
      void this.#run();
    }, delay);
  }

  #cancel(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dueAt = undefined;
  }

  #goOffline(): void {
    this.#cancel();
    if (!this.#running) this.#send({ state: 'offline' });
  }

  async #run(): Promise<void> {
    if (this.#stopped || this.#running) return;
    if (!this.#network.online) return this.#goOffline();
    this.#running = true;
    this.#rerun = false;
    this.#send({ state: 'syncing' });
    let next: number;
    try {
      const round = await this.#sync();
      this.#failures = 0;
      next = round.busy || this.#rerun ? this.#options.afterCommitMs : this.#options.intervalMs;
      this.#running = false;
      if (this.#stopped) return;
      this.#send({ state: round.diverged ? 'diverged' : 'idle', pulled: round.pulled, pushed: round.pushed }, next);
    } catch (e) {
      this.#failures++;
      next = this.#backoff();
      this.#running = false;
      if (this.#stopped) return;
      const error = ScionError.from(e).toWire();
      // A failure while the browser reports no network is "offline": wait for the online event.
      if (!this.#network.online) return this.#send({ state: 'offline', error });
      this.#send({ state: 'error', error }, next);
    }
    this.#schedule(next, true);
  }

  #backoff(): number {
    // Up to half of the delay off: devices that failed together do not retry together.
    return backoffMs({ firstMs: this.#options.minBackoffMs, maxMs: this.#options.maxBackoffMs, jitter: 0.5 }, this.#failures - 1, this.#clock.random());
  }

  #send(e: Omit<SyncStatusEvent, 'name' | 'at' | 'failures'>, nextIn?: number): void {
    const at = this.#clock.now();
    this.#emit({ name: this.name, at, failures: this.#failures, ...e, ...(nextIn !== undefined ? { nextAt: at + nextIn } : {}) });
  }
}
