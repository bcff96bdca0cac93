import { ScionError, type LSN, type RemoteFork, type SegmentAddress, type SegmentId, type SharedName, type VolumeId } from '../core/index.ts';

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

/** A request a job is about to make (see Remote.prepare). */
export type PlannedRequest =
  | { readonly op: 'getCommit'; readonly vid: VolumeId; readonly lsn: LSN }
  | { readonly op: 'getLatest'; readonly vid: VolumeId }
  /** The presign service reads what a fetch of the log from `from` needs first and sends it with the URLs (S3Remote). */
  | { readonly op: 'readLog'; readonly vid: VolumeId; readonly from: LSN }
  | { readonly op: 'getCompacted'; readonly vid: VolumeId }
  | { readonly op: 'getSegment'; readonly at: SegmentAddress }
  | { readonly op: 'putCommit'; readonly vid: VolumeId; readonly lsn: LSN; readonly bytes: Uint8Array }
  | { readonly op: 'putLatest'; readonly vid: VolumeId; readonly bytes: Uint8Array }
  | { readonly op: 'putSegment'; readonly vid: VolumeId; readonly sid: SegmentId; readonly bytes: Uint8Array }
  | { readonly op: 'putFork'; readonly fork: RemoteFork };

/** One request to the bucket, reported for logs and the demo's network panel. */
export interface RemoteRequestEvent {
  readonly method: string;
  /** The object's key in the remote layout (`volumes/…`, `segments/…`; no bucket or prefix), or the prefix a listing read. */
  readonly key: string;
  readonly status: number;
  readonly bytes: number;
  readonly ms: number;
  readonly sync: boolean;
}

/**
 * The bucket as Scion uses it (remote format 2, reading format 1): create-only commit and segment
 * objects, a latest-LSN hint per volume, ranged segment reads, and listings for GC. Async methods
 * may run anywhere; `getSegmentRangeSync` blocks and is for the DB worker's page-miss path only.
 * Errors are ScionErrors: RemoteUnavailable (network, 5xx after retries), Forbidden, UrlExpired,
 * Corrupt (a segment a commit names is missing or shorter than the range).
 */
export interface Remote {
  /** The commit object's bytes, or undefined if that LSN does not exist. */
  getCommit(vid: VolumeId, lsn: LSN, options?: RequestOptions): Promise<Uint8Array | undefined>;
  /** Creates the commit object only if absent (`If-None-Match: *`). */
  putCommit(vid: VolumeId, lsn: LSN, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome>;
  /** The latest hint's bytes (`volumes/{vid}/latest`), or undefined if there is none. */
  getLatest(vid: VolumeId, options?: RequestOptions): Promise<Uint8Array | undefined>;
  /** Overwrites the latest hint. */
  putLatest(vid: VolumeId, bytes: Uint8Array, options?: RequestOptions): Promise<void>;
  /**
   * The lowest LSN (above `after`, if given) with a commit object (a listing of the log), or undefined
   * for none: where a fork's log starts when no hint says so (its first commit is a checkpoint past
   * LSN 1), and whether a log goes on past an absent LSN (history pruned below a checkpoint).
   */
  firstLsn(vid: VolumeId, options?: RequestOptions & { after?: LSN | undefined }): Promise<LSN | undefined>;
  /**
   * Creates a fork's record `volumes/{vid}/fork` (`RemoteFork`) only if absent: the ancestors whose
   * segments its commits name, through which the presign service lets readers of the fork read them.
   */
  putFork(fork: RemoteFork, options?: RequestOptions): Promise<CreateOutcome>;
  /** The compacted index's bytes (`volumes/{vid}/compacted`), or undefined if the volume was never compacted. */
  getCompacted(vid: VolumeId, options?: RequestOptions): Promise<Uint8Array | undefined>;
  /** Overwrites the compacted index (admin: the remote compactor). */
  putCompacted(vid: VolumeId, bytes: Uint8Array, options?: RequestOptions): Promise<void>;
  /** Creates `volumes/{vid}/segments/{sid}` only if absent. */
  putSegment(vid: VolumeId, sid: SegmentId, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome>;
  getSegmentRange(at: SegmentAddress, range: ByteRange, options?: RequestOptions): Promise<Uint8Array>;
  getSegmentRangeSync(at: SegmentAddress, range: ByteRange): Uint8Array;
  /**
   * Hint: these requests come next (S3 signs all their URLs in one presign round trip, so a push is
   * one round trip to the presign service and sync reads need none). Failing it fails nothing.
   */
  prepare?(requests: readonly PlannedRequest[], options?: RequestOptions): Promise<void>;
  /** The shared name's object (`names/{name}`), or undefined if nobody created it. */
  getName(name: SharedName, options?: RequestOptions): Promise<Uint8Array | undefined>;
  /** Creates `names/{name}` only if absent; its bytes must be `RemoteName.encode({ name, vid })`. */
  putName(name: SharedName, vid: VolumeId, bytes: Uint8Array, options?: RequestOptions): Promise<CreateOutcome>;
  /** Every object under `volumes/` (commits, segments, hints) or format 1's `segments/`. */
  list(prefix: 'volumes/' | 'segments/', options?: RequestOptions): AsyncIterable<ListedObject>;
  deleteSegment(at: SegmentAddress, options?: RequestOptions): Promise<void>;
  /** Deletes a commit record (admin: remote GC pruning history below a checkpoint; see collectRemoteGarbage). */
  deleteCommit(vid: VolumeId, lsn: LSN, options?: RequestOptions): Promise<void>;
}

/** A segment a commit names is gone: the bucket lost it (or someone deleted it); never a reason to serve other bytes. */
export function missingSegment(key: string): ScionError {
  return new ScionError('Corrupt', `The segment ${key} that a commit names is missing from the remote: the bucket lost it or someone deleted it.`, { key });
}
