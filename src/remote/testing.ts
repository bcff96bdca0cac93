// Test support: a Remote that holds chosen requests until the test lets them go, so a test can act
// (abort, close, write) at an exact point of a job. A held request honours its AbortSignal as fetch
// does: it rejects with the signal's reason. Not exported from index.ts.
import type { LSN, SegmentAddress, SegmentId, SharedName, VolumeId } from '../core/index.ts';
import type { ByteRange, CreateOutcome, ListedObject, PlannedRequest, Remote, RequestOptions } from './remote.ts';

type HeldOp = 'getCommit' | 'putCommit' | 'getLatest' | 'putLatest' | 'putSegment' | 'getSegmentRange';

/** One hold: `reached` resolves when a request is held; `release()` lets it (and later ones) go. */
export interface Hold {
  readonly reached: Promise<void>;
  release(): void;
}

export class HeldRemote implements Remote {
  readonly #inner: Remote;
  readonly #holds = new Map<HeldOp, { after: boolean; reached: () => void; released: Promise<void>; release: () => void }>();

  constructor(inner: Remote) {
    this.#inner = inner;
  }

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

  getCommit(vid: VolumeId, lsn: LSN, options?: RequestOptions): Promise<Uint8Array | undefined> {
    return this.#run('getCommit', options, () => this.#inner.getCommit(vid, lsn, options));
  }

  putCommit(vid: VolumeId, lsn: LSN, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome> {
    return this.#run('putCommit', options, () => this.#inner.putCommit(vid, lsn, bytes, options));
  }

  getLatest(vid: VolumeId, options?: RequestOptions): Promise<Uint8Array | undefined> {
    return this.#run('getLatest', options, () => this.#inner.getLatest(vid, options));
  }

  putLatest(vid: VolumeId, bytes: Uint8Array, options?: RequestOptions): Promise<void> {
    return this.#run('putLatest', options, () => this.#inner.putLatest(vid, bytes, options));
  }

  putSegment(vid: VolumeId, sid: SegmentId, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome> {
    return this.#run('putSegment', options, () => this.#inner.putSegment(vid, sid, bytes, options));
  }

  getSegmentRange(at: SegmentAddress, range: ByteRange, options?: RequestOptions): Promise<Uint8Array> {
    return this.#run('getSegmentRange', options, () => this.#inner.getSegmentRange(at, range, options));
  }

  getSegmentRangeSync(at: SegmentAddress, range: ByteRange): Uint8Array {
    return this.#inner.getSegmentRangeSync(at, range);
  }

  async prepare(requests: readonly PlannedRequest[], options?: RequestOptions): Promise<void> {
    await this.#inner.prepare?.(requests, options);
  }

  list(prefix: 'volumes/' | 'segments/', options?: RequestOptions): AsyncIterable<ListedObject> {
    return this.#inner.list(prefix, options);
  }

  deleteSegment(at: SegmentAddress, options?: RequestOptions): Promise<void> {
    return this.#inner.deleteSegment(at, options);
  }

  getName(name: SharedName, options?: RequestOptions): Promise<Uint8Array | undefined> {
    return this.#inner.getName(name, options);
  }

  putName(name: SharedName, vid: VolumeId, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome> {
    return this.#inner.putName(name, vid, bytes, options);
  }

  async #run<T>(op: HeldOp, options: RequestOptions | undefined, request: () => Promise<T>): Promise<T> {
    const hold = this.#holds.get(op);
    if (!hold) return request();
    const result = hold.after ? await request() : undefined;
    hold.reached();
    await new Promise<void>((resolve, reject) => {
      const signal = options?.signal;
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      void hold.released.then(resolve);
    });
    return hold.after ? (result as T) : request();
  }
}
