// A remote that can be switched off: the demo's "offline" switch and tests of offline behaviour.
// While off, every call fails with RemoteUnavailable before any request leaves the worker, exactly as an
// unreachable bucket or presign service would make it fail (reads of unfetched pages become PageNotLocal).
import { RemoteKey, ScionError, type LSN, type SegmentAddress, type SegmentId, type SharedName, type VolumeId } from '../src/core/index.ts';
import type { ByteRange, CreateOutcome, ListedObject, PlannedRequest, Remote, RemoteRequestEvent, RequestOptions } from '../src/remote/index.ts';

export class OfflineRemote implements Remote {
  readonly #inner: Remote;
  readonly #onRefused: (e: RemoteRequestEvent) => void;
  #offline = false;

  /** `onRefused` hears about each call refused while offline (status 0, no bytes). */
  constructor(inner: Remote, onRefused: (e: RemoteRequestEvent) => void = () => undefined) {
    this.#inner = inner;
    this.#onRefused = onRefused;
  }

  get offline(): boolean {
    return this.#offline;
  }

  set offline(offline: boolean) {
    this.#offline = offline;
  }

  getCommit(vid: VolumeId, lsn: LSN, options?: RequestOptions): Promise<Uint8Array | undefined> {
    return this.#async('GET', RemoteKey.commit(vid, lsn), () => this.#inner.getCommit(vid, lsn, options));
  }

  putCommit(vid: VolumeId, lsn: LSN, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome> {
    return this.#async('PUT', RemoteKey.commit(vid, lsn), () => this.#inner.putCommit(vid, lsn, bytes, options));
  }

  getName(name: SharedName, options?: RequestOptions): Promise<Uint8Array | undefined> {
    return this.#async('GET', RemoteKey.name(name), () => this.#inner.getName(name, options));
  }

  putName(name: SharedName, vid: VolumeId, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome> {
    return this.#async('PUT', RemoteKey.name(name), () => this.#inner.putName(name, vid, bytes, options));
  }

  getLatest(vid: VolumeId, options?: RequestOptions): Promise<Uint8Array | undefined> {
    return this.#async('GET', RemoteKey.latest(vid), () => this.#inner.getLatest(vid, options));
  }

  putLatest(vid: VolumeId, bytes: Uint8Array, options?: RequestOptions): Promise<void> {
    return this.#async('PUT', RemoteKey.latest(vid), () => this.#inner.putLatest(vid, bytes, options));
  }

  putSegment(vid: VolumeId, sid: SegmentId, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome> {
    return this.#async('PUT', RemoteKey.segment({ sid, home: vid }), () => this.#inner.putSegment(vid, sid, bytes, options));
  }

  getSegmentRange(at: SegmentAddress, range: ByteRange, options?: RequestOptions): Promise<Uint8Array> {
    return this.#async('GET', RemoteKey.segment(at), () => this.#inner.getSegmentRange(at, range, options));
  }

  getSegmentRangeSync(at: SegmentAddress, range: ByteRange): Uint8Array {
    this.#check('GET', RemoteKey.segment(at), true);
    return this.#inner.getSegmentRangeSync(at, range);
  }

  async prepare(requests: readonly PlannedRequest[], options?: RequestOptions): Promise<void> {
    // Only a hint: offline there is nothing to prepare, and the requests themselves will fail.
    if (!this.#offline) await this.#inner.prepare?.(requests, options);
  }

  async *list(prefix: 'volumes/' | 'segments/', options?: RequestOptions): AsyncIterable<ListedObject> {
    this.#check('GET', prefix, false);
    yield* this.#inner.list(prefix, options);
  }

  deleteSegment(at: SegmentAddress, options?: RequestOptions): Promise<void> {
    return this.#async('DELETE', RemoteKey.segment(at), () => this.#inner.deleteSegment(at, options));
  }

  async #async<T>(method: string, key: string, run: () => Promise<T>): Promise<T> {
    this.#check(method, key, false);
    return run();
  }

  #check(method: string, key: string, sync: boolean): void {
    if (!this.#offline) return;
    this.#onRefused({ method, key, status: 0, bytes: 0, ms: 0, sync });
    throw new ScionError('RemoteUnavailable', `The bucket is unreachable: this device is offline (${method} ${key}). Retry when online.`, { key });
  }
}
