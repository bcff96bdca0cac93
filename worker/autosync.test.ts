import { describe, expect, it } from 'vitest';
import { ScionError } from '../src/core/index.ts';
import { Autosync, type Clock, type SyncRound } from './autosync.ts';
import { BrowserNetwork } from './network.ts';
import type { SyncStatusEvent } from '../src/protocol/index.ts';

/** A clock whose timers run only when the test advances time. */
class FakeClock implements Clock {
  t = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  now = () => this.t;
  random = () => 1; // no jitter: delays are exact
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (id: unknown) => void this.#timers.delete(id as number);
  get pending(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.t).sort((a, b) => a - b);
  }
  /** Advances to each due timer in turn, letting the sync promises settle between them. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    this.t = end;
  }
}

function setup(rounds: (SyncRound | Error)[]) {
  const clock = new FakeClock();
  const network = new BrowserNetwork({});
  const events: SyncStatusEvent[] = [];
  let calls = 0;
  const sync = async (): Promise<SyncRound> => {
    const r = rounds[Math.min(calls++, rounds.length - 1)] as SyncRound | Error;
    if (r instanceof Error) throw r;
    return r;
  };
  const loop = new Autosync('main', { intervalMs: 1000, afterCommitMs: 100, minBackoffMs: 200, maxBackoffMs: 1000 }, { sync, network, clock, emit: (e) => events.push(e) });
  return { clock, network, events, loop, calls: () => calls };
}

const ok: SyncRound = { pulled: false, pushed: true, diverged: false, busy: false };

describe('autosync', () => {
  it('syncs at start, then every interval, and soon after a commit', async () => {
    const { clock, events, loop, calls } = setup([ok]);
    loop.start();
    await clock.advance(0);
    expect(calls()).toBe(1);
    expect(events.map((e) => e.state)).toEqual(['syncing', 'idle']);
    expect(events[1]).toMatchObject({ pushed: true, failures: 0, nextAt: 1000 });
    await clock.advance(999);
    expect(calls()).toBe(1);
    await clock.advance(1);
    expect(calls()).toBe(2);
    loop.poke();
    expect(clock.pending).toEqual([100]);
    await clock.advance(100);
    expect(calls()).toBe(3);
    loop.stop();
    expect(events.at(-1)?.state).toBe('stopped');
    expect(clock.pending).toEqual([]);
  });

  it('backs off exponentially after failures, up to the maximum, and resets after a success', async () => {
    const fail = new ScionError('RemoteUnavailable', 'bucket down');
    const { clock, events, loop, calls } = setup([fail, fail, fail, fail, ok]);
    loop.start();
    await clock.advance(0);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      loop.poke(); // while backing off, a commit does not cut the wait short
      delays.push(clock.pending[0] as number);
      await clock.advance(clock.pending[0] as number);
    }
    expect(delays).toEqual([200, 400, 800, 1000]);
    expect(calls()).toBe(5);
    const errors = events.filter((e) => e.state === 'error');
    expect(errors).toHaveLength(4);
    expect(errors[3]).toMatchObject({ failures: 4, error: { code: 'RemoteUnavailable', message: 'bucket down' } });
    expect(events.at(-1)).toMatchObject({ state: 'idle', failures: 0 });
    expect(clock.pending).toEqual([1000]);
  });

  it('waits while offline and syncs as soon as the network is back', async () => {
    const { clock, network, events, loop, calls } = setup([ok]);
    network.set(false);
    loop.start();
    await clock.advance(5000);
    expect(calls()).toBe(0);
    expect(events.map((e) => e.state)).toEqual(['offline']);
    loop.poke();
    network.set(true);
    await clock.advance(0);
    expect(calls()).toBe(1);
    network.set(false);
    expect(events.at(-1)?.state).toBe('offline');
    expect(clock.pending).toEqual([]);
  });

  it('reports divergence, and retries soon when a write transaction kept it from running', async () => {
    const { clock, events, loop } = setup([{ ...ok, busy: true, pushed: false }, { ...ok, diverged: true, pushed: false }]);
    loop.start();
    await clock.advance(0);
    expect(clock.pending).toEqual([100]);
    await clock.advance(100);
    expect(events.at(-1)).toMatchObject({ state: 'diverged' });
    expect(clock.pending).toEqual([1000]);
  });
});
