import { isScionError, LSN } from '../../src/core/index.ts';
import { MemoryCatalog, MemoryStore } from '../../src/local/index.ts';
import { Runtime } from '../../src/runtime/index.ts';
import { checkBank } from './bank.ts';
import { isPrefix } from './invariants.ts';
import { syncBank } from './ops.ts';
import { simIds } from './rng.ts';
import type { Simulation } from './simulator.ts';

/**
 * The end of a run, part 1: faults off, every dead client restarts, then every client pulls and
 * pushes (resetting when it diverged) until all agree. Every transfer is then pushed or discarded.
 */
export async function heal(sim: Simulation): Promise<void> {
  sim.world.faultsOn = false;
  sim.log('heal: faults off, every client syncs');
  for (const c of sim.clients) {
    c.life.armed = undefined;
    if (c.life.dead || !c.rt) await sim.drive(sim.restartClient(c));
  }
  for (let round = 0; round < 3 && !sim.failed; round++) {
    for (const c of sim.clients) sim.log(`${c.name} heal sync → ${await sim.drive(syncBank(sim, c, false))}`);
  }
  for (const c of sim.clients) {
    const pulled = await sim.drive(c.rt.graftPull(c.bank));
    if (pulled.outcome === 'diverged') sim.violation('no-convergence', `${c.name} is still diverged after the final sync`);
    const g = c.rt.mustGetGraft(c.bank);
    sim.book.settle(c.bank, g.sync?.localWatermark ?? 0, g.sync?.remote ?? 0, false);
  }
  const unsettled = sim.book.unsettled();
  if (unsettled.length > 0) sim.violation('unsettled', `transfers neither pushed nor discarded after the final sync: ${unsettled.slice(0, 5).join(', ')}`);
}

/**
 * The end of a run, part 2: every client is at the remote head with the same content after
 * hydrate, holding exactly the acknowledged transfers; every remote LSN is a valid bank that
 * extends the one before; the remote's objects kept their history.
 */
export async function audit(sim: Simulation): Promise<void> {
  const latest = sim.invariants.remoteLatest(sim.shared);
  const acked = new Set(sim.book.acked());
  let reference: { sum: string; who: string } | undefined;
  for (const c of sim.clients) {
    const g = c.rt.mustGetGraft(c.bank);
    const status = c.rt.graftStatus(c.bank);
    if (g.sync?.remote !== latest || status.state !== 'in-sync') {
      return sim.violation('lost-ack', `${c.name} is ${status.state} at remote LSN ${g.sync?.remote} after pulling; the remote head is ${latest}`);
    }
    await sim.drive(c.rt.graftHydrate(c.bank));
    const snapshot = c.rt.graftSnapshot(c.bank);
    const missing = c.rt.snapshotMissingPages(snapshot);
    if (!missing.isEmpty) return sim.violation('hydrate', `${c.name} misses ${missing.size} pages after hydrate`);
    const sum = c.rt.snapshotChecksum(snapshot);
    reference ??= { sum, who: c.name };
    if (sum !== reference.sum) return sim.violation('checksum', `${c.name} and ${reference.who} hold different content at ${sim.shared}@${latest}`);
    const ids = sim.invariants.checkBankSnapshot(c.rt, snapshot, latest, `${c.name} final`);
    if (!ids) return;
    const extra = ids.filter((id) => !acked.has(id));
    if (extra.length > 0 || ids.length !== acked.size) {
      return sim.violation('recorded-once', `${c.name}'s final log has ${ids.length} transfers for ${acked.size} acknowledged ones (unacknowledged: ${extra.slice(0, 5).join(', ')})`);
    }
    sim.invariants.checkUnpushedPagesHeld(c);
    for (const [vid, kind] of c.side) {
      if (kind !== 'fork' || !c.rt.graftGet(vid)) continue;
      let state;
      try {
        state = sim.bank.read(c.rt, c.rt.graftSnapshot(vid));
      } catch (e) {
        // An unpushed fork of a snapshot older than the retained range reads pages no retained commit keeps.
        if (sim.config.retainCommits === undefined || !isScionError(e, 'Corrupt') || !e.message.includes('is missing from the remote')) throw e;
        sim.stats.readsPastRetention++;
        continue;
      }
      const problem = checkBank(state, sim.bank);
      if (problem) return sim.violation('bank-invariant', `${c.name}'s fork ${vid}: ${problem}`);
    }
  }
  await auditHistory(sim, latest);
  sim.invariants.auditRemote();
}

/** A fresh runtime (no faults) checks out every LSN of the shared volume. */
async function auditHistory(sim: Simulation, latest: number): Promise<void> {
  // Without the latest hint, a clone reads every commit from LSN 1; once remote GC pruned the log, it
  // lists the log and starts at a checkpoint (past any records left below the floor).
  const everyCommit = new Proxy(sim.world.bucket, {
    get: (target, key) => (key === 'getLatest' ? async () => undefined : typeof target[key as keyof typeof target] === 'function' ? (target[key as keyof typeof target] as (...a: unknown[]) => unknown).bind(target) : target[key as keyof typeof target]),
  });
  const rt = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote: everyCommit, ids: simIds(sim.rng, sim.sched.now) });
  await rt.graftClone(sim.shared);
  const lowest = rt.volumeOldestLsn(sim.shared);
  let previous: readonly string[] = [];
  // Every retained LSN (all of them unless remote GC ran with retention). Not only the floors GC runs
  // reported: one that failed partway had deleted below its floor already.
  for (let lsn = Math.max(sim.retainedFrom.get(sim.shared) ?? 1, sim.invariants.retainedFrom(sim.shared), lowest ?? 1); lsn <= latest && !sim.failed; lsn++) {
    const snapshot = rt.volumeCheckout(sim.shared, LSN.parse(lsn));
    await rt.snapshotHydrate(snapshot);
    const ids = sim.invariants.checkBankSnapshot(rt, snapshot, lsn, `the remote at LSN ${lsn}`);
    if (!ids) return;
    const problem = sim.book.checkRemoteSnapshot(ids, lsn);
    if (problem) return sim.violation('recorded-once', problem);
    if (!isPrefix(previous, ids)) return sim.violation('overwrite', `the log at LSN ${lsn} does not extend the log at LSN ${lsn - 1}: a commit was made on a stale parent`);
    sim.invariants.recordRemoteLog(lsn, ids, 'auditor');
    sim.invariants.recordChecksum(sim.shared, lsn, rt.snapshotChecksum(snapshot), 'auditor');
    previous = ids;
  }
  rt.close();
}
