import { ScionError } from '../core/index.ts';

/**
 * Names SQL calls so they can be cancelled while SQLite runs them in the worker, without
 * SharedArrayBuffer: a blob: URL made here; revoking it is the cancel, which the worker's progress
 * handler sees as a failing synchronous request (worker/interrupt.ts). Making and revoking one costs an
 * IPC, so a Database shares one token among its calls until it interrupts them. Without blob URLs
 * (Node), a token has no URL and only time limits apply.
 */
export class CancelToken {
  readonly url: string | undefined;
  #live = true;

  constructor() {
    this.url = typeof URL.createObjectURL === 'function' && typeof Blob === 'function' ? URL.createObjectURL(new Blob()) : undefined;
  }

  get isLive(): boolean {
    return this.#live;
  }

  /** Cancels every call named by this token that is still running; frees the URL. */
  cancel(): void {
    if (!this.#live) return;
    this.#live = false;
    if (this.url) URL.revokeObjectURL(this.url);
  }
}

/** A call's (or a whole transaction's) signal and deadline, and the token that carries the signal to the worker. */
export class Limits {
  readonly signal: AbortSignal | undefined;
  readonly #timeoutMs: number | undefined;
  readonly #deadline: number | undefined;
  #token: CancelToken | undefined;
  #unlisten: (() => void) | undefined;

  private constructor(signal: AbortSignal | undefined, timeoutMs: number | undefined) {
    this.signal = signal;
    this.#timeoutMs = timeoutMs;
    this.#deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
  }

  /** Undefined for no options. Throws InvalidInput for a timeoutMs that is not a positive number. */
  static from(options: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined } | undefined): Limits | undefined {
    if (!options || (options.signal === undefined && options.timeoutMs === undefined)) return undefined;
    const { signal, timeoutMs } = options;
    if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0)) {
      throw new ScionError('InvalidInput', `timeoutMs must be a positive number of milliseconds, not ${String(timeoutMs)}.`);
    }
    return new Limits(signal, timeoutMs);
  }

  /** Milliseconds left until the deadline, at least 1; undefined without one. */
  remainingMs(): number | undefined {
    return this.#deadline === undefined ? undefined : Math.max(1, this.#deadline - performance.now());
  }

  /** Throws Interrupted if the signal aborted or the deadline passed. */
  throwIfStopped(): void {
    if (this.signal?.aborted) throw new ScionError('Interrupted', 'The call was cancelled (its AbortSignal) before SQLite ran this statement; nothing more was done.', { reason: 'cancelled' });
    if (this.#deadline !== undefined && performance.now() >= this.#deadline) {
      throw new ScionError('Interrupted', `The call ran past its timeoutMs (${this.#timeoutMs} ms) before SQLite ran this statement; nothing more was done.`, { reason: 'timeout' });
    }
  }

  /** With a signal: the token its abort cancels (made on first use, by `make`). */
  token(make: () => CancelToken): CancelToken | undefined {
    if (!this.signal) return undefined;
    if (!this.#token) {
      const token = make();
      const cancel = () => token.cancel();
      this.signal.addEventListener('abort', cancel);
      this.#unlisten = () => this.signal?.removeEventListener('abort', cancel);
      this.#token = token;
    }
    return this.#token;
  }

  /** The call or transaction ended: its token is no longer needed. */
  release(): CancelToken | undefined {
    this.#unlisten?.();
    const token = this.#token;
    token?.cancel();
    return token;
  }
}
