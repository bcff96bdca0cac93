// Writers wait their turn: a call that will write, on a connection with no transaction open, waits (first
// come, first served, per database name) while another connection holds a write transaction, up to its
// timeout; then it fails with ConcurrentWrite having run nothing. Every tab's SQL runs in this worker,
// so the queue is across tabs too.
import { ScionError } from '../src/core/index.ts';

interface Entry {
  readonly handle: number;
  granted: boolean;
  grant(): void;
}

export class WriteQueue {
  readonly #queues = new Map<string, Entry[]>();
  /** Whether a connection other than `handle` holds a write transaction on `name`. */
  readonly #blocked: (name: string, handle: number) => boolean;

  constructor(blocked: (name: string, handle: number) => boolean) {
    this.#blocked = blocked;
  }

  /**
   * Waits for the turn of `handle` on `name`; resolves with the function that ends it (call it when the
   * call is done). Later calls queue behind a turn until it ends. Throws ConcurrentWrite after `timeoutMs`.
   */
  async turn(name: string, handle: number, timeoutMs: number): Promise<() => void> {
    const queue = this.#queues.get(name) ?? [];
    this.#queues.set(name, queue);
    let resolveGrant!: () => void;
    const granted = new Promise<void>((resolve) => (resolveGrant = resolve));
    const entry: Entry = { handle, granted: false, grant: resolveGrant };
    queue.push(entry);
    this.pump(name);
    const end = () => {
      const at = queue.indexOf(entry);
      if (at >= 0) queue.splice(at, 1);
      if (queue.length === 0 && this.#queues.get(name) === queue) this.#queues.delete(name);
      this.pump(name);
    };
    if (!entry.granted) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const outcome = await Promise.race([granted, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout' && !entry.granted) {
        end();
        throw new ScionError('ConcurrentWrite', `Another connection kept its write transaction on "${name}" open for over ${timeoutMs} ms; this write waited and ran nothing. Retry it, or open the database with a longer busyTimeoutMs.`, {
          name, waitedMs: timeoutMs,
        });
      }
    }
    return end;
  }

  /** Gives the head of the queue its turn if no other connection writes now (call after a write transaction may have ended). */
  pump(name: string): void {
    const head = this.#queues.get(name)?.[0];
    if (!head || head.granted || this.#blocked(name, head.handle)) return;
    head.granted = true;
    head.grant();
  }
}
