import { LSN, RemoteFork, RemoteKey, ScionError, type SegmentAddress, type SegmentId, type SharedName, type VolumeId } from '../core/index.ts';
import { missingSegment, type ByteRange, type CreateOutcome, type ListedObject, type Remote, type RemoteRequestEvent } from './remote.ts';

interface StoredObject {
  readonly bytes: Uint8Array;
  readonly lastModified: number;
}

export interface MemoryRemoteOptions {
  /** Clock for lastModified (GC grace periods); injectable for tests. */
  now?: () => number;
  onRequest?: (e: RemoteRequestEvent) => void;
}

/**
 * A bucket in memory with the semantics Scion relies on: create-only PUTs, ranged reads, listings.
 * Several runtimes may share one instance; `objects` is exposed so tests can inspect or damage it.
 */
export class MemoryRemote implements Remote {
  readonly objects = new Map<string, StoredObject>();
  readonly #now: () => number;
  readonly #onRequest: ((e: RemoteRequestEvent) => void) | undefined;
  #online = true;

  constructor(options: MemoryRemoteOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#onRequest = options.onRequest;
  }

  /** Simulates losing the network: every request fails with RemoteUnavailable. */
  setOnline(online: boolean): void {
    this.#online = online;
  }

  async getCommit(vid: VolumeId, lsn: LSN): Promise<Uint8Array | undefined> {
    return this.#get('GET', RemoteKey.commit(vid, lsn))?.slice();
  }

  async putCommit(vid: VolumeId, lsn: LSN, bytes: Uint8Array): Promise<CreateOutcome> {
    return this.#create(RemoteKey.commit(vid, lsn), bytes);
  }

  async getLatest(vid: VolumeId): Promise<Uint8Array | undefined> {
    return this.#get('GET', RemoteKey.latest(vid))?.slice();
  }

  async putLatest(vid: VolumeId, bytes: Uint8Array): Promise<void> {
    const key = RemoteKey.latest(vid);
    this.#check('PUT', key);
    this.objects.set(key, { bytes: bytes.slice(), lastModified: this.#now() });
    this.#onRequest?.({ method: 'PUT', key, status: 200, bytes: bytes.byteLength, ms: 0, sync: false });
  }

  async getCompacted(vid: VolumeId): Promise<Uint8Array | undefined> {
    return this.#get('GET', RemoteKey.compacted(vid))?.slice();
  }

  async putCompacted(vid: VolumeId, bytes: Uint8Array): Promise<void> {
    const key = RemoteKey.compacted(vid);
    this.#check('PUT', key);
    this.objects.set(key, { bytes: bytes.slice(), lastModified: this.#now() });
    this.#onRequest?.({ method: 'PUT', key, status: 200, bytes: bytes.byteLength, ms: 0, sync: false });
  }

  async putSegment(vid: VolumeId, sid: SegmentId, bytes: Uint8Array): Promise<CreateOutcome> {
    return this.#create(RemoteKey.segment({ sid, home: vid }), bytes);
  }

  async firstLsn(vid: VolumeId, options?: { after?: LSN | undefined }): Promise<LSN | undefined> {
    const prefix = RemoteKey.logPrefix(vid);
    this.#check('LIST', prefix);
    const after = options?.after === undefined ? '' : RemoteKey.commit(vid, options.after);
    const first = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort()[0];
    this.#onRequest?.({ method: 'GET', key: prefix, status: 200, bytes: 0, ms: 0, sync: false });
    return first === undefined ? undefined : LSN.parse(first.slice(prefix.length));
  }

  async putFork(fork: RemoteFork): Promise<CreateOutcome> {
    return this.#create(RemoteKey.fork(fork.vid), RemoteFork.encode(fork));
  }

  async getName(name: SharedName): Promise<Uint8Array | undefined> {
    return this.#get('GET', RemoteKey.name(name))?.slice();
  }

  async putName(name: SharedName, _vid: VolumeId, bytes: Uint8Array): Promise<CreateOutcome> {
    return this.#create(RemoteKey.name(name), bytes);
  }

  async getSegmentRange(at: SegmentAddress, range: ByteRange): Promise<Uint8Array> {
    return this.getSegmentRangeSync(at, range);
  }

  getSegmentRangeSync(at: SegmentAddress, range: ByteRange): Uint8Array {
    const key = RemoteKey.segment(at);
    this.#check('GET', key);
    const object = this.objects.get(key)?.bytes;
    const body = object?.slice(range.start, range.end);
    this.#onRequest?.({ method: 'GET', key, status: body ? 206 : 404, bytes: body?.byteLength ?? 0, ms: 0, sync: true });
    if (!body) throw missingSegment(key);
    // As a bucket answers a range past the end: fewer bytes than asked for, which is never a page.
    if (body.byteLength !== range.end - range.start) {
      throw new ScionError('Corrupt', `A ranged read of ${key} returned ${body.byteLength} bytes where ${range.end - range.start} were asked for.`, { key });
    }
    return body;
  }

  async *list(prefix: 'volumes/' | 'segments/'): AsyncIterable<ListedObject> {
    this.#check('LIST', prefix);
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) {
      const o = this.objects.get(key);
      if (o) yield { key, size: o.bytes.byteLength, lastModified: o.lastModified };
    }
  }

  async deleteSegment(at: SegmentAddress): Promise<void> {
    const key = RemoteKey.segment(at);
    this.#check('DELETE', key);
    this.objects.delete(key);
  }

  async deleteCommit(vid: VolumeId, lsn: LSN): Promise<void> {
    const key = RemoteKey.commit(vid, lsn);
    this.#check('DELETE', key);
    this.objects.delete(key);
  }

  #get(method: string, key: string): Uint8Array | undefined {
    this.#check(method, key);
    const bytes = this.objects.get(key)?.bytes;
    this.#onRequest?.({ method, key, status: bytes ? 200 : 404, bytes: bytes?.byteLength ?? 0, ms: 0, sync: false });
    return bytes;
  }

  #create(key: string, bytes: Uint8Array): CreateOutcome {
    this.#check('PUT', key);
    const exists = this.objects.has(key);
    if (!exists) this.objects.set(key, { bytes: bytes.slice(), lastModified: this.#now() });
    this.#onRequest?.({ method: 'PUT', key, status: exists ? 412 : 200, bytes: bytes.byteLength, ms: 0, sync: false });
    return exists ? 'exists' : 'created';
  }

  #check(method: string, key: string): void {
    if (!this.#online) throw new ScionError('RemoteUnavailable', `The remote is unreachable (${method} ${key}). Retry when online.`, { key });
  }
}

