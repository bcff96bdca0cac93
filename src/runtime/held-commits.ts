import { LSN, ScionError, type Commit, type LsnRange, type VolumeId } from '../core/index.ts';
import type { LocalStore } from '../local/index.ts';

/** CommitNotFound for `vid@lsn`, saying whether the log was never fetched or its history was squashed. */
export function commitNotFound(store: LocalStore, vid: VolumeId, lsn: LSN): ScionError {
  const oldest = store.oldestLsnSync(vid);
  if (oldest !== undefined && lsn < oldest) {
    return new ScionError(
      'CommitNotFound',
      `Volume ${vid}'s history before LSN ${oldest} is not held on this device (local GC squashed it, or a clone started at that checkpoint), so commit ${lsn} cannot be read. Check out LSN ${oldest} or later, or keep more history (historyCommits of local GC; an open checkout keeps its own commit).`,
      { volume: vid, lsn, oldest },
    );
  }
  return new ScionError('CommitNotFound', `Volume ${vid} has no commit ${lsn} held locally. Fetch the volume first.`, { volume: vid, lsn });
}

export function mustGetCommit(store: LocalStore, vid: VolumeId, lsn: LSN): Commit {
  const commit = store.getCommitSync(vid, lsn);
  if (!commit) throw commitNotFound(store, vid, lsn);
  return commit;
}

/** Whether a snapshot ending at `end` of `vid` can be read: its history up to there is held or summarized. */
export function isReadable(store: LocalStore, vid: VolumeId, end: LSN): boolean {
  const oldest = store.oldestLsnSync(vid);
  return oldest !== undefined && end >= oldest && end <= (store.latestLsnSync(vid) ?? 0);
}

/** Throws CommitNotFound unless a snapshot ending at `end` of `vid` can be read (see isReadable). */
export function checkReadable(store: LocalStore, vid: VolumeId, end: LSN): void {
  if (!isReadable(store, vid, end)) throw commitNotFound(store, vid, end);
}

/**
 * The held commits of `range`, ascending: below the log's oldest LSN only those that survived the
 * squash (the others' pages were all overwritten later within the range, so they change nothing
 * the range shows). Throws CommitNotFound if the range ends before the log's oldest LSN.
 */
export function heldCommits(store: LocalStore, range: LsnRange): Commit[] {
  checkReadable(store, range.vid, range.end);
  const oldest = store.oldestLsnSync(range.vid) as LSN;
  const out: Commit[] = [];
  for (let lsn = range.start; lsn <= range.end; lsn = LSN.next(lsn)) {
    const commit = lsn < oldest ? store.getCommitSync(range.vid, lsn) : mustGetCommit(store, range.vid, lsn);
    if (commit) out.push(commit);
  }
  return out;
}
