import { describe, expect, it } from 'vitest';
import { backoffMs } from './backoff.ts';

describe('backoffMs', () => {
  it('doubles from the first delay up to the cap; jitter takes up to its share off', () => {
    const none = { firstMs: 100, maxMs: 1000, jitter: 0 };
    expect([0, 1, 2, 3, 4, 40].map((a) => backoffMs(none, a, 0.3))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const full = { firstMs: 100, maxMs: 2000, jitter: 1 };
    expect(backoffMs(full, 3, 0)).toBe(0);
    expect(backoffMs(full, 0, 0.999)).toBeLessThan(100);
    expect(backoffMs(full, 10, 1)).toBe(2000);
    const half = { firstMs: 100, maxMs: 150, jitter: 0.5 };
    expect([backoffMs(half, 2, 0), backoffMs(half, 2, 1)]).toEqual([75, 150]);
  });
});
