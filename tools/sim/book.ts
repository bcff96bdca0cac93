import type { LSN, VolumeId } from '../../src/core/index.ts';

/**
 * What became of a transfer, as far as the application was told:
 *   in-doubt   its commit was under way when the process crashed (it may or may not survive)
 *   local      committed locally, not known to be pushed
 *   acked      in the shared remote log at or before `remoteLsn` (a push said so, or the watermark)
 *   discarded  its graft diverged and was abandoned before it was pushed: must never reach the remote
 *   lost       its commit was torn by the crash and dropped at restart: must never appear anywhere
 */
export type TransferState = 'in-doubt' | 'local' | 'acked' | 'discarded' | 'lost';

interface Entry {
  readonly id: string;
  readonly client: number;
  readonly graft: VolumeId;
  readonly lsn: number;
  state: TransferState;
  remoteLsn?: number;
}

/**
 * The oracle of "every transfer recorded once": which transfers must appear in the shared remote
 * volume (and from which LSN on), and which must never appear.
 */
export class TransferBook {
  readonly #entries = new Map<string, Entry>();
  readonly #abandoned = new Set<VolumeId>();
  /** `vid@lsn` → the push that was acknowledged there. */
  readonly #claims = new Map<string, string>();

  /** The transaction is about to commit at local `lsn` of `graft`. */
  begin(id: string, client: number, graft: VolumeId, lsn: number): void {
    this.#entries.set(id, { id, client, graft, lsn, state: 'in-doubt' });
  }

  committed(id: string): void {
    const e = this.#must(id);
    e.state = this.#abandoned.has(e.graft) ? 'discarded' : 'local';
  }

  /** The commit was refused (ConcurrentWrite) or failed cleanly: the transfer never happened. */
  notCommitted(id: string): void {
    this.#entries.delete(id);
  }

  /** After a restart: an in-doubt commit survived iff its graft's log reaches its LSN. */
  resolveInDoubt(client: number, latestLsn: (graft: VolumeId) => LSN | undefined): string[] {
    const changes: string[] = [];
    for (const e of this.#entries.values()) {
      if (e.client !== client || e.state !== 'in-doubt') continue;
      const survived = (latestLsn(e.graft) ?? 0) >= e.lsn;
      e.state = !survived ? 'lost' : this.#abandoned.has(e.graft) ? 'discarded' : 'local';
      changes.push(`${e.id}→${e.state}`);
    }
    return changes;
  }

  /**
   * A push of `graft` was acknowledged: its local commits ≤ `localLsn` are remote commit `remoteLsn`.
   * Returns a problem if another push was already acknowledged at the same LSN.
   */
  pushed(graft: VolumeId, localLsn: number, remote: VolumeId, remoteLsn: number, who: string): string | undefined {
    const key = `${remote}@${remoteLsn}`;
    const earlier = this.#claims.get(key);
    if (earlier !== undefined) return `two pushes were acknowledged at ${key}: ${earlier} and ${who}`;
    this.#claims.set(key, who);
    for (const e of this.#entries.values()) {
      if (e.graft === graft && e.state === 'local' && e.lsn <= localLsn) {
        e.state = 'acked';
        e.remoteLsn = remoteLsn;
      }
    }
    return undefined;
  }

  /**
   * The graft's watermark says its local commits ≤ `watermark` are in the remote at or before
   * `syncRemote` (a push landed through recovery, unacknowledged). With `abandon`, the rest of its
   * transfers are discarded, now and whenever they commit later.
   */
  settle(graft: VolumeId, watermark: number, syncRemote: number, abandon: boolean): void {
    if (abandon) this.#abandoned.add(graft);
    for (const e of this.#entries.values()) {
      if (e.graft !== graft || e.state !== 'local') continue;
      if (e.lsn <= watermark) {
        e.state = 'acked';
        e.remoteLsn = syncRemote;
      } else if (abandon) e.state = 'discarded';
    }
  }

  isAbandoned(graft: VolumeId): boolean {
    return this.#abandoned.has(graft);
  }

  /** The remote LSN at or before which an acknowledged transfer is in the shared log. */
  ackedAt(id: string): number | undefined {
    const e = this.#entries.get(id);
    return e?.state === 'acked' ? e.remoteLsn : undefined;
  }

  state(id: string): TransferState | undefined {
    return this.#entries.get(id)?.state;
  }

  /**
   * Checks the transfer ids found in the shared remote volume at `lsn`: every transfer acknowledged
   * at or before `lsn` is there, and none that was discarded, lost or never made.
   */
  checkRemoteSnapshot(ids: readonly string[], lsn: number): string | undefined {
    const present = new Set(ids);
    for (const id of ids) {
      const e = this.#entries.get(id);
      if (!e) return `transfer ${id} is in the remote at LSN ${lsn} but was never committed by any client`;
      if (e.state === 'discarded' || e.state === 'lost') return `transfer ${id} (${e.state}) is in the remote at LSN ${lsn}`;
    }
    for (const e of this.#entries.values()) {
      if (e.state === 'acked' && (e.remoteLsn as number) <= lsn && !present.has(e.id)) {
        return `transfer ${e.id}, acknowledged at remote LSN ${e.remoteLsn}, is missing from the remote at LSN ${lsn}`;
      }
    }
    return undefined;
  }

  /** Ids in each state, for the final accounting. */
  counts(): Record<TransferState, number> {
    const out: Record<TransferState, number> = { 'in-doubt': 0, local: 0, acked: 0, discarded: 0, lost: 0 };
    for (const e of this.#entries.values()) out[e.state]++;
    return out;
  }

  acked(): string[] {
    return [...this.#entries.values()].filter((e) => e.state === 'acked').map((e) => e.id);
  }

  /** Transfers still local on grafts that are not abandoned (after the final sync there should be none). */
  unsettled(): string[] {
    return [...this.#entries.values()].filter((e) => e.state === 'local' || e.state === 'in-doubt').map((e) => `${e.id}(${e.state} on ${e.graft.slice(-5)}@${e.lsn})`);
  }

  #must(id: string): Entry {
    const e = this.#entries.get(id);
    if (!e) throw new Error(`BUG: the book has no transfer ${id}`);
    return e;
  }
}
