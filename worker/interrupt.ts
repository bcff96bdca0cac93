// Stopping SQL that runs too long. SQLite runs synchronously in this worker, so no message can arrive
// while it works: SQLite's progress handler asks instead, every few thousand VM steps, whether the call
// ran past its deadline or was cancelled. Cancelling needs no SharedArrayBuffer: the client names each
// call by a blob: URL it created and revokes to cancel; a synchronous request for a revoked URL fails.
import type { SqlOptions } from '../src/protocol/index.ts';

/** Whether the client cancelled the call named by `token`. Blocking; called at most every CHECK_EVERY_MS. */
export type CancelCheck = (token: string) => boolean;

/** SQLite VM steps between two progress-handler calls. */
export const PROGRESS_STEPS = 4000;
/** Cancel tokens are checked at most this often, and not in a call's first such interval. */
const CHECK_EVERY_MS = 40;

/** Why a call was stopped. */
export type StopReason = { readonly kind: 'timeout'; readonly ms: number } | { readonly kind: 'cancelled' };

/** The limits of the one call a connection runs now; its progress handler consults it. */
export class CallLimits {
  readonly #isCancelled: CancelCheck;
  #deadline = Infinity;
  #timeoutMs = 0;
  #token: string | undefined;
  #nextCheck = Infinity;
  #stopped: StopReason | undefined;

  constructor(isCancelled: CancelCheck) {
    this.#isCancelled = isCancelled;
  }

  /** Limits for the call about to run (nothing set: no limit). */
  begin(options: SqlOptions | undefined): void {
    const now = performance.now();
    const ms = options?.timeoutMs;
    this.#timeoutMs = typeof ms === 'number' && ms > 0 ? ms : 0;
    this.#deadline = this.#timeoutMs > 0 ? now + this.#timeoutMs : Infinity;
    this.#token = typeof options?.cancel === 'string' ? options.cancel : undefined;
    this.#nextCheck = this.#token ? now + CHECK_EVERY_MS : Infinity;
    this.#stopped = undefined;
  }

  /** The call ended: returns why it was stopped, if it was. */
  end(): StopReason | undefined {
    const stopped = this.#stopped;
    this.begin(undefined);
    return stopped;
  }

  /** The progress handler's answer: true stops SQLite (SQLITE_INTERRUPT). */
  shouldStop(): boolean {
    if (this.#stopped) return true;
    const now = performance.now();
    if (now >= this.#deadline) this.#stopped = { kind: 'timeout', ms: this.#timeoutMs };
    else if (now >= this.#nextCheck) {
      this.#nextCheck = now + CHECK_EVERY_MS;
      if (this.#isCancelled(this.#token as string)) this.#stopped = { kind: 'cancelled' };
    }
    return this.#stopped !== undefined;
  }
}

/** The default check: a synchronous GET of the call's blob: URL fails once the client revoked it. */
export function isBlobUrlRevoked(token: string): boolean {
  if (typeof XMLHttpRequest === 'undefined' || !token.startsWith('blob:')) return false;
  const xhr = new XMLHttpRequest();
  try {
    xhr.open('GET', token, false);
    xhr.send();
    return xhr.status !== 200;
  } catch {
    return true;
  }
}
