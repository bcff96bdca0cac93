import type { SegmentAddress } from '../core/index.ts';
import type { ReadStats } from '../protocol/index.ts';
import { ForwardingRemote, type ByteRange, type ListedObject, type Remote, type RemoteCall, type RequestOptions } from '../remote/index.ts';

/**
 * `remote` with every bucket request counted into `stats`: requests, bytes downloaded (frames,
 * commit records, hints) and bytes uploaded, whichever job made them (reads, push, pull, hydrate,
 * recovery). Listings and deletes (GC) count as requests only.
 */
export function countingRemote(remote: Remote, stats: ReadStats): Remote {
  return new CountingRemote(remote, stats);
}

class CountingRemote extends ForwardingRemote {
  readonly #stats: ReadStats;

  constructor(inner: Remote, stats: ReadStats) {
    super(inner);
    this.#stats = stats;
  }

  protected override async send<T>(call: RemoteCall, request: () => Promise<T>): Promise<T> {
    this.#stats.requests++;
    this.#stats.bytesUploaded += call.body?.byteLength ?? 0;
    const answer = await request();
    if (answer instanceof Uint8Array) this.#stats.bytesFetched += answer.byteLength;
    return answer;
  }

  override getSegmentRangeSync(at: SegmentAddress, range: ByteRange): Uint8Array {
    this.#stats.requests++;
    const bytes = this.inner.getSegmentRangeSync(at, range);
    this.#stats.bytesFetched += bytes.byteLength;
    return bytes;
  }

  override list(prefix: 'volumes/' | 'segments/', options?: RequestOptions): AsyncIterable<ListedObject> {
    this.#stats.requests++;
    return this.inner.list(prefix, options);
  }
}
