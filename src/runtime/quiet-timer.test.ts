import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { QuietTimer } from './quiet-timer.ts';

describe('QuietTimer', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('runs the work once the touches have paused for the quiet period, not while they keep coming', () => {
    let runs = 0;
    const timer = new QuietTimer(100, () => runs++);
    for (let i = 0; i < 10; i++) {
      timer.touch();
      vi.advanceTimersByTime(60);
    }
    expect(runs).toBe(0);
    vi.advanceTimersByTime(40);
    expect(runs).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(runs).toBe(1);
    timer.touch();
    vi.advanceTimersByTime(100);
    expect(runs).toBe(2);
  });

  it('runs nothing once cancelled', () => {
    let runs = 0;
    const timer = new QuietTimer(100, () => runs++);
    timer.touch();
    timer.cancel();
    vi.advanceTimersByTime(1_000);
    expect(runs).toBe(0);
  });
});
