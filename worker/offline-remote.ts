// A remote that can be switched off: the demo's "offline" switch and tests of offline behaviour.
// While off, every call fails with RemoteUnavailable before any request leaves the worker, exactly as an
// unreachable bucket or presign service would make it fail (reads of unfetched pages become PageNotLocal).
import { RemoteKey, ScionError, type SegmentAddress } from '../src/core/index.ts';
import { ForwardingRemote, type ByteRange, type ListedObject, type PlannedRequest, type Remote, type RemoteCall, type RemoteRequestEvent, type RequestOptions } from '../src/remote/index.ts';

export class OfflineRemote extends ForwardingRemote {
  readonly #onRefused: (e: RemoteRequestEvent) => void;
  #offline = false;

  /** `onRefused` hears about each call refused while offline (status 0, no bytes). */
  constructor(inner: Remote, onRefused: (e: RemoteRequestEvent) => void = () => undefined) {
    super(inner);
    this.#onRefused = onRefused;
  }

  get offline(): boolean {
    return this.#offline;
  }

  set offline(offline: boolean) {
    this.#offline = offline;
  }

  protected override async send<T>(call: RemoteCall, request: () => Promise<T>): Promise<T> {
    this.#check(call.method, call.key, false);
    return request();
  }

  override getSegmentRangeSync(at: SegmentAddress, range: ByteRange): Uint8Array {
    this.#check('GET', RemoteKey.segment(at), true);
    return this.inner.getSegmentRangeSync(at, range);
  }

  override async prepare(requests: readonly PlannedRequest[], options?: RequestOptions): Promise<void> {
    // Only a hint: offline there is nothing to prepare, and the requests themselves will fail.
    if (!this.#offline) await this.inner.prepare?.(requests, options);
  }

  override async *list(prefix: 'volumes/' | 'segments/', options?: RequestOptions): AsyncIterable<ListedObject> {
    this.#check('GET', prefix, false);
    yield* this.inner.list(prefix, options);
  }

  #check(method: string, key: string, sync: boolean): void {
    if (!this.#offline) return;
    this.#onRefused({ method, key, status: 0, bytes: 0, ms: 0, sync });
    throw new ScionError('RemoteUnavailable', `The bucket is unreachable: this device is offline (${method} ${key}). Retry when online.`, { key });
  }
}
