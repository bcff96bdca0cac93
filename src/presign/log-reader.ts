import { Commit, CompactedIndex, LatestHint, LSN, PRESIGN_MAX_OPS, presignOpKey, RemoteKey, segmentGetOp, segmentReadsOf, toBase64, type LogReads, type PresignedRequest, type PresignOp, type VolumeId } from '../core/index.ts';

/** Most bytes of bodies one answer carries; a bigger object is left for the client to GET itself. */
const BODIES_MAX_BYTES = 4 * 1024 * 1024;

export interface LogSource {
  /** The body of the object `op` GETs with the service's credentials, or undefined if absent. */
  read(op: PresignOp): Promise<Uint8Array | undefined>;
  sign(op: PresignOp): Promise<PresignedRequest>;
  /** Whether the caller's grant covers `op` (the segment GETs signed ahead). */
  allows(op: PresignOp): Promise<boolean>;
}

/**
 * What a fetch of `vid`'s log from `from` reads first, read here so the client needs no bucket
 * request for it: in one round the hint, `from` and `from` + 1; then, if the hint reaches `from`,
 * the LSN after it (the probe) and, for a clone (`from` 1), the checkpoint it names and the compacted index. Plus the signed
 * GETs of the segments those commits (and the hint's tail) name, as far as the grant covers them.
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
  const signed = await Promise.all(allowed.map(async (op) => ({ op, request: await source.sign(op) })));
  let budget = BODIES_MAX_BYTES;
  const objects: LogReads['objects'][number][] = [];
  for (const [key, bytes] of bodies) {
    if (bytes && bytes.byteLength > budget) continue;
    budget -= bytes?.byteLength ?? 0;
    objects.push({ key, body: bytes ? toBase64(bytes) : null });
  }
  return { objects, signed };
}

function decodeOrUndefined<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch {
    return undefined;
  }
}
