import { RemoteKey, type LSN, type RemoteFork, type SegmentAddress, type SegmentId, type SharedName, type VolumeId } from '../core/index.ts';
import type { ByteRange, CreateOutcome, ListedObject, PlannedRequest, Remote, RequestOptions } from './remote.ts';

/** One asynchronous bucket request as a wrapper sees it before it goes on. */
export interface RemoteCall {
  /** The Remote method making it. */
  readonly op: 'getCommit' | 'putCommit' | 'getLatest' | 'putLatest' | 'getCompacted' | 'putCompacted' | 'putSegment' | 'getSegmentRange' | 'getName' | 'putName' | 'deleteSegment' | 'deleteCommit' | 'firstLsn' | 'putFork';
  readonly method: 'GET' | 'PUT' | 'DELETE' | 'LIST';
  /** What kind of object it names. */
  readonly object: 'commit' | 'latest' | 'compacted' | 'segment' | 'name' | 'fork';
  /** The object's layout key. */
  readonly key: string;
  /** The commit's LSN, for commit requests. */
  readonly lsn?: LSN;
  /** The bytes a PUT sends. */
  readonly body?: Uint8Array;
  readonly options?: RequestOptions | undefined;
}

/**
 * A Remote that hands every request to another. Wrappers (offline switch, counters, test holds,
 * simulator schedulers) extend it and override `send`, which every asynchronous request passes
 * through, so a method added to Remote is forwarded in one place. The blocking read, `prepare` and
 * `list` forward as they are unless a wrapper overrides them too.
 */
export class ForwardingRemote implements Remote {
  protected readonly inner: Remote;

  constructor(inner: Remote) {
    this.inner = inner;
  }

  /** Sends `call` on by running `request`; override to count, hold, park or refuse it. */
  protected send<T>(_call: RemoteCall, request: () => Promise<T>): Promise<T> {
    return request();
  }

  getCommit(vid: VolumeId, lsn: LSN, options?: RequestOptions): Promise<Uint8Array | undefined> {
    return this.send({ op: 'getCommit', method: 'GET', object: 'commit', key: RemoteKey.commit(vid, lsn), lsn, options }, () => this.inner.getCommit(vid, lsn, options));
  }

  putCommit(vid: VolumeId, lsn: LSN, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome> {
    return this.send({ op: 'putCommit', method: 'PUT', object: 'commit', key: RemoteKey.commit(vid, lsn), lsn, body: bytes, options }, () => this.inner.putCommit(vid, lsn, bytes, options));
  }

  getLatest(vid: VolumeId, options?: RequestOptions): Promise<Uint8Array | undefined> {
    return this.send({ op: 'getLatest', method: 'GET', object: 'latest', key: RemoteKey.latest(vid), options }, () => this.inner.getLatest(vid, options));
  }

  putLatest(vid: VolumeId, bytes: Uint8Array, options?: RequestOptions): Promise<void> {
    return this.send({ op: 'putLatest', method: 'PUT', object: 'latest', key: RemoteKey.latest(vid), body: bytes, options }, () => this.inner.putLatest(vid, bytes, options));
  }

  firstLsn(vid: VolumeId, options?: RequestOptions & { after?: LSN | undefined }): Promise<LSN | undefined> {
    return this.send({ op: 'firstLsn', method: 'LIST', object: 'commit', key: RemoteKey.logPrefix(vid), options }, () => this.inner.firstLsn(vid, options));
  }

  putFork(fork: RemoteFork, options?: RequestOptions): Promise<CreateOutcome> {
    return this.send({ op: 'putFork', method: 'PUT', object: 'fork', key: RemoteKey.fork(fork.vid), options }, () => this.inner.putFork(fork, options));
  }

  putSegment(vid: VolumeId, sid: SegmentId, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome> {
    return this.send({ op: 'putSegment', method: 'PUT', object: 'segment', key: RemoteKey.segment({ sid, home: vid }), body: bytes, options }, () => this.inner.putSegment(vid, sid, bytes, options));
  }

  getSegmentRange(at: SegmentAddress, range: ByteRange, options?: RequestOptions): Promise<Uint8Array> {
    return this.send({ op: 'getSegmentRange', method: 'GET', object: 'segment', key: RemoteKey.segment(at), options }, () => this.inner.getSegmentRange(at, range, options));
  }

  getCompacted(vid: VolumeId, options?: RequestOptions): Promise<Uint8Array | undefined> {
    return this.send({ op: 'getCompacted', method: 'GET', object: 'compacted', key: RemoteKey.compacted(vid), options }, () => this.inner.getCompacted(vid, options));
  }

  putCompacted(vid: VolumeId, bytes: Uint8Array, options?: RequestOptions): Promise<void> {
    return this.send({ op: 'putCompacted', method: 'PUT', object: 'compacted', key: RemoteKey.compacted(vid), body: bytes, options }, () => this.inner.putCompacted(vid, bytes, options));
  }

  getName(name: SharedName, options?: RequestOptions): Promise<Uint8Array | undefined> {
    return this.send({ op: 'getName', method: 'GET', object: 'name', key: RemoteKey.name(name), options }, () => this.inner.getName(name, options));
  }

  putName(name: SharedName, vid: VolumeId, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome> {
    return this.send({ op: 'putName', method: 'PUT', object: 'name', key: RemoteKey.name(name), body: bytes, options }, () => this.inner.putName(name, vid, bytes, options));
  }

  deleteSegment(at: SegmentAddress, options?: RequestOptions): Promise<void> {
    return this.send({ op: 'deleteSegment', method: 'DELETE', object: 'segment', key: RemoteKey.segment(at), options }, () => this.inner.deleteSegment(at, options));
  }

  deleteCommit(vid: VolumeId, lsn: LSN, options?: RequestOptions): Promise<void> {
    return this.send({ op: 'deleteCommit', method: 'DELETE', object: 'commit', key: RemoteKey.commit(vid, lsn), lsn, options }, () => this.inner.deleteCommit(vid, lsn, options));
  }

  getSegmentRangeSync(at: SegmentAddress, range: ByteRange): Uint8Array {
    return this.inner.getSegmentRangeSync(at, range);
  }

  async prepare(requests: readonly PlannedRequest[], options?: RequestOptions): Promise<void> {
    await this.inner.prepare?.(requests, options);
  }

  list(prefix: 'volumes/' | 'segments/', options?: RequestOptions): AsyncIterable<ListedObject> {
    return this.inner.list(prefix, options);
  }
}
