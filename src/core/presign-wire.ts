import { invalidInput } from './errors.ts';
import { LSN } from './lsn.ts';
import { SharedName } from './remote-name.ts';
import { SegmentId } from './segment-id.ts';
import { UploadBody } from './upload.ts';
import { VolumeId } from './volume-id.ts';

/**
 * What a client asks the presign service to sign. Each op maps to exactly one key and method; the
 * service decides whether the caller may have it. A write op names the body it will upload
 * (`upload`), and the URL is signed for that body only. `getSegment`/`deleteSegment` with `vid`
 * address format 2's `volumes/{vid}/segments/{sid}`; without it, format 1's `segments/{sid}`.
 * `putName` needs no `upload`: a name object's bytes follow from (name, vid), and the service signs those.
 */
export type PresignOp =
  | { readonly op: 'getCommit'; readonly vid: VolumeId; readonly lsn: LSN }
  | { readonly op: 'putCommit'; readonly vid: VolumeId; readonly lsn: LSN; readonly upload: UploadBody }
  | { readonly op: 'getLatest'; readonly vid: VolumeId }
  | { readonly op: 'putLatest'; readonly vid: VolumeId; readonly upload: UploadBody }
  | { readonly op: 'getCompacted'; readonly vid: VolumeId }
  | { readonly op: 'putCompacted'; readonly vid: VolumeId; readonly upload: UploadBody }
  | { readonly op: 'getSegment'; readonly sid: SegmentId; readonly vid?: VolumeId | undefined }
  | { readonly op: 'putSegment'; readonly vid: VolumeId; readonly sid: SegmentId; readonly upload: UploadBody }
  | { readonly op: 'deleteSegment'; readonly sid: SegmentId; readonly vid?: VolumeId | undefined }
  | { readonly op: 'deleteCommit'; readonly vid: VolumeId; readonly lsn: LSN }
  | { readonly op: 'getName'; readonly name: SharedName }
  | { readonly op: 'putName'; readonly name: SharedName; readonly vid: VolumeId }
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

/** The longest a presigned URL may stay valid (the presign service refuses a longer `expiresInSeconds`). */
export const URL_EXPIRES_MAX_SECONDS = 3600;

/** Most ops signed in one round trip. */
export const PRESIGN_MAX_OPS = 256;

/** A stable string for an op, for caching signed URLs; a write's key includes its body digest. */
export function presignOpKey(op: PresignOp): string {
  switch (op.op) {
    case 'getCommit':
    case 'deleteCommit':
      return `${op.op}:${op.vid}:${op.lsn}`;
    case 'putCommit':
      return `${op.op}:${op.vid}:${op.lsn}:${op.upload.length}:${op.upload.sha256}`;
    case 'getLatest':
    case 'getCompacted':
      return `${op.op}:${op.vid}`;
    case 'putLatest':
    case 'putCompacted':
      return `${op.op}:${op.vid}:${op.upload.length}:${op.upload.sha256}`;
    case 'getSegment':
    case 'deleteSegment':
      return `${op.op}:${op.vid ?? ''}:${op.sid}`;
    case 'putSegment':
      return `${op.op}:${op.vid}:${op.sid}:${op.upload.length}:${op.upload.sha256}`;
    case 'getName':
      return `${op.op}:${op.name}`;
    case 'putName':
      return `${op.op}:${op.name}:${op.vid}`;
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

// Every field is parsed by type, with no coercion: "0x10", true, [5] are not LSNs, ["…"] is not an id.
const vidOf = (v: unknown): VolumeId => {
  if (typeof v !== 'string') throw invalidInput('"vid" must be a volume id string.');
  return VolumeId.parse(v);
};
const sidOf = (v: unknown): SegmentId => {
  if (typeof v !== 'string') throw invalidInput('"sid" must be a segment id string.');
  return SegmentId.parse(v);
};
const lsnOf = (v: unknown): LSN => {
  if (typeof v !== 'number') throw invalidInput('"lsn" must be a number.');
  return LSN.parse(v);
};

function parseOp(input: unknown, i: number): PresignOp {
  try {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalidInput('an op is an object');
    const o = input as Record<string, unknown>;
    const after = (): string | undefined => {
      if (o.after === undefined) return undefined;
      if (typeof o.after !== 'string' || !AFTER.test(o.after)) throw invalidInput('"after" must be an object key.');
      return o.after;
    };
    const home = (): { vid?: VolumeId } => (o.vid === undefined ? {} : { vid: vidOf(o.vid) });
    switch (o.op) {
      case 'getCommit':
      case 'deleteCommit':
        return { op: o.op, vid: vidOf(o.vid), lsn: lsnOf(o.lsn) };
      case 'putCommit':
        return { op: o.op, vid: vidOf(o.vid), lsn: lsnOf(o.lsn), upload: UploadBody.parse(o.upload) };
      case 'getLatest':
      case 'getCompacted':
        return { op: o.op, vid: vidOf(o.vid) };
      case 'putLatest':
      case 'putCompacted':
        return { op: o.op, vid: vidOf(o.vid), upload: UploadBody.parse(o.upload) };
      case 'getSegment':
      case 'deleteSegment':
        return { op: o.op, sid: sidOf(o.sid), ...home() };
      case 'putSegment':
        return { op: o.op, vid: vidOf(o.vid), sid: sidOf(o.sid), upload: UploadBody.parse(o.upload) };
      case 'getName':
        return { op: o.op, name: SharedName.parse(o.name) };
      case 'putName':
        return { op: o.op, name: SharedName.parse(o.name), vid: vidOf(o.vid) };
      case 'listLog':
        return { op: o.op, vid: vidOf(o.vid), after: after() };
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
