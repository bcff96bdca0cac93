import { getLogger } from '@logtape/logtape';
import { CHECKPOINT_INTERVAL, Commit, isScionError, LatestHint, type LSN, type VolumeId } from '../../core/index.ts';
import type { JobContext } from '../job-context.ts';

const logger = getLogger(['scion', 'runtime']);

/**
 * Most bytes of commit records a latest hint's tail carries. A push whose hint would carry more (or
 * CHECKPOINT_INTERVAL commits after the checkpoint) makes its commit a checkpoint instead.
 */
export const TAIL_MAX_BYTES = 64 * 1024;

/** The volume's latest hint, or undefined when there is none or it does not decode. */
export async function readLatestHint(ctx: JobContext, vid: VolumeId, signal?: AbortSignal): Promise<LatestHint | undefined> {
  const bytes = await ctx.remote.getLatest(vid, { signal });
  if (!bytes) return undefined;
  try {
    const hint = LatestHint.decode(bytes, vid);
    noteCheckpoint(ctx, hint);
    return hint;
  } catch (e) {
    // Only a hint: the commits it points at are verified one by one, and probing finds the truth.
    logger.warn('ignoring the damaged latest hint of {vid}: {message}', { vid, message: (e as Error).message });
    return undefined;
  }
}

/** Remembers the newest checkpoint of the volume this runtime has seen, so its pushes can write the tail after it. */
function noteCheckpoint(ctx: JobContext, hint: LatestHint): void {
  if (hint.checkpoint === undefined) return;
  if ((ctx.checkpoints.get(hint.vid) ?? -1) < hint.checkpoint) ctx.checkpoints.set(hint.vid, hint.checkpoint);
}

/**
 * The commits of `vid` after its newest checkpoint this runtime knows of, up to `base`, as held
 * locally; undefined when no checkpoint is known, one of them is not held (squashed), or a commit
 * after `base` would be the CHECKPOINT_INTERVAL-th after it.
 */
export function heldTail(ctx: JobContext, vid: VolumeId, base: number): { checkpoint: number; tail: Commit[] } | undefined {
  const checkpoint = base === 0 ? 0 : ctx.checkpoints.get(vid);
  if (checkpoint === undefined || checkpoint > base || base + 1 - checkpoint >= CHECKPOINT_INTERVAL) return undefined;
  const tail: Commit[] = [];
  for (let lsn = checkpoint + 1; lsn <= base; lsn++) {
    const commit = ctx.store.getCommitSync(vid, lsn as LSN);
    if (!commit?.hash) return undefined;
    tail.push(commit);
  }
  return { checkpoint, tail };
}

/**
 * Writes the hint once recovery found `lsn` landed (ours, or the end of the log after another's): a
 * checkpoint commit names itself, another commit the tail after the newest checkpoint known (read
 * from the current hint first if none is). Skipped when the tail is not held: a hint without it
 * would cost clones more than the lagging one it replaces.
 */
export async function publishRecovered(ctx: JobContext, vid: VolumeId, lsn: LSN, isCheckpoint: boolean, signal?: AbortSignal): Promise<void> {
  if (isCheckpoint) return publishLatest(ctx, { vid, lsn, checkpoint: lsn, tail: [] }, signal);
  if (!ctx.checkpoints.has(vid)) await readLatestHint(ctx, vid, signal);
  const held = heldTail(ctx, vid, lsn - 1);
  const own = ctx.store.getCommitSync(vid, lsn);
  if (held && own?.hash) await publishLatest(ctx, { vid, lsn, checkpoint: held.checkpoint, tail: [...held.tail, own] }, signal);
}

/** Bytes of the hint's tail records, to keep it under TAIL_MAX_BYTES. */
export function tailBytes(commits: readonly Commit[]): number {
  return commits.reduce((sum, c) => sum + Commit.encode(Commit.withoutCheckpoint(c)).byteLength, 0);
}

/**
 * Writes the latest hint after a push landed (or recovery found where the log ends). Best effort:
 * the push is already durable, and a hint not written only costs readers round trips.
 */
export async function publishLatest(ctx: JobContext, hint: LatestHint, signal?: AbortSignal): Promise<void> {
  try {
    await ctx.remote.putLatest(hint.vid, LatestHint.encode(hint), { signal });
    noteCheckpoint(ctx, hint);
  } catch (e) {
    if (signal?.aborted || !isScionError(e)) throw e;
    logger.warn('could not update the latest hint of {vid}: {message}', { vid: hint.vid, message: e.message });
  }
}

/**
 * Writes latest hints in the background, after the push that landed them resolved (a push is durable
 * once its commit landed; a hint that lags only costs readers round trips). Per volume one write at a
 * time, and only the newest hint waiting is written, so hints never go back.
 */
export class HintWriter {
  readonly #queues = new Map<VolumeId, { running: Promise<void>; next: LatestHint | undefined }>();

  /** Queues `hint` (its commit has landed: the newest checkpoint it names is known from now on). */
  publish(ctx: JobContext, hint: LatestHint): void {
    noteCheckpoint(ctx, hint);
    const queue = this.#queues.get(hint.vid);
    if (queue) {
      if (!queue.next || queue.next.lsn <= hint.lsn) queue.next = hint;
      return;
    }
    const entry = { running: Promise.resolve(), next: hint as LatestHint | undefined };
    this.#queues.set(hint.vid, entry);
    entry.running = (async () => {
      for (let h = entry.next; h; h = entry.next) {
        entry.next = undefined;
        await publishLatest(ctx, h);
      }
      this.#queues.delete(hint.vid);
    })().catch((e: unknown) => {
      this.#queues.delete(hint.vid);
      logger.warn('could not update the latest hint of {vid}: {message}', { vid: hint.vid, message: (e as Error).message });
    });
  }

  /** Resolves once every hint queued so far is written (or given up on). */
  async settled(): Promise<void> {
    while (this.#queues.size > 0) await Promise.all([...this.#queues.values()].map((q) => q.running));
  }
}
