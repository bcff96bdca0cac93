import { fromBase64, isScionError, parsePresignRequest, presignOpKey, RemoteKey, ScionError, type ErrorWire, type LogReads, type PresignedRequest, type PresignOp, type PresignResponse } from '../core/index.ts';

export interface PresignClientOptions {
  /** URL of the presign service's endpoint, e.g. `https://api.example.com/presign`. */
  endpoint: string;
  /** Bearer token, or a function returning the current one. */
  token?: string | (() => string) | undefined;
  /** Re-sign this long before a URL expires. Default 30 s. */
  refreshMarginMs?: number;
  fetch?: typeof fetch;
}

const MAX_BATCH = 256;

/** A presign service's answer to one POST. */
interface Answer {
  readonly status: number;
  readonly text: string;
}

/** `ops` in requests of at most MAX_BATCH (the service signs up to 256 ops per request). */
function batches(ops: readonly PresignOp[]): PresignOp[][] {
  const out: PresignOp[][] = [];
  for (let i = 0; i < ops.length; i += MAX_BATCH) out.push(ops.slice(i, i + MAX_BATCH));
  return out;
}
/**
 * How long an object the service read for `readLog` stands for the bucket's answer: the fetch that
 * asked for it reads it at once. A commit never changes; a hint or an absent LSN may by then, which
 * costs no more than the same answer from the bucket a moment earlier (the keys stay the truth).
 */
const READ_FRESH_MS = 10_000;

/** Ops asked for by concurrent callers, signed together in one round trip. */
interface Batch {
  readonly ops: Map<string, PresignOp>;
  readonly done: Promise<Map<string, PresignedRequest>>;
  callers: number;
}

/**
 * Asks the presign service for signed URLs and caches each until shortly before it expires, so
 * repeated reads of one segment cost one signing round trip. `signSync` (sync XHR) serves the DB
 * worker's blocking page-miss path when a URL is not cached yet.
 */
export class PresignClient {
  readonly #options: PresignClientOptions;
  readonly #cache = new Map<string, PresignedRequest>();
  /** Bodies `readLog` brought (undefined: the object is absent), by layout key; each is taken once. */
  readonly #read = new Map<string, { body: Uint8Array | undefined; at: number }>();
  /** Segment byte ranges `readLog` brought (a clone's hot frames), by `key:start-end`; each is taken once. */
  readonly #ranges = new Map<string, { body: Uint8Array; at: number }>();
  readonly #margin: number;
  #batch: Batch | undefined;
  #roundTrips = 0;

  constructor(options: PresignClientOptions) {
    this.#options = options;
    this.#margin = options.refreshMarginMs ?? 30_000;
  }

  /** Round trips to the presign service so far (sign and signSync). */
  get roundTrips(): number {
    return this.#roundTrips;
  }

  /**
   * One signed request per op, in order. Callers in the same turn of the event loop share one
   * round trip (the service signs up to 256 ops per request).
   */
  async sign(ops: readonly PresignOp[], options: { signal?: AbortSignal | undefined } = {}): Promise<PresignedRequest[]> {
    const missing = this.#missing(ops);
    const fresh = missing.length > 0 ? await this.#join(missing) : new Map<string, PresignedRequest>();
    options.signal?.throwIfAborted();
    // A URL signed just now is used even if it expires within the refresh margin (a short lifetime,
    // a skewed clock): the bucket is the judge, and a refusal becomes UrlExpired in S3Remote.
    return ops.map((op) => (this.#cached(op) ?? fresh.get(presignOpKey(op))) as PresignedRequest);
  }

  /**
   * Adds `ops` to the batch being gathered (one is started, flushed on the next macrotask). The
   * service refuses a batch as a whole: a caller whose batch was refused because of another
   * caller's op (Forbidden, InvalidInput) asks again for its own ops alone.
   */
  async #join(ops: readonly PresignOp[]): Promise<Map<string, PresignedRequest>> {
    let batch = this.#batch;
    if (!batch) {
      const gathered = new Map<string, PresignOp>();
      const done = new Promise<void>((r) => setTimeout(r, 0)).then(() => {
        this.#batch = undefined;
        return this.#signAll([...gathered.values()]);
      });
      batch = this.#batch = { ops: gathered, done, callers: 0 };
    }
    batch.callers++;
    for (const op of ops) batch.ops.set(presignOpKey(op), op);
    try {
      return await batch.done;
    } catch (e) {
      if (batch.callers > 1 && (isScionError(e, 'Forbidden') || isScionError(e, 'InvalidInput'))) return this.#signAll(ops);
      throw e;
    }
  }

  async #signAll(ops: readonly PresignOp[]): Promise<Map<string, PresignedRequest>> {
    const fresh = new Map<string, PresignedRequest>();
    const doFetch = this.#options.fetch ?? fetch;
    for (const batch of batches(ops)) {
      const answer = await this.#post(async (init) => {
        const res = await doFetch(this.#options.endpoint, { method: 'POST', ...init });
        return { status: res.status, text: await res.text() };
      }, batch);
      this.#store(batch, answer.status, answer.text, fresh);
    }
    return fresh;
  }

  /** Blocking variant for the DB worker; needs XMLHttpRequest (dedicated workers have it). */
  signSync(ops: readonly PresignOp[]): PresignedRequest[] {
    const missing = this.#missing(ops);
    const fresh = new Map<string, PresignedRequest>();
    if (missing.length > 0 && typeof XMLHttpRequest === 'undefined') {
      throw new ScionError('RemoteUnavailable', 'Signing synchronously needs XMLHttpRequest, which exists in browser workers only. Sign ahead with sign().');
    }
    for (const batch of batches(missing)) {
      const answer = this.#post((init) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', this.#options.endpoint, false);
        for (const [k, v] of Object.entries(init.headers)) xhr.setRequestHeader(k, v);
        xhr.send(init.body);
        return { status: xhr.status, text: xhr.responseText };
      }, batch);
      this.#store(batch, answer.status, answer.text, fresh);
    }
    return ops.map((op) => {
      const hit = this.#cached(op) ?? fresh.get(presignOpKey(op));
      if (!hit) throw new ScionError('Internal', 'BUG: presign batch left an op unsigned');
      return hit;
    });
  }

  /**
   * The body a `readLog` op of this client brought for layout key `key` (undefined inside: the object
   * is absent), taken once and only while fresh; undefined when it brought none.
   */
  takeRead(key: string): { body: Uint8Array | undefined } | undefined {
    const hit = this.#read.get(key);
    this.#read.delete(key);
    return hit && Date.now() - hit.at < READ_FRESH_MS ? { body: hit.body } : undefined;
  }

  /** Bytes [start, end) of segment object `key` if a `readLog` of this client brought them (fresh), taken once. */
  takeRange(key: string, range: { start: number; end: number }): Uint8Array | undefined {
    const at = `${key}:${range.start}-${range.end}`;
    const hit = this.#ranges.get(at);
    this.#ranges.delete(at);
    return hit && Date.now() - hit.at < READ_FRESH_MS ? hit.body : undefined;
  }

  /** Forgets a cached URL (after the bucket refused it). */
  invalidate(op: PresignOp): void {
    this.#cache.delete(presignOpKey(op));
  }

  #missing(ops: readonly PresignOp[]): PresignOp[] {
    const seen = new Set<string>();
    return ops.filter((op) => {
      const key = presignOpKey(op);
      // A readLog is a read done now by the service: never answered from the cache.
      if (seen.has(key) || (op.op !== 'readLog' && this.#cached(op))) return false;
      seen.add(key);
      return true;
    });
  }

  #cached(op: PresignOp): PresignedRequest | undefined {
    const hit = this.#cache.get(presignOpKey(op));
    if (hit && hit.expiresAt - this.#margin > Date.now()) return hit;
    if (hit) this.#cache.delete(presignOpKey(op));
    return undefined;
  }

  /**
   * One round trip for `batch` over `send` (fetch, or a blocking XHR: the same request either way); a
   * network failure is RemoteUnavailable. Returns what `send` returns, or its promise.
   */
  #post<T extends Answer | Promise<Answer>>(send: (init: { headers: Record<string, string>; body: string }) => T, batch: readonly PresignOp[]): T {
    const token = typeof this.#options.token === 'function' ? this.#options.token() : this.#options.token;
    const headers = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const unreachable = (e: unknown) => new ScionError('RemoteUnavailable', `The presign service at ${this.#options.endpoint} is unreachable. Retry when online.`, undefined, { cause: e });
    this.#roundTrips++;
    let answer: T;
    try {
      answer = send({ headers, body: JSON.stringify({ ops: batch }) });
    } catch (e) {
      throw unreachable(e);
    }
    return (answer instanceof Promise ? answer.catch((e: unknown) => Promise.reject(unreachable(e))) : answer) as T;
  }

  #store(batch: readonly PresignOp[], status: number, text: string, fresh: Map<string, PresignedRequest>): void {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (status !== 200) {
      const wire = body as Partial<ErrorWire> | undefined;
      if (wire?.name === 'ScionError' && typeof wire.code === 'string') throw ScionError.fromWire(wire as ErrorWire);
      throw new ScionError(status === 401 || status === 403 ? 'Forbidden' : 'RemoteUnavailable', `The presign service answered ${status}. ${status === 401 ? 'Check the access token.' : 'Retry later.'}`, { status });
    }
    const urls = (body as Partial<PresignResponse> | undefined)?.urls;
    if (!Array.isArray(urls) || urls.length !== batch.length) {
      throw new ScionError('RemoteUnavailable', 'The presign service sent a malformed answer. Check that the endpoint is a Scion presign service.');
    }
    batch.forEach((op, i) => {
      if (op.op !== 'readLog') this.#cache.set(presignOpKey(op), urls[i] as PresignedRequest);
      fresh.set(presignOpKey(op), urls[i] as PresignedRequest);
    });
    this.#keepReads((body as Partial<PresignResponse>).reads);
  }

  /** Keeps what readLog brought. Only an optimization: anything malformed is dropped, and the client reads the bucket itself. */
  #keepReads(reads: LogReads | undefined): void {
    if (!reads || !Array.isArray(reads.objects) || !Array.isArray(reads.signed)) return;
    const at = Date.now();
    try {
      for (const o of reads.objects) {
        const kind = RemoteKey.parse(o.key).kind;
        if (kind !== 'commit' && kind !== 'latest' && kind !== 'compacted') continue;
        this.#read.set(o.key, { body: o.body === null ? undefined : fromBase64(o.body, 'a body the presign service read'), at });
      }
      // Segments never change, but ranges nobody took are dropped once stale, so they never pile up.
      for (const [k, r] of this.#ranges) if (at - r.at >= READ_FRESH_MS) this.#ranges.delete(k);
      for (const r of reads.ranges ?? []) {
        if (RemoteKey.parse(r.key).kind !== 'segment' || !Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.end)) continue;
        const body = fromBase64(r.body, 'a segment range the presign service read');
        if (body.byteLength === r.end - r.start) this.#ranges.set(`${r.key}:${r.start}-${r.end}`, { body, at });
      }
      const ops = reads.signed.length > 0 ? parsePresignRequest({ ops: reads.signed.map((s) => s.op) }).ops : [];
      ops.forEach((op, i) => {
        const request = reads.signed[i]?.request;
        if ((op.op === 'getSegment' || op.op === 'getCommit') && typeof request?.url === 'string' && typeof request.expiresAt === 'number') this.#cache.set(presignOpKey(op), request);
      });
    } catch {
      // A service of another version, or a broken one: the reads are only a shortcut.
    }
  }
}

