// Test support: a Remote that holds chosen requests until the test lets them go, so a test can act
// (abort, close, write) at an exact point of a job. A held request honours its AbortSignal as fetch
// does: it rejects with the signal's reason. Not exported from index.ts.
import { ForwardingRemote, type RemoteCall } from './forwarding-remote.ts';

type HeldOp = 'getCommit' | 'putCommit' | 'getLatest' | 'putLatest' | 'putSegment' | 'getSegmentRange';

/** One hold: `reached` resolves when a request is held; `release()` lets it (and later ones) go. */
export interface Hold {
  readonly reached: Promise<void>;
  release(): void;
}

export class HeldRemote extends ForwardingRemote {
  readonly #holds = new Map<RemoteCall['op'], { after: boolean; reached: () => void; released: Promise<void>; release: () => void }>();

  /**
   * Holds the next requests of kind `op` until `release()`. `after: true` makes the request first (the
   * bucket takes it) and holds its answer: a response lost to an abort.
   */
  hold(op: HeldOp, options: { after?: boolean } = {}): Hold {
    let reached!: () => void;
    const reachedP = new Promise<void>((r) => (reached = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    this.#holds.set(op, { after: options.after ?? false, reached, released, release });
    return {
      reached: reachedP,
      release: () => {
        this.#holds.delete(op);
        release();
      },
    };
  }

  protected override async send<T>(call: RemoteCall, request: () => Promise<T>): Promise<T> {
    const hold = this.#holds.get(call.op);
    if (!hold) return request();
    const result = hold.after ? await request() : undefined;
    hold.reached();
    await new Promise<void>((resolve, reject) => {
      const signal = call.options?.signal;
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      void hold.released.then(resolve);
    });
    return hold.after ? (result as T) : request();
  }
}
