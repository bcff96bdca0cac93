import { describe, expect, it } from 'vitest';
import { isScionError } from '../src/core/index.ts';
import { LongOperations } from './long-operations.ts';

describe('LongOperations', () => {
  it('an abort that arrives before its operation makes it start aborted: Interrupted, and the work never runs', async () => {
    const ops = new LongOperations(() => false);
    ops.abort('j1');
    let ran = false;
    const err = await ops.run('push', { job: 'j1' }, undefined, async () => {
      ran = true;
    }).catch((e: unknown) => e);
    expect(isScionError(err, 'Interrupted')).toBe(true);
    expect(err).toMatchObject({ details: { reason: 'cancelled', operation: 'push' } });
    expect(ran).toBe(false);
    // The early abort was used up: the same id runs normally afterwards.
    expect(await ops.run('push', { job: 'j1' }, undefined, async () => 'ok')).toBe('ok');
  });

  it('a failure after the abort becomes Interrupted; a result that arrived in spite of it is returned', async () => {
    const ops = new LongOperations(() => false);
    const failing = ops.run('pull', { job: 'a' }, undefined, ({ signal }) => new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason))));
    ops.abort('a');
    expect(await failing.catch((e: unknown) => e)).toMatchObject({ code: 'Interrupted', details: { operation: 'pull' } });
    let finish!: (v: string) => void;
    const landing = ops.run('push', { job: 'b' }, undefined, () => new Promise<string>((r) => (finish = r)));
    ops.abort('b');
    finish('pushed');
    expect(await landing).toBe('pushed');
  });

  it('progress reports carry the operation; a listener that throws does not fail the operation', async () => {
    const ops = new LongOperations(() => false);
    const seen: unknown[] = [];
    const result = await ops.run('import', undefined, (p) => {
      seen.push(p);
      throw new Error('listener bug');
    }, async ({ progress }) => {
      progress({ phase: 'write', done: 1, total: 2, bytes: 4096 });
      return 7;
    });
    expect(result).toBe(7);
    expect(seen).toEqual([{ operation: 'import', phase: 'write', done: 1, total: 2, bytes: 4096 }]);
  });
});
