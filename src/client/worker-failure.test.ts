import { describe, expect, it } from 'vitest';
import { isScionError } from '../core/index.ts';
import { watchWorker } from './worker-failure.ts';

describe('watchWorker', () => {
  it('rejects with the entry URL and the underlying error that worker/entry.ts reports', async () => {
    const { port1, port2 } = new MessageChannel();
    const watch = watchWorker(port1);
    port1.start();
    port2.postMessage({ scionWorkerLoadFailed: { url: 'http://app.example/assets/entry.js', name: 'SyntaxError', message: "The requested module 'x' does not provide an export named 'default'" } });
    const e = await watch.failed.catch((err: unknown) => err);
    expect(isScionError(e, 'Internal')).toBe(true);
    expect((e as Error).message).toContain('http://app.example/assets/entry.js');
    expect((e as Error).message).toContain("SyntaxError: The requested module 'x' does not provide an export named 'default'");
    watch.stop();
    port1.close();
  });

  it("ignores the worker API's own messages, and says what an error event without detail means", async () => {
    const target = new EventTarget() as unknown as MessagePort;
    const watch = watchWorker(target);
    target.dispatchEvent(new MessageEvent('message', { data: { id: '1', type: 'RETURN' } }));
    target.dispatchEvent(new Event('error'));
    const e = await watch.failed.catch((err: unknown) => err);
    expect((e as Error).message).toMatch(/worker script did not load .*404/);
    watch.stop();
  });
});
