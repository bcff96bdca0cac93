import { invalidInput } from './errors.ts';
import { LSN } from './lsn.ts';
import { SegmentId } from './segment-id.ts';
import { VolumeId } from './volume-id.ts';

/**
 * What a client asks the presign service to sign. Each op maps to exactly one key and method; the
 * service decides whether the caller may have it.
 */
export type PresignOp =
  | { readonly op: 'getCommit'; readonly vid: VolumeId; readonly lsn: LSN }
  | { readonly op: 'putCommit'; readonly vid: VolumeId; readonly lsn: LSN }
  | { readonly op: 'getSegment'; readonly sid: SegmentId }
  | { readonly op: 'putSegment'; readonly sid: SegmentId }
  | { readonly op: 'deleteSegment'; readonly sid: SegmentId }
  | { readonly op: 'listLog'; readonly vid: VolumeId; readonly after?: string | undefined }
  | { readonly op: 'listSegments'; readonly after?: string | undefined }
  | { readonly op: 'listVolumes'; readonly after?: string | undefined };

export type PresignMethod = 'GET' | 'PUT' | 'DELETE';

/** One signed request: send exactly these headers (they are part of the signature). */
export interface PresignedRequest {
  readonly method: PresignMethod;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch after which the bucket refuses the URL. */
  readonly expiresAt: number;
}

export interface PresignRequest {
  readonly ops: readonly PresignOp[];
}

export interface PresignResponse {
  readonly urls: readonly PresignedRequest[];
}

/** Most ops signed in one round trip. */
export const PRESIGN_MAX_OPS = 256;

/** A stable string for an op, for caching signed URLs. */
export function presignOpKey(op: PresignOp): string {
  switch (op.op) {
    case 'getCommit':
    case 'putCommit':
      return `${op.op}:${op.vid}:${op.lsn}`;
    case 'getSegment':
    case 'putSegment':
    case 'deleteSegment':
      return `${op.op}:${op.sid}`;
    case 'listLog':
      return `${op.op}:${op.vid}:${op.after ?? ''}`;
    case 'listSegments':
    case 'listVolumes':
      return `${op.op}:${op.after ?? ''}`;
  }
}

const AFTER = /^[A-Za-z0-9/_.-]{0,200}$/;

/** Validates a request body from the network. Throws InvalidInput naming the bad op. */
export function parsePresignRequest(input: unknown): PresignRequest {
  const ops = (input as { ops?: unknown } | null)?.ops;
  if (!Array.isArray(ops) || ops.length === 0 || ops.length > PRESIGN_MAX_OPS) {
    throw invalidInput(`A presign request is { ops: [...] } with 1–${PRESIGN_MAX_OPS} ops.`);
  }
  return { ops: ops.map((o, i) => parseOp(o, i)) };
}

function parseOp(input: unknown, i: number): PresignOp {
  const o = (input ?? {}) as Record<string, unknown>;
  const after = (): string | undefined => {
    if (o.after === undefined) return undefined;
    if (typeof o.after !== 'string' || !AFTER.test(o.after)) throw invalidInput(`Op ${i}: "after" must be an object key.`);
    return o.after;
  };
  try {
    switch (o.op) {
      case 'getCommit':
      case 'putCommit':
        return { op: o.op, vid: VolumeId.parse(String(o.vid)), lsn: LSN.parse(Number(o.lsn)) };
      case 'getSegment':
      case 'putSegment':
      case 'deleteSegment':
        return { op: o.op, sid: SegmentId.parse(String(o.sid)) };
      case 'listLog':
        return { op: o.op, vid: VolumeId.parse(String(o.vid)), after: after() };
      case 'listSegments':
      case 'listVolumes':
        return { op: o.op, after: after() };
      default:
        throw invalidInput(`unknown op ${JSON.stringify(o.op)}`);
    }
  } catch (e) {
    throw invalidInput(`Op ${i} of the presign request is invalid: ${(e as Error).message}`);
  }
}
