import { ScionError } from '../core/index.ts';

/**
 * Names one SQL call so it can be cancelled while SQLite runs it in the worker, without
 * SharedArrayBuffer: a blob: URL made here; revoking it is the cancel, which the worker's progress
 * handler sees as a failing synchronous request (worker/interrupt.ts). Without blob URLs (Node), the
 * token has no URL and only time limits apply.
 */
export class CancelToken {
  readonly url: string | undefined;
  #live = true;

  constructor() {
    this.url = typeof URL.createObjectURL === 'function' && typeof Blob === 'function' ? URL.createObjectURL(new Blob()) : undefined;
  }

  cancel(): void {
    this.release();
  }

  /** Frees the URL (the call ended, or was cancelled). */
  release(): void {
    if (!this.#live) return;
    this.#live = false;
    if (this.url) URL.revokeObjectURL(this.url);
  }
}

/** A call's (or a whole transaction's) signal and deadline. */
export interface Limits {
  readonly signal: AbortSignal | undefined;
  /** Milliseconds left until the deadline, at least 1; undefined without one. */
  remainingMs(): number | undefined;
  /** Throws Interrupted if the signal aborted or the deadline passed. */
  throwIfStopped(): void;
}

export function limitsFrom(options: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined } | undefined): Limits | undefined {
  if (!options || (options.signal === undefined && options.timeoutMs === undefined)) return undefined;
  const { signal, timeoutMs } = options;
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0)) {
    throw new ScionError('InvalidInput', `timeoutMs must be a positive number of milliseconds, not ${String(timeoutMs)}.`);
  }
  const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
  return {
    signal,
    remainingMs: () => (deadline === undefined ? undefined : Math.max(1, deadline - performance.now())),
    throwIfStopped() {
      if (signal?.aborted) throw new ScionError('Interrupted', 'The call was cancelled (its AbortSignal) before SQLite ran it; nothing was done.', { reason: 'cancelled' });
      if (deadline !== undefined && performance.now() >= deadline) {
        throw new ScionError('Interrupted', `The call ran past its timeoutMs (${timeoutMs} ms) before SQLite ran this statement; nothing more was done.`, { reason: 'timeout' });
      }
    },
  };
}
