// Peak JS memory of a page's dedicated workers, read over the Chrome DevTools Protocol (Node side). Workers have
// no `performance.memory`, and measureUserAgentSpecificMemory needs cross-origin isolation, which Scion must not
// require; so the spec polls Runtime.getHeapUsage of each worker. The sum counted is the V8 heap in use plus
// ArrayBuffer backing stores (downloaded files, page caches); WebAssembly memory is not in it — the worker
// reports that itself.
import type { CDPSession, Page } from '@playwright/test';

interface HeapUsage {
  usedSize: number;
  backingStorageSize: number;
}

export class WorkerHeapMonitor {
  #cdp: CDPSession;
  /** Attached workers; true while a request to that worker is in flight. */
  #sessions = new Map<string, boolean>();
  #pending = new Map<number, (usage: HeapUsage | undefined) => void>();
  /** Workers from before the last reset. */
  #ignored = new Set<string>();
  #nextId = 1;
  #peak: number | null = null;
  #timer: ReturnType<typeof setInterval>;

  private constructor(cdp: CDPSession, intervalMs: number) {
    this.#cdp = cdp;
    this.#timer = setInterval(() => this.#poll(), intervalMs);
  }

  /** Starts polling every worker `page` starts from now on. */
  static async attach(page: Page, intervalMs = 50): Promise<WorkerHeapMonitor> {
    const cdp = await page.context().newCDPSession(page);
    const monitor = new WorkerHeapMonitor(cdp, intervalMs);
    cdp.on('Target.attachedToTarget', (e) => {
      if (e.targetInfo.type === 'worker') monitor.#sessions.set(e.sessionId, false);
    });
    cdp.on('Target.detachedFromTarget', (e) => {
      monitor.#sessions.delete(e.sessionId);
      monitor.#ignored.delete(e.sessionId);
    });
    cdp.on('Target.receivedMessageFromTarget', (e) => {
      const reply = JSON.parse(e.message) as { id?: number; result?: HeapUsage };
      if (reply.id === undefined) return;
      monitor.#pending.get(reply.id)?.(reply.result);
      monitor.#pending.delete(reply.id);
    });
    // Non-flattened sessions: Playwright's CDPSession cannot address a child session any other way.
    await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
    return monitor;
  }

  /** Starts a new measurement window: only workers that attach from now on count. */
  reset(): void {
    this.#peak = null;
    // The previous job's worker may still answer a request before it is gone.
    for (const sessionId of this.#sessions.keys()) this.#ignored.add(sessionId);
  }

  /** Peak bytes (V8 heap used + ArrayBuffer backing stores) of any one worker since `reset`; null if none sampled. */
  peak(): number | null {
    return this.#peak;
  }

  async detach(): Promise<void> {
    clearInterval(this.#timer);
    await this.#cdp.detach().catch(() => {}); // the page may be gone already
  }

  #poll(): void {
    for (const [sessionId, busy] of this.#sessions) {
      // A worker blocked in a synchronous XHR answers late: never stack requests on it.
      if (!busy) void this.#sample(sessionId);
    }
  }

  async #sample(sessionId: string): Promise<void> {
    this.#sessions.set(sessionId, true);
    const id = this.#nextId++;
    const reply = new Promise<HeapUsage | undefined>((resolve) => this.#pending.set(id, resolve));
    try {
      await this.#cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method: 'Runtime.getHeapUsage' }) });
      // A worker that ends before answering never will.
      const usage = await Promise.race([reply, new Promise<undefined>((r) => setTimeout(r, 5_000))]);
      if (usage && !this.#ignored.has(sessionId)) {
        this.#peak = Math.max(this.#peak ?? 0, usage.usedSize + usage.backingStorageSize);
      }
    } catch {
      // The worker ended between the listing and the send.
    } finally {
      this.#pending.delete(id);
      if (this.#sessions.has(sessionId)) this.#sessions.set(sessionId, false);
    }
  }
}
