import { Commit, corrupt, LSN, type VolumeId } from '../../core/index.ts';
import type { JobContext } from '../job-context.ts';

/**
 * Most LSNs probed at once. The log's end is found by the first missing LSN, with no LIST; the window
 * starts at one LSN (twice) and doubles while every probe finds a commit, so an up-to-date log costs one request
 * and a long one about as many requests as commits.
 */
const MAX_PROBE_WINDOW = 8;

/**
 * Downloads the commit records (never pages) of `vid` after the newest one held locally, up to
 * `maxLsn` or the end of the log, and stores them. Returns the newest LSN now held.
 */
export async function fetchLog(ctx: JobContext, vid: VolumeId, options: { maxLsn?: LSN; signal?: AbortSignal } = {}): Promise<LSN | undefined> {
  let next = LSN.next(ctx.store.latestLsnSync(vid));
  // Windows of 1, 1, 2, 4, 8…: finding that a log grew by one commit costs two requests, not more.
  let size = 1;
  let rounds = 0;
  for (;;) {
    const window: LSN[] = [];
    for (let lsn = next; window.length < size && (options.maxLsn === undefined || lsn <= options.maxLsn); lsn = LSN.next(lsn)) window.push(lsn);
    if (window.length === 0) break;
    const bodies = await Promise.all(window.map((lsn) => ctx.remote.getCommit(vid, lsn, { signal: options.signal })));
    const found: Commit[] = [];
    for (const [i, bytes] of bodies.entries()) {
      if (!bytes) break;
      found.push(decodeRemoteCommit(bytes, vid, window[i] as LSN));
    }
    // A concurrent fetch of the same log may have stored some of these meanwhile.
    const fresh = found.filter((c) => c.lsn > (ctx.store.latestLsnSync(vid) ?? 0));
    if (fresh.length > 0) ctx.store.appendCommitsSync(fresh.map((commit) => ({ commit })));
    if (found.length < window.length) break;
    next = LSN.next(window.at(-1));
    if (++rounds > 1) size = Math.min(MAX_PROBE_WINDOW, size * 2);
  }
  return ctx.store.latestLsnSync(vid);
}

/** A remote commit object, checked to be the one its key names and to carry its hash. */
export function decodeRemoteCommit(bytes: Uint8Array, vid: VolumeId, lsn: LSN): Commit {
  const commit = Commit.decode(bytes);
  if (commit.vid !== vid || commit.lsn !== lsn || !commit.hash) {
    throw corrupt(`The remote object for ${vid}@${lsn} holds commit ${commit.vid}@${commit.lsn}${commit.hash ? '' : ' without a hash'}.`, { volume: vid, lsn });
  }
  return commit;
}
