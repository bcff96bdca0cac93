import { Commit, crc32c, LSN, PageIdx, RemoteKey, segmentObjects, type SegmentAddress, type SegmentId, type Snapshot, type VolumeId } from '../../src/core/index.ts';
import type { MemoryRemote } from '../../src/remote/index.ts';
import type { Runtime } from '../../src/runtime/index.ts';
import { checkBank, type BankDriver } from './bank.ts';
import type { TransferBook } from './book.ts';
import type { SimClient } from './client.ts';

/** Records a broken invariant: a short kind ('bank-invariant', 'lost-ack', …) and what happened. */
export type Violation = (kind: string, message: string) => void;

/**
 * The invariants that span clients and time: what every reader of the shared remote saw at each
 * LSN, the checksums of replicas, the history of every remote object, and the bank in every
 * snapshot. Operations feed it as they go; the audit asks it at the end.
 */
export class Invariants {
  readonly #bank: BankDriver;
  readonly #book: TransferBook;
  readonly #bucket: MemoryRemote;
  readonly #violation: Violation;
  readonly #checksums = new Map<string, { sum: string; who: string }>();
  /** Transfer ids at each LSN of the shared remote, as first read. */
  readonly #logs = new Map<number, readonly string[]>();
  /** Every commit object created, with a digest of its bytes: it may never change or vanish. */
  /** Per commit key: its bytes' CRC and the segment objects it names (none when its frames are inside it). */
  readonly #commits = new Map<string, { crc: number; objects: readonly SegmentAddress[] }>();

  /** Remote GC retains each volume's last this many LSNs (undefined: all). */
  readonly #retainCommits: number | undefined;

  constructor(bank: BankDriver, book: TransferBook, bucket: MemoryRemote, violation: Violation, retainCommits?: number) {
    this.#retainCommits = retainCommits;
    this.#bank = bank;
    this.#book = book;
    this.#bucket = bucket;
    this.#violation = violation;
  }

  /**
   * Reads a bank snapshot and checks it: the bank invariants (total, ledger, each transfer once),
   * no transfer that was lost or never made, and — for a snapshot attached to the shared remote at
   * `remoteLsn` — every transfer acknowledged at or before it. Returns the transfer ids, or
   * undefined after recording a violation.
   */
  checkBankSnapshot(rt: Runtime, snapshot: Snapshot, remoteLsn: number | undefined, what: string): string[] | undefined {
    const state = this.#bank.read(rt, snapshot);
    const problem = checkBank(state, this.#bank);
    if (problem) return void this.#violation('bank-invariant', `${what}: ${problem}`);
    const ids = state.log.map((t) => t.id);
    for (const id of ids) {
      const s = this.#book.state(id);
      if (s === undefined || s === 'lost') return void this.#violation('recorded-once', `${what}: transfer ${id} (${s ?? 'never committed'}) is in the snapshot`);
    }
    if (remoteLsn !== undefined) {
      const present = new Set(ids);
      const missing = this.#book.acked().filter((id) => !present.has(id) && (this.#book.ackedAt(id) ?? Infinity) <= remoteLsn);
      if (missing.length > 0) return void this.#violation('lost-ack', `${what}: attached at remote LSN ${remoteLsn} but misses acknowledged transfers ${missing.slice(0, 5).join(', ')}`);
    }
    return ids;
  }

  /** The log at the shared remote's `lsn` is the same for every reader, and extends every earlier one. */
  recordRemoteLog(lsn: number, ids: readonly string[], who: string): void {
    const known = this.#logs.get(lsn);
    if (known && (known.length !== ids.length || !isPrefix(known, ids))) {
      return this.#violation('replica-mismatch', `${who} reads a different log at remote LSN ${lsn} than an earlier reader`);
    }
    this.#logs.set(lsn, ids);
    for (const [other, log] of this.#logs) {
      if ((other < lsn && !isPrefix(log, ids)) || (other > lsn && !isPrefix(ids, log))) {
        return this.#violation('overwrite', `the log at remote LSN ${Math.min(other, lsn)} is not a prefix of the log at LSN ${Math.max(other, lsn)} (${who}): a commit was made on a stale parent`);
      }
    }
  }

  /** Replicas at the same (volume, LSN) have equal checksums. */
  recordChecksum(vid: VolumeId, lsn: number, sum: string, who: string): void {
    const key = `${vid}@${lsn}`;
    const known = this.#checksums.get(key);
    if (known && known.sum !== sum) return this.#violation('checksum', `${who} and ${known.who} disagree on the checksum of ${key}`);
    this.#checksums.set(key, { sum, who });
  }

  /**
   * The newest version of every page unpushed local commits wrote must never be evicted: it exists
   * nowhere else, and it is what the next push sends (older versions may go, outside the history window).
   */
  checkUnpushedPagesHeld(c: SimClient): void {
    for (const g of c.rt.graftList()) {
      const latest = c.store.latestLsnSync(g.local) ?? 0;
      const start = (g.sync?.localWatermark ?? 0) + 1;
      if (latest < start) continue;
      const written = new Set<number>();
      for (let lsn = start; lsn <= latest; lsn++) for (const idx of c.store.getCommitSync(g.local, LSN.parse(lsn))?.segment?.pages ?? []) written.add(idx);
      const pageCount = c.store.getCommitSync(g.local, LSN.parse(latest))?.pageCount ?? 0;
      for (const idx of written) {
        if (idx > pageCount) continue; // truncated away: a push does not send it
        const lsn = c.store.findPageVersionSync(g.local, PageIdx.parse(idx), LSN.parse(start), LSN.parse(latest));
        const seg = lsn === undefined ? undefined : c.store.getCommitSync(g.local, lsn)?.segment;
        // Segments with frames are in a remote (a fork copies remote commits): re-fetchable.
        if (!seg || seg.frames.length > 0) continue;
        if (!c.store.hasPageSync(seg.sid, PageIdx.parse(idx))) return this.#violation('evicted-unpushed', `${c.name} evicted page ${idx} of unpushed commit ${g.local}@${lsn}, its newest version`);
      }
    }
  }

  /** Commit keys remote GC pruned: they may never be created again. */
  readonly #pruned = new Set<string>();

  /** Remote GC deleted a commit record: only below the retained range. */
  onCommitDeleted(vid: VolumeId, lsn: LSN): void {
    const key = RemoteKey.commit(vid, lsn);
    if (!this.#commits.has(key) && !this.#pruned.has(key)) return this.#violation('overwrite', `remote GC deleted commit ${key}, which no PUT created`);
    if (lsn >= this.retainedFrom(vid)) this.#violation('pruned-retained', `remote GC deleted commit ${key}, at or above the oldest retained LSN ${this.retainedFrom(vid)}`);
    this.#pruned.add(key);
  }

  /** A commit PUT created its object: it must not reference a segment GC already deleted. */
  onCommitLanded(vid: VolumeId, lsn: LSN, bytes: Uint8Array): void {
    if (this.#pruned.has(RemoteKey.commit(vid, lsn))) this.#violation('recreated-pruned-lsn', `a PUT created commit ${vid}@${lsn} again after remote GC pruned it`);
    const seg = Commit.decode(bytes).segment;
    const objects = seg ? segmentObjects(seg) : [];
    this.#commits.set(RemoteKey.commit(vid, lsn), { crc: crc32c(bytes), objects });
    for (const at of objects) {
      if (!this.#bucket.objects.has(RemoteKey.segment(at))) this.#violation('gc-deleted-live-segment', `commit ${vid}@${lsn} landed referencing segment ${at.sid}, which remote GC deleted while the push was in flight`);
    }
  }

  /**
   * The oldest LSN of `vid` remote GC retains now: commits below it may lose their segments (GC
   * counted from the latest commit it listed, at most the latest now, so this is never below its —
   * also of a GC run that failed after some of its deletes, which reports no floor at all).
   */
  retainedFrom(vid: VolumeId): number {
    if (this.#retainCommits === undefined) return 1;
    return this.remoteLatest(vid) - this.#retainCommits + 1;
  }

  /** Remote GC deleted a segment: no retained commit may reference it. */
  onSegmentDeleted(sid: SegmentId): void {
    for (const [key, c] of this.#commits) {
      if (!c.objects.some((at) => at.sid === sid)) continue;
      const k = RemoteKey.parse(key);
      if (k.kind === 'commit' && k.lsn < this.retainedFrom(k.vid)) continue;
      this.#violation('gc-deleted-live-segment', `remote GC deleted segment ${sid}, which commit ${key} references`);
    }
  }

  /**
   * The remote as a whole: every commit ever created is still there with the same bytes (the log
   * only grows, an LSN's commit never changes), logs are gap-free from LSN 1 (or from a fork's first
   * commit, a checkpoint holding LSNs 1..its own - 1), and every commit's
   * segment exists (after GC, every commit of every volume still hydrates).
   */
  auditRemote(): void {
    const logs = new Map<string, number[]>();
    for (const [key, object] of this.#bucket.objects) {
      const k = RemoteKey.parse(key);
      if (k.kind !== 'commit') continue;
      const landed = this.#commits.get(key);
      if (!landed) return this.#violation('double-commit', `commit ${key} exists but no PUT created it`);
      if (crc32c(object.bytes) !== landed.crc) return this.#violation('double-commit', `commit ${key} changed after it was written`);
      const gone = k.lsn >= this.retainedFrom(k.vid) ? landed.objects.find((at) => !this.#bucket.objects.has(RemoteKey.segment(at))) : undefined;
      if (gone) return this.#violation('gc-deleted-live-segment', `commit ${key} references segment ${gone.sid}, which is gone`);
      logs.set(k.vid, [...(logs.get(k.vid) ?? []), k.lsn]);
    }
    for (const key of this.#commits.keys()) if (!this.#bucket.objects.has(key) && !this.#pruned.has(key)) return this.#violation('overwrite', `commit ${key} disappeared from the remote`);
    for (const [vid, all] of logs) {
      all.sort((a, b) => a - b);
      // Above the highest LSN remote GC pruned the log is gap-free; below it, a run cut short may
      // have left some records (the next run deletes them).
      const cut = this.#highestPruned(vid as VolumeId);
      const lsns = all.filter((l) => l > cut);
      const start = cut > 0 ? cut + 1 : this.#logStart(vid as VolumeId, lsns[0] ?? 1);
      if (lsns.some((l, i) => l !== i + start)) return this.#violation('log-gap', `volume ${vid} has commits at LSNs ${lsns.join(',')}`);
    }
  }

  /** The highest LSN of `vid` remote GC pruned, or 0. */
  #highestPruned(vid: VolumeId): number {
    let highest = 0;
    for (const key of this.#pruned) {
      const k = RemoteKey.parse(key);
      if (k.kind === 'commit' && k.vid === vid) highest = Math.max(highest, k.lsn);
    }
    return highest;
  }

  /** Where `vid`'s log may start given its lowest commit `first`: there if it is a fork's first commit, else 1. */
  #logStart(vid: VolumeId, first: number): number {
    const object = first > 1 ? this.#bucket.objects.get(RemoteKey.commit(vid, LSN.parse(first))) : undefined;
    const inner = object ? Commit.decode(object.bytes).checkpoint?.map((c) => c.lsn) : undefined;
    return inner && inner.length === first - 1 && inner.every((lsn, i) => lsn === i + 1) ? first : 1;
  }

  /** Whether remote GC pruned any commit record of `vid`. */
  pruned(vid: VolumeId): boolean {
    const prefix = RemoteKey.logPrefix(vid);
    for (const key of this.#pruned) if (key.startsWith(prefix)) return true;
    return false;
  }

  /** The newest LSN of `vid` in the remote. */
  remoteLatest(vid: VolumeId): number {
    const prefix = RemoteKey.logPrefix(vid);
    let latest = 0;
    for (const key of this.#bucket.objects.keys()) {
      if (!key.startsWith(prefix)) continue;
      const k = RemoteKey.parse(key);
      if (k.kind === 'commit') latest = Math.max(latest, k.lsn);
    }
    return latest;
  }
}

export function isPrefix(a: readonly string[], b: readonly string[]): boolean {
  return a.length <= b.length && a.every((x, i) => b[i] === x);
}
