import { getLogger } from '@logtape/logtape';
import {
  INLINE_MAX_BYTES, ChecksumBuilder, frameObject, RemoteKey, segmentObjects, Graft, isScionError, isUploadedSegment, LSN, Page, PageCount, PageSet, ScionError, SegmentId, Snapshot, SYSTEM_IDS, Tag, VolumeId,
  type Commit, type IdSource, type PageIdx, type SegmentRef, type SharedName,
} from '../core/index.ts';
import type { Catalog, CommitEntry, LocalStore } from '../local/index.ts';
import type { Remote } from '../remote/index.ts';
import { countingRemote } from './counting-remote.ts';
import type { GraftStatus, HydrateProgress, PullResult, PushResult, ReadStats } from '../protocol/index.ts';
import { graftStatus } from './graft-status.ts';
import { checkReadable, heldCommits, mustGetCommit } from './held-commits.ts';
import type { FramePlanner, JobContext } from './job-context.ts';
import { cloneLog, fetchLog, REPLICA_MIN_LSN } from './jobs/fetch-log.ts';
import type { ReplicaIndex } from './replica.ts';
import { HintWriter } from './jobs/latest.ts';
import { collectLocalGarbage, type LocalGcOptions, type LocalGcResult } from './jobs/gc.ts';
import { compactRemote, type CompactOptions, type CompactResult } from './jobs/compact.ts';
import { collectRemoteGarbage, type RemoteGcOptions, type RemoteGcResult } from './jobs/remote-gc.ts';
import { hydrateSnapshot, type HydrateOptions } from './jobs/hydrate.ts';
import { pullGraft } from './jobs/pull.ts';
import { planSequentialFrames, pushGraft, type PushOptions } from './jobs/push.ts';
import { adoptAbandoned, recoverPendingCommit } from './jobs/recover.ts';
import { claimRemoteName, getRemoteName } from './jobs/remote-name.ts';
import { orphanVolumes, reconcileGraft } from './reconcile.ts';
import { logOp } from './op-log.ts';
import { QuietTimer } from './quiet-timer.ts';
import { StagedVolume } from './staged-volume.ts';
import { emptyReadStats, PageSource, VolumeReader, type ReadOptions } from './volume-reader.ts';
import { VolumeWriter, type GraftVersion } from './volume-writer.ts';

export interface RuntimeOptions {
  /** Pages and volume logs; blocking, so the runtime lives in the DB worker. */
  store: LocalStore;
  /** Tags and grafts. */
  catalog: Catalog;
  /** The bucket (S3Remote through presigned URLs, or MemoryRemote). Without it the runtime is local-only. */
  remote?: Remote;
  /** Clock and randomness for new ids (seeded in simulations). */
  ids?: IdSource;
  /** How a push groups pages into frames; default ascending runs of 64. The VFS puts B-tree interior pages first. */
  planFrames?: FramePlanner;
  /**
   * A push whose compressed frames are at most this many bytes carries them inside its commit object
   * (no segment object: one round trip less). Default 16 KiB; 0 always uploads a segment. Remote GC
   * never deletes commit objects, so inline frames stay in the bucket for good.
   */
  inlineMaxBytes?: number;
  /**
   * Run local GC in the background after every `everyCommits` local commits and after each push, so
   * the store follows the live data without the app calling `collectLocalGarbage`. Off unless given
   * (the DB worker turns it on).
   */
  autoGc?: LocalGcOptions & { everyCommits: number };
  /** A clone of a log at least this long also reads the volume's compacted index (default 128; shorter logs are rarely compacted). */
  replicaMinLsn?: number;
  /**
   * Once no write has happened for this long, the store checkpoints its journal if the next open would
   * otherwise replay more than a few ms of records (default 1000 ms; also done at close).
   */
  quietCheckpointMs?: number;
}

const logger = getLogger(['scion', 'runtime', 'store']);

/** How long writes must pause before the journal's tail is checkpointed (RuntimeOptions.quietCheckpointMs). */
const QUIET_CHECKPOINT_MS = 1000;

/** Emitted after every local commit, so SQLite connections and apps can notice new snapshots. */
export interface CommitEvent {
  readonly graft: VolumeId;
  readonly lsn: LSN;
  readonly snapshot: Snapshot;
}

/** Errors that come from the remote, not from this runtime: they never stop it from opening. */
const REMOTE_FAILURES = ['RemoteUnavailable', 'UrlExpired', 'Forbidden', 'Corrupt'] as const;

/** Where one page of a snapshot lives: the commit (volume, LSN, segment) that last wrote it, and whether it is held locally. */
export interface PageState {
  readonly vid: VolumeId;
  readonly lsn: LSN;
  readonly sid: SegmentId;
  readonly held: boolean;
  /** Bucket keys holding its frame: its segment's object(s), or its commit object (inline frames). */
  readonly objects: readonly string[];
}

/**
 * The one entry point: tags → grafts → volumes. Page reads and commits are synchronous (the VFS calls
 * them); catalog changes are async and durable when they resolve. Lookups answer from an in-memory
 * mirror of the catalog, loaded at open.
 */
export class Runtime {
  readonly #store: LocalStore;
  readonly #catalog: Catalog;
  readonly #ids: IdSource;
  readonly #tags: Map<Tag, VolumeId>;
  readonly #grafts: Map<VolumeId, Graft>;
  readonly #remote: Remote | undefined;
  readonly #planFrames: FramePlanner;
  readonly #inlineMaxBytes: number;
  readonly #listeners = new Set<(e: CommitEvent) => void>();
  /** Sync jobs of one graft run one at a time. */
  readonly #jobs = new Map<VolumeId, Promise<unknown>>();
  /** Grafts whose sync point a pull is moving onto commits they never saw: local commits wait. */
  readonly #rebasing = new Set<VolumeId>();
  /** Per graft, how often a pull moved its sync point onto commits it never saw (part of graftVersion). */
  readonly #rebases = new Map<VolumeId, number>();
  /** Forks whose records are written but whose graft is not registered yet: local GC keeps their pages. */
  readonly #forking = new Map<VolumeId, Graft>();
  readonly #stats: ReadStats = emptyReadStats();
  readonly #pages: PageSource;
  /** Per remote volume, the newest checkpoint seen in a latest hint (pushes write the tail after it). */
  readonly #checkpoints = new Map<VolumeId, number>();
  readonly #logEnds = new Map<VolumeId, number>();
  readonly #replicas = new Map<VolumeId, ReplicaIndex>();
  readonly #replicaMinLsn: number;
  readonly #hints = new HintWriter();
  /** Snapshots local GC must keep (checkouts), by lease id. */
  readonly #retained = new Map<number, Snapshot>();
  #nextRetained = 1;
  readonly #autoGc: RuntimeOptions['autoGc'];
  #commitsSinceGc = 0;
  #gcDue = false;
  /** The store's background upkeep while it runs. */
  #upkeep: Promise<void> | undefined;
  /** Touched by every write: the journal's tail is checkpointed once they pause. */
  readonly #quiet: QuietTimer;
  #closed = false;

  private constructor(options: RuntimeOptions, tags: Map<Tag, VolumeId>, grafts: Map<VolumeId, Graft>) {
    this.#store = options.store;
    this.#catalog = options.catalog;
    this.#remote = options.remote && countingRemote(options.remote, this.#stats);
    this.#replicaMinLsn = options.replicaMinLsn ?? REPLICA_MIN_LSN;
    this.#pages = new PageSource(this.#store, this.#remote, this.#stats, () => this.#checkOpen(), this.#replicas);
    this.#ids = options.ids ?? SYSTEM_IDS;
    this.#planFrames = options.planFrames ?? planSequentialFrames;
    this.#inlineMaxBytes = options.inlineMaxBytes ?? INLINE_MAX_BYTES;
    this.#autoGc = options.autoGc;
    this.#quiet = new QuietTimer(options.quietCheckpointMs ?? QUIET_CHECKPOINT_MS, () => this.#checkpointTail());
    this.#tags = tags;
    this.#grafts = grafts;
  }

  /** Loads the catalog, then resolves pushes that were in flight when the last session ended. */
  static async open(options: RuntimeOptions): Promise<Runtime> {
    const rt = await logOp('runtime.open', 'info', {}, async () => {
      const { tags, grafts } = await options.catalog.load();
      return new Runtime(options, new Map(tags), new Map(grafts.map((g) => [g.local, g])));
    });
    await rt.#reconcileWithStore();
    await rt.recoverPendingCommits();
    return rt;
  }

  /**
   * Brings the catalog in line with the store (see reconcile.ts): grafts naming commits a salvage
   * dropped are moved back onto what is held, and volumes no graft names (a delete whose data drop hit
   * a full disk) are dropped now. A drop that fails again waits for the next open.
   */
  async #reconcileWithStore(): Promise<void> {
    for (const graft of [...this.#grafts.values()]) {
      const fixed = reconcileGraft(graft, this.#store.latestLsnSync(graft.local), this.#store.latestLsnSync(graft.remote));
      if (!fixed) continue;
      logger.warn('graft {graft} named commits the local store no longer holds (salvaged): sync point {from} is now {to}', {
        graft: graft.local, from: JSON.stringify(graft.sync ?? null), to: JSON.stringify(fixed.sync ?? null),
      });
      await this.#catalog.putGraft(fixed);
      this.#grafts.set(fixed.local, fixed);
    }
    const orphans = orphanVolumes(this.#store.volumesSync(), [...this.#grafts.values()]);
    for (const volume of orphans) {
      try {
        this.#store.dropVolumeSync(volume);
      } catch (e) {
        logger.warn('dropping volume {volume}, which no graft names, failed: {message}', { volume, message: (e as Error).message });
      }
    }
    if (orphans.length > 0) this.#scheduleUpkeep();
  }

  // ── Tags ────────────────────────────────────────────────────────────────────────────────

  tagList(): { tag: Tag; graft: VolumeId }[] {
    return [...this.#tags].map(([tag, graft]) => ({ tag, graft })).sort((a, b) => a.tag.localeCompare(b.tag));
  }

  tagGet(tag: string): VolumeId | undefined {
    return this.#tags.get(Tag.parse(tag));
  }

  /** Throws TagNotFound. */
  mustGetTag(tag: string): VolumeId {
    const vid = this.tagGet(tag);
    if (!vid) throw new ScionError('TagNotFound', `No tag named "${tag}". Create it with tagOpen or tagReplace.`, { tag });
    return vid;
  }

  /** Points `tag` at an existing graft; returns the graft it pointed at before. Throws GraftNotFound. */
  async tagReplace(tag: string, graft: VolumeId): Promise<VolumeId | undefined> {
    const name = Tag.parse(tag);
    this.mustGetGraft(graft);
    return logOp('tag.replace', 'info', { tag, graft }, async () => {
      this.#checkOpen();
      const previous = this.#tags.get(name);
      await this.#catalog.putTag(name, graft);
      this.#tags.set(name, graft);
      return previous;
    });
  }

  /** Removes the name only; the graft and its data stay. Returns whether the tag existed. */
  async tagDelete(tag: string): Promise<boolean> {
    const name = Tag.parse(tag);
    return logOp('tag.delete', 'info', { tag }, async () => {
      this.#checkOpen();
      if (!this.#tags.has(name)) return false;
      await this.#catalog.deleteTag(name);
      this.#tags.delete(name);
      return true;
    });
  }

  /** The graft `tag` points at, or a new graft (attached to `remote` if given) under that tag. */
  async tagOpen(tag: string, options: { remote?: VolumeId } = {}): Promise<Graft> {
    const existing = this.tagGet(tag);
    if (existing) return this.graftOpen({ local: existing, ...options });
    const graft = await this.graftOpen(options);
    await this.tagReplace(tag, graft.local);
    return graft;
  }

  // ── Grafts ──────────────────────────────────────────────────────────────────────────────

  graftList(): Graft[] {
    return [...this.#grafts.values()];
  }

  graftGet(vid: VolumeId): Graft | undefined {
    return this.#grafts.get(vid);
  }

  /** Throws GraftNotFound. */
  mustGetGraft(vid: VolumeId): Graft {
    const graft = this.#grafts.get(vid);
    if (!graft) throw new ScionError('GraftNotFound', `No graft with local volume ${vid}. List grafts with graftList().`, { graft: vid });
    return graft;
  }

  /**
   * Returns the graft whose local volume is `local`, or creates one (new ids for what is not given).
   * A new graft on a remote volume whose commits are already held locally attaches at its latest.
   * Throws GraftRemoteMismatch if `local` exists with another remote.
   */
  async graftOpen(options: { local?: VolumeId; remote?: VolumeId } = {}): Promise<Graft> {
    const existing = options.local && this.#grafts.get(options.local);
    if (existing) {
      if (options.remote && options.remote !== existing.remote) {
        throw new ScionError(
          'GraftRemoteMismatch',
          `Graft ${existing.local} is attached to remote ${existing.remote}, not ${options.remote}. Open it without a remote, or clone the other remote into a new graft.`,
          { graft: existing.local, expected: options.remote, actual: existing.remote },
        );
      }
      return existing;
    }
    return logOp('graft.open', 'info', { graft: options.local, volume: options.remote }, async () => {
      this.#checkOpen();
      const remote = options.remote ?? VolumeId.random(this.#ids);
      const remoteLatest = this.#store.latestLsnSync(remote);
      const graft: Graft = {
        local: options.local ?? VolumeId.random(this.#ids),
        remote,
        sync: remoteLatest ? { remote: remoteLatest } : undefined,
      };
      await this.#catalog.putGraft(graft);
      this.#grafts.set(graft.local, graft);
      return graft;
    });
  }

  /**
   * Removes the graft, the tags that point at it and its local volume's data. Never touches a remote.
   * Fetched commits of its remote volume are dropped too unless another graft uses that remote.
   */
  async graftDelete(vid: VolumeId): Promise<void> {
    this.mustGetGraft(vid);
    // Queued after the graft's sync jobs: a push landing meanwhile would write the graft back.
    await this.#job(vid, 'graft.delete', async () => {
      const graft = this.mustGetGraft(vid);
      await this.#catalog.deleteGraft(vid);
      this.#grafts.delete(vid);
      for (const [tag, target] of this.#tags) if (target === vid) this.#tags.delete(tag);
      // The delete is done (the catalog no longer names the graft); dropping its data only gives space
      // back. On a full disk that drop can fail: the delete still stands, and the next open drops the
      // volumes no graft names.
      const remoteInUse = [...this.#grafts.values()].some((g) => g.remote === graft.remote || g.local === graft.remote);
      for (const volume of remoteInUse ? [graft.local] : [graft.local, graft.remote]) {
        try {
          this.#store.dropVolumeSync(volume);
        } catch (e) {
          logger.warn('graft {graft} deleted; dropping volume {volume} failed: {message}', { graft: vid, volume, message: (e as Error).message });
        }
      }
      this.#scheduleUpkeep();
    });
  }

  graftStatus(vid: VolumeId): GraftStatus {
    const graft = this.mustGetGraft(vid);
    return graftStatus(graft, this.#store.latestLsnSync(graft.local), this.#store.latestLsnSync(graft.remote));
  }

  /**
   * The graft's latest snapshot: unpushed local commits over the remote at the sync point.
   * Local commits ≤ the watermark are not on the path: their content is in the remote commit.
   */
  graftSnapshot(vid: VolumeId): Snapshot {
    const graft = this.mustGetGraft(vid);
    const path = Graft.path(graft, this.#store.latestLsnSync(graft.local));
    const head = path[0];
    return { pageCount: head ? this.#mustGetCommit(head.vid, head.end).pageCount : PageCount.ZERO, path };
  }

  graftReader(vid: VolumeId): VolumeReader {
    return new VolumeReader(this.graftSnapshot(vid), this.#pages);
  }

  /**
   * Names the content of the graft's latest snapshot. It changes with every local commit and every
   * pull, never with a push landing: that moves the sync point onto a remote commit holding exactly
   * the pages already visible, so the snapshot's path changes but not what it reads.
   */
  graftVersion(vid: VolumeId): GraftVersion {
    this.mustGetGraft(vid);
    return `${vid}:${this.#store.latestLsnSync(vid) ?? 0}:${this.#rebases.get(vid) ?? 0}` as GraftVersion;
  }

  /** Whether a transaction begun at `version` may still commit: nothing changed what it read. */
  graftIsAt(vid: VolumeId, version: GraftVersion): boolean {
    return !this.#rebasing.has(vid) && this.graftVersion(vid) === version;
  }

  /**
   * A transaction on the graft's latest snapshot. Writers hold no lock: a stale one fails at commit.
   * Until it commits or is discarded, local GC keeps the history and pages its snapshot reads.
   */
  graftWriter(vid: VolumeId): VolumeWriter {
    this.#checkOpen();
    const version = this.graftVersion(vid);
    const snapshot = this.graftSnapshot(vid);
    // Local GC keeps what the transaction reads until it commits or is discarded.
    const release = this.retainSnapshot(snapshot);
    return new VolumeWriter(snapshot, version, this.#pages, (base, pageCount, truncatedTo, pages) =>
      this.#commit(vid, version, base, pageCount, truncatedTo, pages), release,
    );
  }

  /** A volume no graft names, for a large write in steps (see StagedVolume); discard it if it is not committed. */
  volumeStage(): StagedVolume {
    this.#checkOpen();
    return new StagedVolume(this.#store, this.#ids, (snapshot) => this.retainSnapshot(snapshot));
  }

  /**
   * Replaces the graft's content with `staged` (pages 1..its page count) as one local commit that
   * refers to the staged pages (none is written again), then drops the staging volume. Throws
   * ConcurrentWrite if the graft changed since `version`; then nothing is committed and `staged` stays.
   */
  graftCommitStaged(vid: VolumeId, version: GraftVersion, staged: StagedVolume): Snapshot {
    const base = this.graftSnapshot(vid);
    const snapshot = this.#commit(vid, version, base, staged.pageCount, staged.pageCount, new Map(), staged.segment);
    staged.discard();
    return snapshot;
  }

  /**
   * A new, independent graft whose local volume starts as `snapshot`: its commits are copied as
   * records (the pages are shared, not copied). It has a new remote and no sync point. Unless
   * `reuseSegments` is false, its first push references the segments of the snapshot already in the
   * bucket (format 2, under a volume's prefix) instead of uploading those pages again.
   */
  async graftFork(snapshot: Snapshot, options: { remote?: VolumeId | undefined; reuseSegments?: boolean } = {}): Promise<Graft> {
    return logOp('graft.fork', 'info', { pages: snapshot.pageCount }, async () => {
      this.#checkOpen();
      const local = VolumeId.random(this.#ids);
      const entries: CommitEntry[] = [];
      for (const range of [...snapshot.path].reverse()) {
        for (const c of heldCommits(this.#store, range)) {
          entries.push({ commit: { vid: local, lsn: LSN.next(entries.at(-1)?.commit.lsn), pageCount: c.pageCount, segment: c.segment } });
        }
      }
      // The head commit's page count is the snapshot's only if the snapshot is a real one.
      const head = entries.at(-1)?.commit;
      if (head && head.pageCount !== snapshot.pageCount) {
        entries.push({ commit: { vid: local, lsn: LSN.next(head.lsn), pageCount: snapshot.pageCount } });
      }
      const remote = options.remote ?? VolumeId.random(this.#ids);
      const ancestors = options.reuseSegments === false ? [] : [...new Set(entries.flatMap(({ commit }) => (isUploadedSegment(commit.segment) && commit.segment.home !== remote ? [commit.segment.home] : [])))];
      // Records first: a crash before the catalog write leaves an orphan log, never a broken graft.
      const graft: Graft = { local, remote, ...(ancestors.length > 0 ? { ancestors } : {}) };
      this.#store.appendCommitsSync(entries);
      this.#forking.set(local, graft);
      try {
        await this.#catalog.putGraft(graft);
        this.#grafts.set(local, graft);
      } finally {
        this.#forking.delete(local);
      }
      return graft;
    });
  }

  // ── Sync ────────────────────────────────────────────────────────────────────────────────

  /** Downloads the remote volume's new commit records (no pages); returns its latest LSN known. */
  async graftFetch(vid: VolumeId, options: { maxLsn?: LSN; signal?: AbortSignal } = {}): Promise<LSN | undefined> {
    const graft = this.mustGetGraft(vid);
    return this.#job(vid, 'graft.fetch', async () => {
      const latest = await fetchLog(this.#ctx(), graft.remote, options);
      // A late landing of our own abandoned push is no divergence: land it, as a pull would.
      await adoptAbandoned(this.#ctx(), vid);
      return latest;
    }, (lsn) => ({ lsn }));
  }

  /** Fetch, then fast-forward the sync point (no pages copied). Divergence is an outcome, with the ways out. */
  async graftPull(vid: VolumeId, options: { signal?: AbortSignal } = {}): Promise<PullResult> {
    this.mustGetGraft(vid);
    return this.#job(vid, 'graft.pull', () => pullGraft(this.#ctx(), vid, options), (r) => ({ lsn: r.outcome === 'pulled' ? r.to : undefined }));
  }

  /** All unpushed local commits → one segment + one remote commit. Divergence is an outcome. */
  async graftPush(vid: VolumeId, options: PushOptions = {}): Promise<PushResult> {
    this.mustGetGraft(vid);
    const result = await this.#job(vid, 'graft.push', () => pushGraft(this.#ctx(), vid, options), (r) =>
      r.outcome === 'pushed' ? { lsn: r.remoteLsn, pages: r.pages, bytes: r.bytes } : {},
    );
    // Pushed pages are re-fetchable now: old versions and cached copies can go.
    if (this.#autoGc && result.outcome === 'pushed') this.#requestGc();
    return result;
  }

  /** Resolves once the latest hints of the pushes that resolved so far (written after them, in the background) are written or given up on. */
  hintsSettled(): Promise<void> {
    return this.#hints.settled();
  }

  /** Fetches every frame of the graft's latest snapshot that is not held locally. */
  async graftHydrate(vid: VolumeId, options: HydrateOptions = {}): Promise<HydrateProgress> {
    return this.snapshotHydrate(this.graftSnapshot(vid), options);
  }

  async snapshotHydrate(snapshot: Snapshot, options: HydrateOptions = {}): Promise<HydrateProgress> {
    // Local GC must not squash the history the snapshot reads while its frames are in flight.
    const release = this.retainSnapshot(snapshot);
    try {
      return await logOp('snapshot.hydrate', 'info', { pages: snapshot.pageCount }, () => hydrateSnapshot(this.#ctx(), snapshot, { stats: this.#stats, ...options }), (p) => ({ bytes: p.bytes }));
    } finally {
      release();
    }
  }

  /**
   * Clone (create a volume from a remote): a new graft attached to `remote` at its latest LSN.
   * Only commit records are fetched; pages arrive on read. Optionally under `tag` (moved if it exists).
   * Throws VolumeNotFound if the remote volume has no commits (never pushed, or a mistyped id).
   */
  async graftClone(remote: VolumeId, options: { tag?: string; signal?: AbortSignal; allowEmpty?: boolean } = {}): Promise<Graft> {
    return this.#clone(remote, options, options.allowEmpty === true);
  }

  /** The remote volume a shared name points at in the bucket (`names/{name}`), or undefined if nobody created it. */
  async remoteNameGet(name: SharedName, options: { signal?: AbortSignal } = {}): Promise<VolumeId | undefined> {
    return logOp('name.get', 'info', { tag: name }, () => getRemoteName(this.#ctx().remote, name, options));
  }

  /**
   * Creates the shared name pointing at `vid` (default: a fresh volume id) unless it exists; returns
   * the volume it points at now, which is another one when some device claimed the name first. A name,
   * once created, points at its volume for good.
   */
  async remoteNameClaim(name: SharedName, vid: VolumeId = VolumeId.random(this.#ids), options: { signal?: AbortSignal } = {}): Promise<VolumeId> {
    return logOp('name.claim', 'info', { tag: name, volume: vid }, () => claimRemoteName(this.#ctx().remote, name, vid, options));
  }

  /** A clone; `allowEmpty`: a remote volume without commits gives an empty graft instead of VolumeNotFound. */
  async #clone(remote: VolumeId, options: { tag?: string; signal?: AbortSignal }, allowEmpty: boolean): Promise<Graft> {
    return logOp('graft.clone', 'info', { volume: remote, tag: options.tag }, async () => {
      const latest = (await cloneLog(this.#ctx(), remote, options)) ?? this.#store.latestLsnSync(remote);
      if (latest === undefined && !allowEmpty) {
        throw new ScionError('VolumeNotFound', `Remote volume ${remote} has no commits: it was never pushed, or the id is mistyped. Check the id (status().remote on the device that pushed it).`, { volume: remote });
      }
      const graft = await this.graftOpen({ remote });
      if (options.tag !== undefined) await this.tagReplace(options.tag, graft.local);
      return graft;
    });
  }

  /**
   * The way out of divergence that discards local changes: a fresh graft on the same remote at its
   * latest LSN, and every tag of the old graft moved to it. The old graft is kept (fork it to save
   * its changes, or delete it).
   */
  async graftReset(vid: VolumeId, options: { signal?: AbortSignal } = {}): Promise<Graft> {
    const old = this.mustGetGraft(vid);
    // A remote never pushed to resets to an empty database.
    const fresh = await this.#clone(old.remote, options, true);
    await this.#moveTags(vid, fresh.local);
    return fresh;
  }

  /**
   * Moves a graft to a new remote — also the way out when its remote disappeared: hydrates what is
   * missing (while the old remote still answers), forks the latest snapshot, pushes the fork to the
   * new remote and moves the tags. Throws PageNotLocal if pages were never fetched and the old remote
   * is gone.
   */
  async graftSwitchRemote(vid: VolumeId, options: { remote?: VolumeId; signal?: AbortSignal } = {}): Promise<Graft> {
    const snapshot = this.graftSnapshot(vid);
    return logOp('graft.switchRemote', 'info', { graft: vid, volume: options.remote }, async () => {
      try {
        await this.snapshotHydrate(snapshot, options);
      } catch (e) {
        if (!isScionError(e, 'RemoteUnavailable') && !isScionError(e, 'PageNotLocal')) throw e;
      }
      const missing = this.snapshotMissingPages(snapshot);
      if (!missing.isEmpty) {
        throw new ScionError('PageNotLocal', `${missing.size} pages of graft ${vid} were never fetched and its remote is unreachable, so they cannot move to a new remote. Retry when the old remote answers.`, {
          graft: vid, missing: missing.size,
        });
      }
      // The old remote may be going away: the new one gets every page.
      const fork = await this.graftFork(snapshot, { remote: options.remote, reuseSegments: false });
      const pushed = await this.graftPush(fork.local, options);
      if (pushed.outcome === 'diverged') {
        throw new ScionError('VolumeDiverged', `The new remote ${fork.remote} already has commits. Switch to an empty remote volume.`, { graft: fork.local, remote: fork.remote });
      }
      await this.#moveTags(vid, fork.local);
      return this.mustGetGraft(fork.local);
    });
  }

  /** Resolves every graft's in-flight push (RecoverPendingCommit). Offline, they stay pending. */
  async recoverPendingCommits(): Promise<void> {
    if (!this.#remote) return;
    for (const graft of this.graftList().filter((g) => g.pending)) {
      try {
        await this.#job(graft.local, 'graft.recover', () => recoverPendingCommit(this.#ctx(), graft.local));
      } catch (e) {
        // Whatever the remote answers (offline, an expired URL, a refused grant, a damaged body), the
        // local data must still open: the push stays pending (status shows it; the job logged why),
        // and the next push or pull retries the recovery and reports the error.
        if (!REMOTE_FAILURES.some((code) => isScionError(e, code))) throw e;
      }
    }
  }

  /**
   * Remote GC (admin grant needed): deletes segments no retained snapshot of any volume reaches
   * (`retain`: the last N commits or those younger than a time; default all), older than the grace period.
   */
  /** The remote compactor (admin grant with write; see compactRemote). */
  async compactRemote(options: CompactOptions): Promise<CompactResult> {
    return logOp('gc.compact', 'info', { volume: options.volume }, () => compactRemote(this.#ctx(), options));
  }

  async collectRemoteGarbage(options: RemoteGcOptions = {}): Promise<RemoteGcResult> {
    return logOp('gc.remote', 'info', {}, () => collectRemoteGarbage(this.#ctx(), options));
  }

  /**
   * Local GC: drops cached pages no retained snapshot reaches (see LocalRetention), then
   * re-fetchable ones over the budget. The store's files shrink in the background.
   */
  collectLocalGarbage(options: LocalGcOptions = {}): LocalGcResult {
    const result = this.#collectLocal(options);
    this.#scheduleUpkeep();
    return result;
  }

  #collectLocal(options: LocalGcOptions): LocalGcResult {
    this.#commitsSinceGc = 0;
    const grafts = this.graftList();
    const ctx = { store: this.#store, locatePage: (snapshot: Snapshot, pageIdx: PageIdx) => this.#pages.locate(snapshot, pageIdx), mustGetCommit: this.#mustGetCommit.bind(this) };
    // A fork being registered has no sync point: all its commits count as unpushed, so their pages stay.
    const keep = {
      grafts: [...grafts.map((graft) => ({ graft, latest: this.graftSnapshot(graft.local) })), ...[...this.#forking.values()].map((graft) => ({ graft, latest: undefined }))],
      retained: [...this.#retained.values()],
      busy: new Set(this.#jobs.keys()),
    };
    return logOp('gc.local', 'info', {}, () => collectLocalGarbage(ctx, keep, options));
  }

  /** Automatic local GC: runs as the next step of the background upkeep. */
  #requestGc(): void {
    this.#gcDue = true;
    this.#scheduleUpkeep();
  }

  /**
   * Keeps the pages of `snapshot` from local GC until the returned function is called (open
   * checkouts and readers of past snapshots).
   */
  retainSnapshot(snapshot: Snapshot): () => void {
    const id = this.#nextRetained++;
    this.#retained.set(id, snapshot);
    return () => void this.#retained.delete(id);
  }

  /**
   * Runs the store's upkeep (compaction into freed slots, journal checkpoints) to its end in the
   * background, one bounded step per macrotask, so reads and commits wait a few ms at most.
   * Resolves when no work is left (tests and benchmarks await it; apps need not).
   */
  storeUpkeep(): Promise<void> {
    this.#scheduleUpkeep();
    return this.#upkeep ?? Promise.resolve();
  }

  #scheduleUpkeep(): void {
    if (this.#upkeep || this.#closed) return;
    const step = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0)).then(() => {
      if (this.#closed) return;
      let more = false;
      try {
        if (this.#gcDue && this.#autoGc) {
          this.#gcDue = false;
          this.#collectLocal(this.#autoGc);
          more = true;
        } else more = this.#store.compactStepSync();
      } catch (e) {
        logger.warn('store upkeep stopped: {message}', { message: (e as Error).message });
      }
      return more ? step() : undefined;
    });
    this.#upkeep = step().finally(() => {
      this.#upkeep = undefined;
      if (!this.#closed) this.#quiet.touch();
    });
  }

  /** Counters of the remote read path since the runtime opened. */
  readStats(): Readonly<ReadStats> {
    return { ...this.#stats };
  }

  /** Page misses since the runtime opened: readStats().pagesMissed without the copy, for the VFS's hot path. */
  get pagesMissed(): number {
    return this.#stats.pagesMissed;
  }

  // ── Volumes and snapshots ───────────────────────────────────────────────────────────────

  /** The oldest LSN of `vid` a checkout may name (local GC squashes older history), or undefined if no log is held. */
  volumeOldestLsn(vid: VolumeId): LSN | undefined {
    return this.#store.oldestLsnSync(vid);
  }

  /** A read-only snapshot of `vid`'s log at `lsn` (time travel). Throws CommitNotFound. */
  volumeCheckout(vid: VolumeId, lsn: LSN): Snapshot {
    checkReadable(this.#store, vid, lsn);
    const commit = this.#mustGetCommit(vid, lsn);
    return { pageCount: commit.pageCount, path: [{ vid, start: LSN.FIRST, end: lsn }] };
  }

  volumeReader(snapshot: Snapshot): VolumeReader {
    return new VolumeReader(snapshot, this.#pages);
  }

  /**
   * The page as `snapshot` shows it: zeros past the end or where never written. Blocking.
   * Throws PageNotLocal when the page's bytes are not held locally.
   */
  readPage(snapshot: Snapshot, pageIdx: PageIdx, options?: ReadOptions): Page {
    return this.#pages.read(snapshot, pageIdx, options);
  }

  /** As readPage, but a miss is fetched with fetch() instead of blocking. */
  readPageAsync(snapshot: Snapshot, pageIdx: PageIdx): Promise<Page> {
    return this.#pages.readAsync(snapshot, pageIdx);
  }

  /** Visible pages whose bytes are not held locally. */
  snapshotMissingPages(snapshot: Snapshot): PageSet {
    const missing: number[] = [];
    for (let idx = 1 as PageIdx; idx <= snapshot.pageCount; idx++) {
      const commit = this.#pages.locate(snapshot, idx);
      if (commit?.segment && !this.#store.hasPageSync(commit.segment.sid, idx)) missing.push(idx);
    }
    return PageSet.of(missing);
  }

  /**
   * Where each visible page of `snapshot` lives (index 0 is page 1): the commit that last wrote it and
   * whether its bytes are held locally; undefined for a page never written (it reads as zeros). Blocking, read-only.
   */
  snapshotPageStates(snapshot: Snapshot): (PageState | undefined)[] {
    const states: (PageState | undefined)[] = [];
    const objectsOf = new Map<Commit, string[]>();
    for (let idx = 1 as PageIdx; idx <= snapshot.pageCount; idx++) {
      const commit = this.#pages.locate(snapshot, idx);
      const seg = commit?.segment;
      if (!commit || !seg) {
        states.push(undefined);
        continue;
      }
      let objects = objectsOf.get(commit);
      if (!objects) objectsOf.set(commit, (objects = seg.frames.length === 0 ? [] : seg.inline ? [RemoteKey.segment(frameObject(seg, 0).at)] : segmentObjects(seg).map(RemoteKey.segment)));
      states.push({ vid: commit.vid, lsn: commit.lsn, sid: seg.sid, held: this.#store.hasPageSync(seg.sid, idx), objects });
    }
    return states;
  }

  /**
   * Order-independent digest of the snapshot's content (see ChecksumBuilder): equal across replicas
   * with equal pages. Throws PageNotLocal if a visible page is not held locally (hydrate first).
   */
  snapshotChecksum(snapshot: Snapshot): string {
    return logOp('snapshot.checksum', 'debug', { pages: snapshot.pageCount }, () => {
      const sum = new ChecksumBuilder();
      for (let idx = 1 as PageIdx; idx <= snapshot.pageCount; idx++) sum.add(idx, this.#pages.read(snapshot, idx));
      return sum.finish(snapshot.pageCount);
    });
  }

  /** Subscribe to local commits; returns the unsubscribe function. */
  onCommit(listener: (e: CommitEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    if (this.#closed) return;
    this.#checkpointTail();
    this.#closed = true;
    this.#quiet.cancel();
    this.#listeners.clear();
    this.#store.closeSync();
    this.#catalog.close();
  }

  // ── Internals ───────────────────────────────────────────────────────────────────────────

  /** Writes paused (or the runtime closes): checkpoint the store's journal if an open would replay too much of it. */
  #checkpointTail(): void {
    if (this.#closed) return;
    // Compaction and local GC write records too: wait until they are done.
    if (this.#upkeep) return this.#quiet.touch();
    try {
      this.#store.checkpointTailSync();
    } catch (e) {
      logger.warn('journal checkpoint skipped (the next open replays its tail): {message}', { message: (e as Error).message });
    }
  }

  /** Runs a sync job after the graft's previous one, logged as one operation. */
  #job<T>(vid: VolumeId, op: string, run: () => Promise<T>, after?: (r: T) => Record<string, number | undefined>): Promise<T> {
    this.#checkOpen();
    const previous = this.#jobs.get(vid) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => logOp(op, 'info', { graft: vid }, run, after));
    this.#jobs.set(vid, next);
    const cleanup = () => {
      if (this.#jobs.get(vid) === next) this.#jobs.delete(vid);
      if (!this.#closed) this.#quiet.touch();
    };
    next.then(cleanup, cleanup);
    return next;
  }

  #ctx(): JobContext {
    if (!this.#remote) throw new ScionError('InvalidInput', 'This runtime has no remote. Open it with { remote } to sync.');
    return {
      store: this.#store,
      remote: this.#remote,
      ids: this.#ids,
      planFrames: this.#planFrames,
      inlineMaxBytes: this.#inlineMaxBytes,
      checkpoints: this.#checkpoints,
      logEnds: this.#logEnds,
      replicas: this.#replicas,
      replicaMinLsn: this.#replicaMinLsn,
      hints: this.#hints,
      retainSnapshot: (snapshot) => this.retainSnapshot(snapshot),
      mustGetGraft: (vid) => this.mustGetGraft(vid),
      grafts: () => this.graftList(),
      saveGraft: async (graft, options) => {
        // Until the new sync point is durable and mirrored, a commit would be based on the old one
        // and then sit on top of the new one: refuse it (ConcurrentWrite) instead.
        if (options?.rebases) this.#rebasing.add(graft.local);
        try {
          await this.#catalog.putGraft(graft);
          this.#grafts.set(graft.local, graft);
        } finally {
          if (options?.rebases) {
            this.#rebasing.delete(graft.local);
            this.#rebases.set(graft.local, (this.#rebases.get(graft.local) ?? 0) + 1);
          }
        }
      },
      locatePage: (snapshot, pageIdx) => this.#pages.locate(snapshot, pageIdx),
      readPage: (snapshot, pageIdx) => this.#pages.read(snapshot, pageIdx),
      mustGetCommit: (vid, lsn) => this.#mustGetCommit(vid, lsn),
    };
  }

  async #moveTags(from: VolumeId, to: VolumeId): Promise<void> {
    for (const { tag, graft } of this.tagList()) if (graft === from) await this.tagReplace(tag, to);
  }


  /** `held`: the commit's segment is already stored (a staged volume's); then `written` is empty. */
  #commit(vid: VolumeId, version: GraftVersion, base: Snapshot, pageCount: PageCount, truncatedTo: PageCount, written: ReadonlyMap<PageIdx, Page>, held?: SegmentRef): Snapshot {
    return logOp('graft.commit', 'debug', { graft: vid, pages: held?.pages.size ?? written.size }, () => {
      this.#checkOpen();
      const graft = this.mustGetGraft(vid);
      if (!this.graftIsAt(vid, version)) {
        throw new ScionError('ConcurrentWrite', `Graft ${vid} changed since this transaction began (now at ${Snapshot.format(this.graftSnapshot(vid))}). Nothing was committed: retry the transaction on the latest snapshot.`, {
          graft: vid,
        });
      }
      const pages = new Map(written);
      // Growing past an earlier truncation must not resurrect old pages: write zeros over any that exist.
      for (let idx = (truncatedTo + 1) as PageIdx; idx <= pageCount; idx++) {
        if (!pages.has(idx) && this.#pages.locate({ ...base, pageCount: PageCount.parse(idx) }, idx)) pages.set(idx, Page.zeroed());
      }
      const lsn = LSN.next(this.#store.latestLsnSync(graft.local));
      const commit: Commit = {
        vid: graft.local,
        lsn,
        pageCount,
        segment: held ?? (pages.size > 0 ? { sid: SegmentId.random(this.#ids), pages: PageSet.of(pages.keys()), frames: [] } : undefined),
      };
      this.#store.appendCommitsSync([{ commit, pages: commit.segment && !held ? pages : undefined }]);
      this.#quiet.touch();
      const snapshot = this.graftSnapshot(vid);
      for (const listener of this.#listeners) listener({ graft: vid, lsn, snapshot });
      if (this.#autoGc && ++this.#commitsSinceGc >= this.#autoGc.everyCommits) this.#requestGc();
      return snapshot;
    }, (snapshot) => ({ lsn: Snapshot.head(snapshot)?.lsn }));
  }

  #mustGetCommit(vid: VolumeId, lsn: LSN): Commit {
    return mustGetCommit(this.#store, vid, lsn);
  }

  #checkOpen(): void {
    if (this.#closed) throw new ScionError('Closed', 'The runtime is closed. Open a new one.');
  }
}
