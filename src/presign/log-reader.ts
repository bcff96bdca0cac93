import {
  Commit, CompactedIndex, frameObject, frameSpanOf, LatestHint, LSN, PRESIGN_MAX_OPS, presignOpKey, RemoteKey, segmentGetOp, segmentReadsOf, toBase64, type LogReads, type PresignedRequest, type PresignOp, type VolumeId,
} from '../core/index.ts';

/** Most bytes of bodies one answer carries; a bigger object is left for the client to GET itself. */
const BODIES_MAX_BYTES = 4 * 1024 * 1024;
/** Most bytes of hot frames one clone's answer carries (the bench dataset's are 86 KiB). */
const HOT_FRAMES_MAX_BYTES = 1024 * 1024;

export interface LogSource {
  /** The body of the object `op` GETs with the service's credentials, or undefined if absent. */
  read(op: PresignOp): Promise<Uint8Array | undefined>;
  /** Bytes [start, end) of the object `op` GETs, or undefined if it is absent. */
  readRange(op: PresignOp, range: { start: number; end: number }): Promise<Uint8Array | undefined>;
  sign(op: PresignOp): Promise<PresignedRequest>;
  /** Whether the caller's grant covers `op` (the segment GETs signed ahead). */
  allows(op: PresignOp): Promise<boolean>;
}

/**
 * What a fetch of `vid`'s log from `from` reads first, read here so the client needs no bucket
 * request for it: in one round the hint, `from` and `from` + 1; then, if the hint reaches `from`,
 * the LSN after it (the probe) and, for a clone (`from` 1), the checkpoint it names and the compacted index. Plus the signed
 * GETs of the segments those commits (and the hint's tail) name, as far as the grant covers them; and,
 * for a clone, their hot frames (page 1 and the B-tree interior pages a cold reader fetches first).
 * Nothing read here is trusted: a damaged hint or commit is passed on as read, for the client to refuse.
 */
export async function readLog(source: LogSource, vid: VolumeId, from: LSN): Promise<LogReads> {
  const bodies = new Map<string, Uint8Array | undefined>();
  const commit = async (lsn: LSN): Promise<void> => {
    const key = RemoteKey.commit(vid, lsn);
    if (!bodies.has(key)) bodies.set(key, await source.read({ op: 'getCommit', vid, lsn }));
  };
  // A clone also takes the compacted index (if the remote compactor wrote one) in this round.
  const compacted = from === LSN.FIRST ? source.read({ op: 'getCompacted', vid }) : undefined;
  const [hintBytes, compactedBytes] = await Promise.all([source.read({ op: 'getLatest', vid }), compacted, commit(from), commit(LSN.next(from))]);
  bodies.set(RemoteKey.latest(vid), hintBytes);
  if (compacted) bodies.set(RemoteKey.compacted(vid), compactedBytes);
  const hint = decodeOrUndefined(() => (hintBytes ? LatestHint.decode(hintBytes, vid) : undefined));
  if (hint && hint.lsn >= from) {
    const checkpoint = from === LSN.FIRST && hint.checkpoint ? LSN.parse(hint.checkpoint) : undefined;
    await Promise.all([commit(LSN.next(hint.lsn)), checkpoint && commit(checkpoint)]);
  }
  const named: Commit[] = [...(hint?.tail ?? [])];
  for (const bytes of bodies.values()) {
    const c = bytes && decodeOrUndefined(() => Commit.decode(bytes));
    if (c && c.vid === vid) named.push(c, ...(c.checkpoint ?? []));
  }
  const ops = new Map<string, PresignOp>();
  const index = compactedBytes && decodeOrUndefined(() => CompactedIndex.decode(compactedBytes, vid));
  for (const at of index?.segments ?? []) {
    if (ops.size >= PRESIGN_MAX_OPS) break;
    const op = segmentGetOp(at);
    ops.set(presignOpKey(op), op);
  }
  for (const c of named.sort((a, b) => b.lsn - a.lsn)) {
    if (!c.segment || c.segment.frames.length === 0) continue;
    for (const at of segmentReadsOf(c)) {
      if (ops.size >= PRESIGN_MAX_OPS) break;
      const op = segmentGetOp(at);
      ops.set(presignOpKey(op), op);
    }
  }
  const allowed = (await Promise.all([...ops.values()].map(async (op) => ((await source.allows(op)) ? op : undefined)))).filter((op) => op !== undefined);
  const [signed, ranges] = await Promise.all([
    Promise.all(allowed.map(async (op) => ({ op, request: await source.sign(op) }))),
    from === LSN.FIRST ? readHotFrames(source, named, new Set(allowed.map(presignOpKey))) : [],
  ]);
  // A clone takes the commits the hint's tail carries from the hint: their own records would only be sent twice.
  const carried = new Set(from === LSN.FIRST && hint?.tail ? hint.tail.map((c) => RemoteKey.commit(vid, c.lsn)) : []);
  let budget = BODIES_MAX_BYTES;
  const objects: LogReads['objects'][number][] = [];
  for (const [key, bytes] of bodies) {
    if (carried.has(key)) continue;
    if (bytes && bytes.byteLength > budget) continue;
    budget -= bytes?.byteLength ?? 0;
    objects.push({ key, body: bytes ? toBase64(bytes) : null });
  }
  return ranges.length === 0 ? { objects, signed } : { objects, signed, ranges };
}

/** The hot frames of `commits` (newest first) in segments `allowed` covers, up to HOT_FRAMES_MAX_BYTES. */
async function readHotFrames(source: LogSource, commits: readonly Commit[], allowed: ReadonlySet<string>): Promise<NonNullable<LogReads['ranges']>> {
  const spans = new Map<string, { op: PresignOp; start: number; end: number }>();
  let budget = HOT_FRAMES_MAX_BYTES;
  for (const c of commits) {
    const seg = c.segment;
    const hot = seg?.hotFrames ?? 0;
    // Inline frames came with their commit object; hot frames split over two objects are left to the client.
    if (!seg || hot === 0 || seg.inline || frameObject(seg, 0).index !== frameObject(seg, hot - 1).index) continue;
    const span = frameSpanOf(c, 0, hot - 1);
    const op = segmentGetOp(span.at);
    const key = `${presignOpKey(op)}:${span.start}-${span.end}`;
    if (spans.has(key) || !allowed.has(presignOpKey(op)) || span.end - span.start > budget) continue;
    budget -= span.end - span.start;
    spans.set(key, { op, start: span.start, end: span.end });
  }
  const read = await Promise.all([...spans.values()].map(async (s) => ({ ...s, body: await source.readRange(s.op, s) })));
  return read.flatMap((r) => (r.body?.byteLength === r.end - r.start ? [{ key: RemoteKey.ofOp(r.op), start: r.start, end: r.end, body: toBase64(r.body) }] : []));
}

function decodeOrUndefined<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch {
    return undefined;
  }
}
