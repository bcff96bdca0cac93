import { RemoteFork, RemoteName, ScionError, type LSN, type PresignOp, type SharedName, type VolumeId } from '../core/index.ts';
import type { BucketSigner } from './bucket-signer.ts';
import type { NameDirectory } from './grant.ts';

/** Names (and fork records) kept in memory; neither changes once created, so an entry never goes stale. */
const CACHE_MAX = 10_000;

/**
 * Reads shared names, fork records and volume logs from the bucket with the service's own
 * credentials, to apply name and fork grants. A name or fork record found is cached for good (both
 * are create-only); a missing one is read again next time (somebody may create it).
 */
export class BucketNameDirectory implements NameDirectory {
  readonly #signer: BucketSigner;
  readonly #now: () => number;
  readonly #names = new Map<SharedName, VolumeId>();
  readonly #forks = new Map<VolumeId, RemoteFork>();

  constructor(signer: BucketSigner, now: () => number) {
    this.#signer = signer;
    this.#now = now;
  }

  async volumeOf(name: SharedName): Promise<VolumeId | undefined> {
    const cached = this.#names.get(name);
    if (cached) return cached;
    const res = await this.#get(await this.#signer.sign({ op: 'getName', name }, this.#now()));
    if (res.status === 404) return undefined;
    const { vid } = RemoteName.decode(new Uint8Array(await res.arrayBuffer()), name);
    if (this.#names.size >= CACHE_MAX) this.#names.clear();
    this.#names.set(name, vid);
    return vid;
  }

  async forkOf(vid: VolumeId): Promise<RemoteFork | undefined> {
    const cached = this.#forks.get(vid);
    if (cached) return cached;
    const res = await this.#get(await this.#signer.sign({ op: 'getFork', vid }, this.#now()));
    if (res.status === 404) return undefined;
    const fork = RemoteFork.decode(new Uint8Array(await res.arrayBuffer()), vid);
    if (this.#forks.size >= CACHE_MAX) this.#forks.clear();
    this.#forks.set(vid, fork);
    return fork;
  }

  async hasCommit(vid: VolumeId, lsn: LSN): Promise<boolean> {
    const res = await this.#get(await this.#signer.sign({ op: 'getCommit', vid, lsn }, this.#now()));
    await res.body?.cancel();
    return res.status !== 404;
  }

  async isUnused(vid: VolumeId): Promise<boolean> {
    const res = await this.#get(await this.#signer.sign({ op: 'listLog', vid }, this.#now()));
    return !/<Contents>/.test(await res.text());
  }

  /** The body of the object `op` GETs, or undefined if it is absent (reads for `readLog`). */
  async read(op: PresignOp): Promise<Uint8Array | undefined> {
    const res = await this.#get(await this.#signer.sign(op, this.#now()));
    return res.status === 404 ? undefined : new Uint8Array(await res.arrayBuffer());
  }

  /** Bytes [start, end) of the object `op` GETs, or undefined if it is absent (hot frames for `readLog`). */
  async readRange(op: PresignOp, range: { start: number; end: number }): Promise<Uint8Array | undefined> {
    const res = await this.#get(await this.#signer.sign(op, this.#now()), { range: `bytes=${range.start}-${range.end - 1}` });
    if (res.status === 404) return undefined;
    const body = new Uint8Array(await res.arrayBuffer());
    // A bucket that ignores Range answers 200 with the whole object.
    return res.status === 200 ? body.slice(range.start, range.end) : body;
  }

  async #get(req: { url: string; headers: Readonly<Record<string, string>> }, extra: Record<string, string> = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(req.url, { headers: { ...req.headers, ...extra } });
    } catch {
      throw new ScionError('RemoteUnavailable', 'The presign service cannot reach its bucket to read the log or check a name or fork grant. Retry later.');
    }
    if (res.ok || res.status === 404) return res;
    await res.body?.cancel();
    throw new ScionError('RemoteUnavailable', `The bucket answered ${res.status} when the presign service read it (a log, a name or fork grant). Retry later.`, { status: res.status });
  }
}
