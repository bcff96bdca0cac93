import { getLogger } from '@logtape/logtape';
import pLimit from 'p-limit';
import { backoffMs, LSN, RemoteFork, RemoteKey, ScionError, segmentGetOp, UploadBody, type PresignedRequest, type PresignOp, type SegmentAddress, type SegmentId, type SharedName, type VolumeId } from '../core/index.ts';
import { PresignClient, type PresignClientOptions } from './presign-client.ts';
import { missingSegment, type ByteRange, type CreateOutcome, type ListedObject, type PlannedRequest, type Remote, type RemoteRequestEvent, type RequestOptions } from './remote.ts';
import { RETRY_DEFAULTS, sleep, type RetryPolicy } from './retry.ts';

export interface S3RemoteOptions {
  /** The presign service (or a client for it, shared between remotes). */
  presign: PresignClientOptions | PresignClient;
  /** Requests in flight at once. Default 6. */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  onRequest?: (e: RemoteRequestEvent) => void;
}

const logger = getLogger(['scion', 'remote']);

/** What a response meant, before it becomes a value or an error. */
type Outcome = { kind: 'ok'; status: number; body: Uint8Array } | { kind: 'missing' } | { kind: 'exists' };

/** What to do after one attempt: the one policy of the async and the blocking path. */
type Verdict = { next: 'answer'; outcome: Outcome } | { next: 'resign' } | { next: 'retry' } | { next: 'fail'; error: ScionError };

/**
 * 2xx answers, 404 (and 416: a range past the end) is missing, 412 exists; the first 403 re-signs
 * (an expired or skewed URL); network errors, 5xx and 429 retry while attempts are left; anything
 * else fails.
 */
function verdictOf(status: number, body: Uint8Array, key: string, attempt: number, attempts: number, refused: boolean): Verdict {
  if (status >= 200 && status < 300) return { next: 'answer', outcome: { kind: 'ok', status, body } };
  if (status === 404 || status === 416) return { next: 'answer', outcome: { kind: 'missing' } };
  if (status === 412) return { next: 'answer', outcome: { kind: 'exists' } };
  if (status === 403 && !refused) return { next: 'resign' };
  if ((status === 0 || status >= 500 || status === 429) && attempt + 1 < attempts) return { next: 'retry' };
  return { next: 'fail', error: failure(status, key, refused) };
}

function failure(status: number, key: string, refused: boolean): ScionError {
  if (status === 403) {
    return new ScionError(refused ? 'UrlExpired' : 'Forbidden', `The bucket refused ${key} (403) even with a freshly signed URL. Check the presign service's credentials and the clock.`, { key, status });
  }
  if (status === 0) return new ScionError('RemoteUnavailable', `The bucket is unreachable (${key}). Retry when online.`, { key });
  return new ScionError('RemoteUnavailable', `The bucket answered ${status} for ${key}. Retry later.`, { key, status });
}

/** Attempts of a blocking read: it cannot sleep between them, so it retries at once, a little. */
const SYNC_ATTEMPTS = 3;

/**
 * The bucket through presigned URLs: fetch with bounded concurrency, retries with backoff and
 * jitter on network errors and 5xx only, one re-sign when the bucket refuses a URL (expiry, skew),
 * and synchronous XHR range reads for the DB worker.
 */
export class S3Remote implements Remote {
  readonly presign: PresignClient;
  readonly #limit: ReturnType<typeof pLimit>;
  readonly #retry: RetryPolicy;
  readonly #onRequest: ((e: RemoteRequestEvent) => void) | undefined;

  constructor(options: S3RemoteOptions) {
    this.presign = options.presign instanceof PresignClient ? options.presign : new PresignClient(options.presign);
    this.#limit = pLimit(options.concurrency ?? 6);
    this.#retry = { ...RETRY_DEFAULTS, ...options.retry };
    this.#onRequest = options.onRequest;
  }

  async getCommit(vid: VolumeId, lsn: LSN, options?: RequestOptions): Promise<Uint8Array | undefined> {
    const read = this.presign.takeRead(RemoteKey.commit(vid, lsn));
    if (read) return read.body;
    const r = await this.#send({ op: 'getCommit', vid, lsn }, {}, options);
    return r.kind === 'ok' ? r.body : undefined;
  }

  async putCommit(vid: VolumeId, lsn: LSN, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome> {
    const r = await this.#send({ op: 'putCommit', vid, lsn, upload: await uploadOf(bytes) }, { body: bytes }, options);
    return r.kind === 'exists' ? 'exists' : 'created';
  }

  async getLatest(vid: VolumeId, options?: RequestOptions): Promise<Uint8Array | undefined> {
    const read = this.presign.takeRead(RemoteKey.latest(vid));
    if (read) return read.body;
    const r = await this.#send({ op: 'getLatest', vid }, {}, options);
    return r.kind === 'ok' ? r.body : undefined;
  }

  async putLatest(vid: VolumeId, bytes: Uint8Array, options?: RequestOptions): Promise<void> {
    await this.#send({ op: 'putLatest', vid, upload: await uploadOf(bytes) }, { body: bytes }, options);
  }

  async getCompacted(vid: VolumeId, options?: RequestOptions): Promise<Uint8Array | undefined> {
    const read = this.presign.takeRead(RemoteKey.compacted(vid));
    if (read) return read.body;
    const r = await this.#send({ op: 'getCompacted', vid }, {}, options);
    return r.kind === 'ok' ? r.body : undefined;
  }

  async putCompacted(vid: VolumeId, bytes: Uint8Array, options?: RequestOptions): Promise<void> {
    await this.#send({ op: 'putCompacted', vid, upload: await uploadOf(bytes) }, { body: bytes }, options);
  }

  async putSegment(vid: VolumeId, sid: SegmentId, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome> {
    const r = await this.#send({ op: 'putSegment', vid, sid, upload: await uploadOf(bytes) }, { body: bytes }, options);
    return r.kind === 'exists' ? 'exists' : 'created';
  }

  async firstLsn(vid: VolumeId, options?: RequestOptions & { after?: LSN | undefined }): Promise<LSN | undefined> {
    const prefix = RemoteKey.logPrefix(vid);
    const after = options?.after === undefined ? {} : { after: RemoteKey.commit(vid, options.after) };
    const r = await this.#send({ op: 'listLog', vid, ...after }, {}, options);
    const first = parseListing(new TextDecoder().decode(this.#expectBody(r, prefix)), prefix).objects[0]?.key;
    return first === undefined ? undefined : LSN.parse(first.slice(prefix.length));
  }

  async putFork(fork: RemoteFork, options?: RequestOptions): Promise<CreateOutcome> {
    const r = await this.#send({ op: 'putFork', ...fork }, { body: RemoteFork.encode(fork) }, options);
    return r.kind === 'exists' ? 'exists' : 'created';
  }

  async getName(name: SharedName, options?: RequestOptions): Promise<Uint8Array | undefined> {
    const r = await this.#send({ op: 'getName', name }, {}, options);
    return r.kind === 'ok' ? r.body : undefined;
  }

  async putName(name: SharedName, vid: VolumeId, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome> {
    const r = await this.#send({ op: 'putName', name, vid }, { body: bytes }, options);
    return r.kind === 'exists' ? 'exists' : 'created';
  }

  async getSegmentRange(at: SegmentAddress, range: ByteRange, options?: RequestOptions): Promise<Uint8Array> {
    const op = segmentGetOp(at);
    // A clone's hot frames may have come with its readLog (checked by the caller, as any body).
    return this.presign.takeRange(RemoteKey.ofOp(op), range) ?? rangeOf(await this.#send(op, { range }, options), range, RemoteKey.ofOp(op));
  }

  getSegmentRangeSync(at: SegmentAddress, range: ByteRange): Uint8Array {
    if (typeof XMLHttpRequest === 'undefined') {
      throw new ScionError('RemoteUnavailable', 'Synchronous reads need XMLHttpRequest (a browser dedicated worker). Hydrate ahead with the async API instead.');
    }
    const op = segmentGetOp(at);
    const key = RemoteKey.ofOp(op);
    let refused = false;
    for (let attempt = 0; ; attempt++) {
      const [req] = this.presign.signSync([op]) as [PresignedRequest];
      const started = performance.now();
      const xhr = new XMLHttpRequest();
      let status = 0;
      try {
        xhr.open('GET', req.url, false);
        xhr.responseType = 'arraybuffer';
        for (const [k, v] of Object.entries(req.headers)) xhr.setRequestHeader(k, v);
        xhr.setRequestHeader('range', rangeHeader(range));
        xhr.send();
        status = xhr.status;
      } catch {
        status = 0;
      }
      const body = status === 200 || status === 206 ? new Uint8Array(xhr.response as ArrayBuffer) : new Uint8Array();
      this.#report('GET', key, status, body.byteLength, started, true);
      const verdict = verdictOf(status, body, key, attempt, SYNC_ATTEMPTS, refused);
      if (verdict.next === 'answer') return rangeOf(verdict.outcome, range, key);
      if (verdict.next === 'fail') throw verdict.error;
      if (verdict.next === 'resign') {
        refused = true;
        this.presign.invalidate(op);
      }
    }
  }

  async prepare(requests: readonly PlannedRequest[], options?: RequestOptions): Promise<void> {
    if (requests.length > 0) await this.presign.sign(await Promise.all(requests.map(presignOpOf)), options);
  }

  async *list(prefix: 'volumes/' | 'segments/', options?: RequestOptions): AsyncIterable<ListedObject> {
    let after: string | undefined;
    for (;;) {
      const op: PresignOp = prefix === 'volumes/' ? { op: 'listVolumes', after } : { op: 'listSegments', after };
      const r = await this.#send(op, {}, options);
      const page = parseListing(new TextDecoder().decode(this.#expectBody(r, prefix)), prefix);
      for (const o of page.objects) yield o;
      if (!page.truncated || page.objects.length === 0) return;
      after = page.objects.at(-1)?.key;
    }
  }

  async deleteSegment(at: SegmentAddress, options?: RequestOptions): Promise<void> {
    await this.#send({ op: 'deleteSegment', sid: at.sid, ...(at.home ? { vid: at.home } : {}) }, {}, options);
  }

  async deleteCommit(vid: VolumeId, lsn: LSN, options?: RequestOptions): Promise<void> {
    await this.#send({ op: 'deleteCommit', vid, lsn }, {}, options);
  }

  #expectBody(r: Outcome, what: string): Uint8Array {
    if (r.kind === 'ok') return r.body;
    throw new ScionError('RemoteUnavailable', `${what} is missing from the remote. The remote volume may have been deleted: switch the graft to another remote.`, { key: what });
  }

  async #send(op: PresignOp, init: { body?: Uint8Array; range?: ByteRange }, options: RequestOptions = {}): Promise<Outcome> {
    // Signed before waiting for a slot: concurrent requests then share one presign round trip.
    await this.presign.sign([op], options);
    // The layout's key (not the URL's path, which starts with the bucket and prefix), as the blocking path reports it.
    const key = RemoteKey.ofOp(op);
    return this.#limit(async () => {
      let refused = false;
      for (let attempt = 0; ; attempt++) {
        const [req] = (await this.presign.sign([op], options)) as [PresignedRequest];
        const started = performance.now();
        let res: Response | undefined;
        try {
          res = await fetch(req.url, {
            method: req.method,
            headers: { ...sendableHeaders(req.headers), ...(init.range ? { range: rangeHeader(init.range) } : {}) },
            body: (init.body as Uint8Array<ArrayBuffer> | undefined) ?? null,
            signal: options.signal ?? null,
          });
        } catch (e) {
          if (options.signal?.aborted) throw e;
        }
        const status = res?.status ?? 0;
        const read = res !== undefined && (status === 200 || status === 206) && req.method === 'GET';
        // An unread body is cancelled to free the connection; a read one (even if empty) is already consumed.
        const body = read ? new Uint8Array(await (res as Response).arrayBuffer()) : new Uint8Array();
        if (res && !read) await res.body?.cancel();
        this.#report(req.method, key, status, init.body?.byteLength ?? body.byteLength, started, false);
        const verdict = verdictOf(status, body, key, attempt, this.#retry.attempts, refused);
        if (verdict.next === 'answer') return verdict.outcome;
        if (verdict.next === 'fail') throw verdict.error;
        if (verdict.next === 'resign') {
          refused = true;
          this.presign.invalidate(op);
        } else await sleep(backoffMs({ firstMs: this.#retry.baseMs, maxMs: this.#retry.maxMs, jitter: 1 }, attempt, Math.random()), options.signal);
      }
    });
  }

  #report(method: string, key: string, status: number, bytes: number, started: number, sync: boolean): void {
    const e: RemoteRequestEvent = { method, key, status, bytes, ms: Math.round((performance.now() - started) * 10) / 10, sync };
    logger.debug('{method} {key} {status}', { ...e });
    this.#onRequest?.(e);
  }
}

const uploads = new WeakMap<Uint8Array, Promise<UploadBody>>();

/** The body's length and digests, computed once per body (a push plans its uploads, then sends them). */
function uploadOf(bytes: Uint8Array): Promise<UploadBody> {
  let upload = uploads.get(bytes);
  if (!upload) uploads.set(bytes, (upload = UploadBody.compute(bytes)));
  return upload;
}

/** What the presign service signs for a planned request. */
async function presignOpOf(r: PlannedRequest): Promise<PresignOp> {
  switch (r.op) {
    case 'getCommit':
      return { op: r.op, vid: r.vid, lsn: r.lsn };
    case 'getLatest':
    case 'getCompacted':
      return { op: r.op, vid: r.vid };
    case 'readLog':
      return { op: r.op, vid: r.vid, from: r.from };
    case 'getSegment':
      return segmentGetOp(r.at);
    case 'putCommit':
      return { op: r.op, vid: r.vid, lsn: r.lsn, upload: await uploadOf(r.bytes) };
    case 'putLatest':
      return { op: r.op, vid: r.vid, upload: await uploadOf(r.bytes) };
    case 'putSegment':
      return { op: r.op, vid: r.vid, sid: r.sid, upload: await uploadOf(r.bytes) };
    case 'putFork':
      return { op: r.op, ...r.fork };
  }
}


/**
 * Signed headers minus Content-Length, which the fetch layer derives from the body (browsers refuse
 * to set it); the bucket still checks it against the signature.
 */
function sendableHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'content-length'));
}

function rangeHeader(r: ByteRange): string {
  return `bytes=${r.start}-${r.end - 1}`;
}

/** The bytes of a ranged segment read; a missing segment (or range past its end) is Corrupt: a commit names it. */
function rangeOf(outcome: Outcome, range: ByteRange, key: string): Uint8Array {
  if (outcome.kind !== 'ok') throw missingSegment(key);
  return sliceRange(outcome.body, range, outcome.status);
}

/** A server that ignores Range answers 200 with the whole object: cut the range out. */
function sliceRange(body: Uint8Array, range: ByteRange, status = 206): Uint8Array {
  if (status === 200 && body.byteLength > range.end - range.start) return body.slice(range.start, range.end);
  if (body.byteLength !== range.end - range.start) {
    throw new ScionError('Corrupt', `A ranged read returned ${body.byteLength} bytes where ${range.end - range.start} were asked for.`);
  }
  return body;
}

/**
 * ListObjectsV2 XML, parsed without DOMParser (workers have none); our keys need no entity decoding.
 * Keys come back with the bucket's prefix (`tenant/volumes/…`): it is cut so keys match the layout.
 */
export function parseListing(xml: string, layoutPrefix: string): { objects: ListedObject[]; truncated: boolean } {
  const requested = /<Prefix>([^<]*)<\/Prefix>/.exec(xml)?.[1] ?? layoutPrefix;
  const root = requested.endsWith(layoutPrefix) ? requested.slice(0, requested.length - layoutPrefix.length) : '';
  const objects: ListedObject[] = [];
  for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const part = m[1] as string;
    const tag = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(part)?.[1];
    const key = tag('Key');
    if (key === undefined) continue;
    objects.push({ key: key.startsWith(root) ? key.slice(root.length) : key, size: Number(tag('Size') ?? 0), lastModified: Date.parse(tag('LastModified') ?? '') || 0 });
  }
  return { objects, truncated: /<IsTruncated>true<\/IsTruncated>/.test(xml) };
}
