// The worker's half of a rebase by replay (the client replays; see src/client/rebase.ts). `start` puts a
// scratch graft at the remote head under a temporary name; the client opens it, replays the pending
// transactions on it and closes it; `finish` then points the database's name at that graft, in one step
// under the name's lock and only if no local commit landed meanwhile, and pushes it. Until `finish`, the
// database and its recorded intents are untouched: a crash or a failure at any point leaves the old
// graft as it was (the next start discards the scratch one).
import { isScionError, ScionError, Tag, type VolumeId } from '../src/core/index.ts';
import type { PushResult, RebaseBase, RebaseStart } from '../src/protocol/index.ts';
import type { Connection, Session } from './session.ts';

const SCRATCH_PREFIX = '.rebase.';

/** The temporary name a rebase of `name` replays under. */
export function scratchName(name: Tag): Tag {
  if (name.length + SCRATCH_PREFIX.length > 128) {
    throw new ScionError('InvalidInput', `Database name "${name}" is too long to rebase (at most ${128 - SCRATCH_PREFIX.length} characters). Use a shorter name.`, { name });
  }
  return Tag.parse(SCRATCH_PREFIX + name);
}

export class Rebases {
  readonly #session: Session;
  /** Names with a rebase between start and finish/abort: a second one would replay the same intents twice. */
  readonly #running = new Set<Tag>();

  constructor(session: Session) {
    this.#session = session;
  }

  /** Whether `name` needs a rebase (fetches first); if so prepares the scratch graft at the remote head. */
  async start(conn: Connection): Promise<RebaseStart> {
    const { runtime } = this.#session;
    this.#session.requireRemote('rebase');
    if (conn.checkout) throw new ScionError('InvalidInput', 'This database is a read-only checkout; rebase the database itself.');
    // A pull first: it resolves a push whose outcome was unknown (so its intents count as pushed), and
    // a database only behind just moves forward.
    await this.#session.pull(conn);
    const scratch = scratchName(conn.name);
    return this.#session.withLock(conn.name, async () => {
      const vid = runtime.mustGetTag(conn.name);
      const status = runtime.graftStatus(vid);
      if (status.state !== 'diverged') return { needed: false, state: status.state };
      if (this.#running.has(conn.name)) {
        throw new ScionError('ConcurrentWrite', `A rebase of "${conn.name}" is under way (another tab or call); wait for its rebased or diverged event.`, { name: conn.name });
      }
      await this.#dropScratch(conn.name, scratch);
      const graft = await runtime.graftClone(status.remote, { tag: scratch });
      this.#running.add(conn.name);
      return {
        needed: true,
        scratch,
        base: { graft: vid, localLsn: status.localLsn ?? 0 },
        ahead: status.ahead,
        remoteLsn: runtime.graftStatus(graft.local).remoteLsn ?? 0,
        ...(status.remoteLsn !== undefined ? { syncLsn: status.remoteLsn } : {}),
      };
    });
  }

  /**
   * Points `conn.name` at the replayed scratch graft (the old graft and its data go), then pushes.
   * ConcurrentWrite (nothing changed) if a local commit landed on the database since start.
   */
  async finish(conn: Connection, base: RebaseBase): Promise<{ graft: VolumeId; push: PushResult | undefined }> {
    const { runtime } = this.#session;
    const scratch = scratchName(conn.name);
    const graft = await this.#session.withLock(conn.name, async () => {
      this.#mustBeRunning(conn.name);
      try {
        const vid = runtime.mustGetTag(conn.name);
        if (vid !== base.graft || (runtime.graftStatus(vid).localLsn ?? 0) !== base.localLsn) {
          throw new ScionError('ConcurrentWrite', `"${conn.name}" got new local commits while it was rebasing. Nothing changed: rebase again.`, { name: conn.name, localCommits: true });
        }
        this.#session.refuseOpenTransactions(conn.name, 'finish the rebase');
        if (this.#session.handlesOf(scratch).length > 0) throw new ScionError('Internal', `BUG: the scratch database ${scratch} is still open at finish.`);
        const replayed = runtime.mustGetTag(scratch);
        // The name moves first: a crash after it leaves the scratch name on the same graft (dropped
        // by the next start) and the old graft unnamed, never the name on a half-replayed graft.
        await runtime.tagReplace(conn.name, replayed);
        await runtime.tagDelete(scratch);
        await runtime.graftDelete(vid);
        this.#session.announce({ name: conn.name, reason: 'graft', graft: replayed });
        return replayed;
      } finally {
        this.#running.delete(conn.name);
      }
    });
    let push: PushResult | undefined;
    try {
      push = await runtime.graftPush(graft);
    } catch (e) {
      // The rebase is done and durable; the push is retried by the next sync.
      if (!isScionError(e, 'RemoteUnavailable') && !isScionError(e, 'OutcomeUnknown') && !isScionError(e, 'UrlExpired')) throw e;
    }
    return { graft, push };
  }

  /** Discards the scratch graft; the database stays as it was (diverged). */
  async abort(conn: Connection): Promise<void> {
    const scratch = scratchName(conn.name);
    await this.#session.withLock(conn.name, async () => {
      this.#running.delete(conn.name);
      await this.#dropScratch(conn.name, scratch);
    });
  }

  #mustBeRunning(name: Tag): void {
    if (!this.#running.has(name)) throw new ScionError('InvalidInput', `No rebase of "${name}" is under way (it was aborted, finished, or the worker restarted). Start it again.`, { name });
  }

  /** A scratch graft left by an earlier attempt (or a crash) goes, unless the name already points at it. */
  async #dropScratch(name: Tag, scratch: Tag): Promise<void> {
    const { runtime } = this.#session;
    const left = runtime.tagGet(scratch);
    if (left === undefined) return;
    for (const handle of this.#session.handlesOf(scratch)) this.#session.close(handle);
    if (left === runtime.tagGet(name)) await runtime.tagDelete(scratch);
    else await runtime.graftDelete(left);
  }
}
