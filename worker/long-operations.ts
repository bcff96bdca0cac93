// Long operations (push, pull, fetch, hydrate, clone, export, import) that the client may abort and that
// report progress. An AbortSignal cannot cross to the worker, so the client names the operation by a job
// id and sends `abortJob(id)` when its signal aborts; the operation's own AbortController then aborts.
import { getLogger } from '@logtape/logtape';
import { isScionError, ScionError } from '../src/core/index.ts';
import type { JobOptions, JobProgress, LongOperation, Progress } from '../src/protocol/index.ts';
import { CallLimits, type CancelCheck } from './interrupt.ts';

const logger = getLogger(['scion', 'worker']);

/** What an operation under way gets: its signal (undefined when it cannot be aborted) and where progress goes. */
export interface OperationContext {
  readonly signal: AbortSignal | undefined;
  readonly progress: (p: JobProgress) => void;
  /**
   * Blocking: whether the operation was aborted, for synchronous work (SQLite's progress handler) during
   * which no message, hence no abortJob, can arrive: it also polls the job's cancel URL, at most every 40 ms.
   */
  readonly isAborted: () => boolean;
}

/** For a call made inside the worker (autosync, tests): no signal, progress goes nowhere. */
export const NO_OPERATION: OperationContext = { signal: undefined, progress: () => undefined, isAborted: () => false };

/** What an aborted operation left behind, for its error message. */
const LEFT_AS_IT_WAS: Record<LongOperation, string> = {
  push: 'nothing was pushed, or (cut while its commit was written) the next push or pull finds out whether that commit landed and completes it; local data is untouched',
  pull: 'the database was not moved; commit records fetched so far are kept for the next pull',
  fetch: 'commit records fetched so far are kept',
  hydrate: 'the pages fetched so far are kept; hydrate again to fetch the rest',
  clone: 'the database still points at the graft it had',
  export: 'nothing was changed',
  import: 'nothing was committed; the database is as it was',
};

/** Longest wait for the client to take the last progress event before the answer goes. */
const LAST_EVENT_WAIT_MS = 2_000;

/** Ids aborted before their operation arrived (a call queued behind others) are remembered, up to this many. */
const EARLY_ABORTS_KEPT = 256;

export class LongOperations {
  readonly #running = new Map<string, AbortController>();
  readonly #abortedEarly = new Set<string>();
  readonly #isCancelled: CancelCheck;

  /** `isCancelled` tells whether the client revoked a job's cancel URL (worker/interrupt.ts). */
  constructor(isCancelled: CancelCheck) {
    this.#isCancelled = isCancelled;
  }

  /** Aborts the operation named `job` (or, if it has not started yet, marks it to start aborted). */
  abort(job: string): void {
    const running = this.#running.get(job);
    if (running) return running.abort();
    this.#abortedEarly.add(job);
    if (this.#abortedEarly.size > EARLY_ABORTS_KEPT) this.#abortedEarly.delete(this.#abortedEarly.values().next().value as string);
  }

  /**
   * Runs `fn` as the operation `job.job`. An error after its abort becomes Interrupted (`details.reason:
   * 'cancelled'`, `details.operation`), saying what was left; a result that arrived in spite of the abort is
   * returned (it is durable). `onProgress` hears every report; its answer to the last one is awaited
   * (briefly) before the result is returned, and the client adds the final `done`.
   */
  async run<T>(operation: LongOperation, job: JobOptions | undefined, onProgress: ((p: Progress) => unknown) | undefined, fn: (ctx: OperationContext) => Promise<T>): Promise<T> {
    const id = typeof job?.job === 'string' ? job.job : undefined;
    const controller = id === undefined ? undefined : new AbortController();
    if (id !== undefined && controller) {
      this.#running.set(id, controller);
      if (this.#abortedEarly.delete(id)) controller.abort();
    }
    let delivered: Promise<unknown> = Promise.resolve();
    const progress = (p: JobProgress) => {
      if (!onProgress) return;
      const failed = (e: unknown) => logger.warn('an onProgress listener failed: {message}', { message: String(e) });
      try {
        delivered = Promise.resolve(onProgress({ operation, ...p })).catch(failed);
      } catch (e) {
        failed(e);
      }
    };
    const limits = new CallLimits(this.#isCancelled);
    limits.begin({ cancel: typeof job?.cancel === 'string' ? job.cancel : undefined });
    const isAborted = (): boolean => controller?.signal.aborted === true || limits.shouldStop();
    try {
      controller?.signal.throwIfAborted();
      const result = await fn({ signal: controller?.signal, progress, isAborted });
      // Events travel apart from the answer: let the last one arrive first (a listener gone quiet is not waited for long).
      await Promise.race([delivered, new Promise((resolve) => setTimeout(resolve, LAST_EVENT_WAIT_MS))]);
      return result;
    } catch (e) {
      const stopped = limits.end() !== undefined;
      if (!controller?.signal.aborted && !stopped) throw e;
      // An Interrupted naming its operation already says what was left; SQLite's own (its progress handler stopped it) does not.
      if (isScionError(e, 'Interrupted') && e.details?.operation !== undefined) throw e;
      throw new ScionError('Interrupted', `The ${operation} was aborted (its AbortSignal): ${LEFT_AS_IT_WAS[operation]}.`, { reason: 'cancelled', operation }, { cause: e });
    } finally {
      if (id !== undefined) this.#running.delete(id);
    }
  }
}

/** Lets messages in (an abortJob among them) between the chunks of a long synchronous loop. */
export function yieldToMessages(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
