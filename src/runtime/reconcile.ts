// The catalog and the local store are written apart (IndexedDB and OPFS), so after a salvage dropped
// commits, or a delete whose data drop hit a full disk, they can disagree. At open the catalog is
// brought back in line with what the store holds.
import type { Graft, LSN, VolumeId } from '../core/index.ts';

/**
 * `graft` as the store's logs allow, or undefined if it stands as is. `localLatest`/`remoteLatest`:
 * the newest LSNs held of its local and remote volumes.
 * - A push watermark past the local log (pushed commits lost locally) comes down to the log's end,
 *   so new commits are numbered above it and count as unpushed, never hidden under it.
 * - A sync point past the remote commits held (fetched commits lost) moves back to the newest one
 *   held when nothing local is unpushed: the graft reads as of that commit and a pull brings the rest
 *   again. With unpushed commits it stays (they were made over it): a fetch or pull restores it.
 * - A pending or abandoned push whose local commit is gone is forgotten: if it landed, the next pull finds it.
 */
export function reconcileGraft(graft: Graft, localLatest: LSN | undefined, remoteLatest: LSN | undefined): Graft | undefined {
  const local = localLatest ?? 0;
  const held = remoteLatest ?? 0;
  const watermarkIn = graft.sync?.localWatermark;
  const watermark = watermarkIn !== undefined && watermarkIn > local ? (localLatest) : watermarkIn;
  const ahead = local - (watermark ?? 0);
  const remoteIn = graft.sync?.remote;
  const remote = remoteIn !== undefined && remoteIn > held && ahead === 0 ? remoteLatest : remoteIn;
  const pending = graft.pending && graft.pending.local > local ? undefined : graft.pending;
  const abandonedKept = graft.abandoned?.filter((a) => a.local <= local);
  const abandoned = abandonedKept?.length === graft.abandoned?.length ? graft.abandoned : abandonedKept?.length ? abandonedKept : undefined;
  if (watermark === watermarkIn && remote === remoteIn && pending === graft.pending && abandoned === graft.abandoned) return undefined;
  const sync = remote === undefined ? undefined : { remote, localWatermark: watermark };
  return { local: graft.local, remote: graft.remote, sync, pending, abandoned };
}

/** Volumes the store holds that no graft names: what a delete cut short (or a fork cut by a crash) left. */
export function orphanVolumes(held: readonly VolumeId[], grafts: readonly Graft[]): VolumeId[] {
  const named = new Set(grafts.flatMap((g) => [g.local, g.remote]));
  return held.filter((vid) => !named.has(vid));
}
