import type { LSN, SegmentId, VolumeId } from '../core/index.ts';

/** Bytes [start, end) of an object. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** An object listed under a prefix. */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  /** Milliseconds since the epoch. */
  readonly lastModified: number;
}

/** Whether a create-only PUT created the object or found it already there (412). */
export type CreateOutcome = 'created' | 'exists';

export interface RequestOptions {
  signal?: AbortSignal | undefined;
}

/** One request to the bucket, reported for logs and the demo's network panel. */
export interface RemoteRequestEvent {
  readonly method: string;
  readonly key: string;
  readonly status: number;
  readonly bytes: number;
  readonly ms: number;
  readonly sync: boolean;
}

/**
 * The bucket as Scion uses it: create-only commit and segment objects, ranged segment reads, and
 * listings for GC. Async methods may run anywhere; `getSegmentRangeSync` blocks and is for the DB
 * worker's page-miss path only. Errors are ScionErrors: RemoteUnavailable (network, 5xx after
 * retries), Forbidden, UrlExpired, Corrupt.
 */
export interface Remote {
  /** The commit object's bytes, or undefined if that LSN does not exist. */
  getCommit(vid: VolumeId, lsn: LSN, options?: RequestOptions): Promise<Uint8Array | undefined>;
  /** Creates the commit object only if absent (`If-None-Match: *`). */
  putCommit(vid: VolumeId, lsn: LSN, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome>;
  putSegment(sid: SegmentId, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome>;
  getSegmentRange(sid: SegmentId, range: ByteRange, options?: RequestOptions): Promise<Uint8Array>;
  getSegmentRangeSync(sid: SegmentId, range: ByteRange): Uint8Array;
  /** Hint: these segments will be read soon (S3 mints their GET URLs ahead, so sync reads need no round trip). */
  prepareSegmentReads?(sids: readonly SegmentId[]): Promise<void>;
  list(prefix: 'volumes/' | 'segments/', options?: RequestOptions): AsyncIterable<ListedObject>;
  deleteSegment(sid: SegmentId, options?: RequestOptions): Promise<void>;
}
