import type { SegmentAddress } from './commit.ts';
import { invalidInput } from './errors.ts';
import { LSN } from './lsn.ts';
import { FORK_MAX_COMMITS, RemoteFork, type InlineCommits } from './remote-fork.ts';
import { SharedName } from './remote-name.ts';
import { SegmentId } from './segment-id.ts';
import { UploadBody } from './upload.ts';
import { VolumeId } from './volume-id.ts';

/**
 * What a client asks the presign service to sign. Each op maps to exactly one key and method; the
 * service decides whether the caller may have it. A write op names the body it will upload
 * (`upload`), and the URL is signed for that body only. `getSegment`/`deleteSegment` with `vid`
 * address format 2's `volumes/{vid}/segments/{sid}`; without it, format 1's `segments/{sid}`.
 * `putName` and `putFork` need no `upload`: their objects' bytes follow from the op, and the service signs those.
 */
export type PresignOp =
  | { readonly op: 'getCommit'; readonly vid: VolumeId; readonly lsn: LSN; readonly via?: VolumeId | undefined }
  | { readonly op: 'putCommit'; readonly vid: VolumeId; readonly lsn: LSN; readonly upload: UploadBody }
  | { readonly op: 'getLatest'; readonly vid: VolumeId }
  | { readonly op: 'readLog'; readonly vid: VolumeId; readonly from: LSN }
  | { readonly op: 'putLatest'; readonly vid: VolumeId; readonly upload: UploadBody }
  | { readonly op: 'getFork'; readonly vid: VolumeId }
  | { readonly op: 'putFork'; readonly vid: VolumeId; readonly ancestors: readonly VolumeId[]; readonly inlineCommits?: InlineCommits | undefined }
  | { readonly op: 'getSegment'; readonly sid: SegmentId; readonly vid?: VolumeId | undefined; readonly via?: VolumeId | undefined }
  | { readonly op: 'getCompacted'; readonly vid: VolumeId }
  | { readonly op: 'putCompacted'; readonly vid: VolumeId; readonly upload: UploadBody }
  | { readonly op: 'putSegment'; readonly vid: VolumeId; readonly sid: SegmentId; readonly upload: UploadBody }
  | { readonly op: 'deleteSegment'; readonly sid: SegmentId; readonly vid?: VolumeId | undefined }
  | { readonly op: 'deleteCommit'; readonly vid: VolumeId; readonly lsn: LSN }
  | { readonly op: 'getName'; readonly name: SharedName }
  | { readonly op: 'putName'; readonly name: SharedName; readonly vid: VolumeId }
  | { readonly op: 'listLog'; readonly vid: VolumeId; readonly after?: string | undefined }
  | { readonly op: 'listSegments'; readonly after?: string | undefined }
  | { readonly op: 'listVolumes'; readonly after?: string | undefined };

export type PresignMethod = 'GET' | 'PUT' | 'DELETE';

/** The GET of a segment: under its volume (format 2, `via` the fork that names it), in its commit object (inline), or in the shared folder (format 1). */
export function segmentGetOp(at: SegmentAddress): PresignOp {
  if (!at.home) return { op: 'getSegment', sid: at.sid };
  const via = at.via && at.via !== at.home ? { via: at.via } : {};
  // Inline frames are read from their commit object (through a fork too: only the commits its record lists).
  if (at.inLog !== undefined) return { op: 'getCommit', vid: at.home, lsn: at.inLog, ...via };
  return { op: 'getSegment', sid: at.sid, vid: at.home, ...via };
}

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
  /** What `readLog` ops read on the caller's behalf; absent when the batch had none. */
  readonly reads?: LogReads | undefined;
}

/**
 * A `readLog` answer: the objects the service read from the bucket with its own credentials (a fetch
 * of the log from `from` needs them first) and the URLs a reader of what they name will want next.
 * The client checks every body as it checks the bucket's (checksums, the key a commit names): the
 * service can forge nothing its bucket credentials could not.
 */
export interface LogReads {
  /** Layout keys (`volumes/{vid}/latest`, `volumes/{vid}/log/{lsn}`) and their bodies in base64; null: absent. */
  readonly objects: readonly { readonly key: string; readonly body: string | null }[];
  /** GETs signed ahead: the segments the commits read (and the hint's tail) name. */
  readonly signed: readonly { readonly op: PresignOp; readonly request: PresignedRequest }[];
  /**
   * For a clone: byte ranges [start, end) of segment objects (layout keys) and their bodies in base64 —
   * the hot frames of the commits read, which a cold reader fetches first. Absent from older services.
   */
  readonly ranges?: readonly { readonly key: string; readonly start: number; readonly end: number; readonly body: string }[] | undefined;
}

/** The longest a presigned URL may stay valid (the presign service refuses a longer `expiresInSeconds`). */
export const URL_EXPIRES_MAX_SECONDS = 3600;

/** Most ops signed in one round trip. */
export const PRESIGN_MAX_OPS = 256;

/** A stable string for an op, for caching signed URLs; a write's key includes its body digest. */
export function presignOpKey(op: PresignOp): string {
  switch (op.op) {
    case 'getCommit':
      return `${op.op}:${op.vid}:${op.lsn}:${op.via ?? ''}`;
    case 'deleteCommit':
      return `${op.op}:${op.vid}:${op.lsn}`;
    case 'putCommit':
      return `${op.op}:${op.vid}:${op.lsn}:${op.upload.length}:${op.upload.sha256}`;
    case 'getLatest':
    case 'getCompacted':
      return `${op.op}:${op.vid}`;
    case 'readLog':
      return `${op.op}:${op.vid}:${op.from}`;
    case 'putLatest':
    case 'putCompacted':
      return `${op.op}:${op.vid}:${op.upload.length}:${op.upload.sha256}`;
    case 'getFork':
      return `${op.op}:${op.vid}`;
    case 'putFork':
    {
      const { ancestors, inlineCommits } = RemoteFork.of(op.vid, op.ancestors, op.inlineCommits);
      return `${op.op}:${op.vid}:${ancestors.map((a) => `${a}@${(inlineCommits[a] ?? []).join('.')}`).join(',')}`;
    }
    case 'getSegment':
      return `${op.op}:${op.vid ?? ''}:${op.sid}:${op.via ?? ''}`;
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

const inlineCommitsOf = (v: unknown): InlineCommits => {
  if (v === undefined) return {};
  const shape = '"inlineCommits" must map volume ids to arrays of LSNs.';
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidInput(shape);
  return Object.fromEntries(Object.entries(v).map(([vid, lsns]) => {
    if (!Array.isArray(lsns) || lsns.length > FORK_MAX_COMMITS) throw invalidInput(shape);
    return [vidOf(vid), lsns.map(lsnOf)];
  }));
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
        return { op: o.op, vid: vidOf(o.vid), lsn: lsnOf(o.lsn), ...(o.via === undefined ? {} : { via: vidOf(o.via) }) };
      case 'deleteCommit':
        return { op: o.op, vid: vidOf(o.vid), lsn: lsnOf(o.lsn) };
      case 'putCommit':
        return { op: o.op, vid: vidOf(o.vid), lsn: lsnOf(o.lsn), upload: UploadBody.parse(o.upload) };
      case 'getLatest':
      case 'getCompacted':
        return { op: o.op, vid: vidOf(o.vid) };
      case 'readLog':
        return { op: o.op, vid: vidOf(o.vid), from: lsnOf(o.from) };
      case 'putLatest':
      case 'putCompacted':
        return { op: o.op, vid: vidOf(o.vid), upload: UploadBody.parse(o.upload) };
      case 'getFork':
        return { op: o.op, vid: vidOf(o.vid) };
      case 'putFork': {
        if (!Array.isArray(o.ancestors)) throw invalidInput('"ancestors" must be an array of volume ids.');
        const vid = vidOf(o.vid);
        return { op: o.op, ...RemoteFork.of(vid, o.ancestors.map(vidOf), inlineCommitsOf(o.inlineCommits)) };
      }
      case 'getSegment':
        if (o.via !== undefined && o.vid === undefined) throw invalidInput('"via" needs "vid".');
        return { op: o.op, sid: sidOf(o.sid), ...home(), ...(o.via === undefined ? {} : { via: vidOf(o.via) }) };
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
