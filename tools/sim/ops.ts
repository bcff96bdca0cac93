import { isScionError, LSN, RemoteKey, type Snapshot, type VolumeId } from '../../src/core/index.ts';
import { checkBank } from './bank.ts';
import type { SimClient } from './client.ts';
import { CRASH_POINTS } from './crash.ts';
import type { Simulation } from './simulator.ts';

/** What the scheduler can do to a client; each returns a one-line outcome for the trace. */
export type OpKind =
  | 'transfer' | 'push' | 'pull' | 'fetch' | 'read' | 'checkout' | 'checksum' | 'fork' | 'clone' | 'tag'
  | 'graftDelete' | 'remoteGc' | 'remoteCompact' | 'localGc' | 'crash' | 'arm' | 'timeJump';

type Op = (sim: Simulation, c: SimClient) => Promise<string>;

export const BANK_TAG = 'bank';
const short = (id: string): string => id.slice(-5);

/**
 * One bank transfer in one writer transaction. ConcurrentWrite is retried (twice); a crash may
 * tear the commit's write, leaving the transfer in doubt until the restart shows whether it survived.
 */
const transfer: Op = async (sim, c) => {
  const { rt, life, store, file } = c;
  const graft = c.bank;
  const from = sim.rng.int(0, sim.bank.accounts - 1);
  let to = sim.rng.int(0, sim.bank.accounts - 2);
  if (to >= from) to++;
  const seq = ++c.seq;
  const intent = { id: `${c.idx}.${seq}`, client: c.idx, seq, from, to, amount: sim.rng.int(1, 50) };
  return whileGraftExists(c, graft, async () => {
    for (let attempt = 1; ; attempt++) {
      let began = false;
      try {
        const r = await sim.bank.transfer(rt, graft, intent, {
          think: () => sim.maybePark(`${c.name} transfer ${intent.id} thinking`, 0.5),
          beforeCommit: () => {
            life.check();
            sim.book.begin(intent.id, c.idx, graft, (store.latestLsnSync(graft) ?? 0) + 1);
            began = true;
            if (sim.rng.chance(sim.config.commitTearRate)) file.tearNextWrite = true;
          },
        });
        sim.book.committed(intent.id);
        return `${intent.id}: ${r.amount} from ${from} to ${to} at ${short(graft)}@${store.latestLsnSync(graft)}${attempt > 1 ? ` (attempt ${attempt})` : ''}`;
      } catch (e) {
        file.tearNextWrite = false;
        if (began && !life.dead) sim.book.notCommitted(intent.id);
        if (isScionError(e, 'ConcurrentWrite') && attempt < 3 && !life.dead) {
          sim.log(`${c.name} transfer ${intent.id}: ConcurrentWrite, retrying`);
          continue;
        }
        throw e;
      }
    }
  });
};

const push: Op = async (sim, c) => {
  const forks = sideGrafts(c, 'fork');
  const graft = forks.length > 0 && sim.rng.chance(0.2) ? sim.rng.pick(forks) : c.bank;
  return whileGraftExists(c, graft, () => pushOnce(sim, c, graft, true));
};

/** Pushes `graft`; records the acknowledgement, or takes a way out of divergence (reset, maybe fork first). */
async function pushOnce(sim: Simulation, c: SimClient, graft: VolumeId, allowFork: boolean): Promise<string> {
  const { rt, life } = c;
  const r = await sim.pushing(() => rt.graftPush(graft));
  if (life.dead) return `${r.outcome}, but the process died meanwhile`;
  if (r.outcome === 'pushed') {
    const g = rt.mustGetGraft(graft);
    const problem = sim.book.pushed(graft, r.localLsn, g.remote, r.remoteLsn, `${c.name} push of ${short(graft)}`);
    if (problem) sim.violation('double-commit', problem);
    if (!sim.world.bucket.objects.has(RemoteKey.commit(g.remote, r.remoteLsn))) sim.violation('lost-ack', `${c.name}'s push was acknowledged at ${g.remote}@${r.remoteLsn}, which does not exist`);
    return `pushed ${short(graft)} ≤${r.localLsn} as ${short(g.remote)}@${r.remoteLsn} (${r.pages} pages)`;
  }
  if (r.outcome === 'diverged') {
    if (graft !== c.bank && !c.abandoned.has(graft)) {
      sim.violation('false-divergence', `${c.name}'s push of ${c.side.get(graft) ?? 'graft'} ${graft}, the only writer of its remote, reported divergence`);
      return 'diverged';
    }
    return handleDiverged(sim, c, graft, allowFork, 'push');
  }
  return r.outcome;
}

/**
 * The graft lost a race. Its unpushed transfers are discarded (those under the watermark landed
 * through recovery and count as pushed); it may be forked first to keep them; then reset.
 */
async function handleDiverged(sim: Simulation, c: SimClient, graft: VolumeId, allowFork: boolean, why: string): Promise<string> {
  // Like an app, one way out at a time: a second operation that finds the same graft diverged waits for the first.
  const running = c.resetting.get(graft);
  // Its failure is the first operation's (that one saw the fault), so this one reports it as its outcome.
  if (running) return `diverged (${why}): ${await running.catch((e: unknown) => `the reset under way failed (${(e as Error).message})`)}`;
  const done = resetDiverged(sim, c, graft, allowFork, why);
  c.resetting.set(graft, done);
  try {
    return await done;
  } finally {
    c.resetting.delete(graft);
  }
}

async function resetDiverged(sim: Simulation, c: SimClient, graft: VolumeId, allowFork: boolean, why: string): Promise<string> {
  const { rt } = c;
  const g = rt.mustGetGraft(graft);
  const next = LSN.next(g.sync?.remote);
  if (!sim.world.bucket.objects.has(RemoteKey.commit(g.remote, next))) {
    sim.violation('false-divergence', `${c.name}'s ${why} of ${graft} reported divergence, but the remote has no commit at ${next}`);
  }
  sim.book.settle(graft, g.sync?.localWatermark ?? 0, g.sync?.remote ?? 0, true);
  c.abandoned.add(graft);
  let note = '';
  if (allowFork && sim.rng.chance(0.3)) {
    const fork = await rt.graftFork(rt.graftSnapshot(graft));
    c.side.set(fork.local, 'fork');
    note = ` kept as fork ${short(fork.local)},`;
    const problem = checkBank(sim.bank.read(rt, rt.graftSnapshot(fork.local)), sim.bank);
    if (problem) sim.violation('bank-invariant', `${c.name}'s fork of a diverged graft: ${problem}`);
  }
  const fresh = await rt.graftReset(graft);
  if (c.bank === graft) {
    c.bank = fresh.local;
    if (rt.tagGet(BANK_TAG) !== fresh.local) sim.violation('tag', `after a reset, tag ${BANK_TAG} points at ${rt.tagGet(BANK_TAG)}, not the fresh graft ${fresh.local}`);
  }
  return `diverged (${why}):${note} reset to ${short(fresh.local)} at remote LSN ${fresh.sync?.remote}`;
}

const pull: Op = async (sim, c) => {
  const clones = sideGrafts(c, 'clone');
  const graft = clones.length > 0 && sim.rng.chance(0.2) ? sim.rng.pick(clones) : c.bank;
  return whileGraftExists(c, graft, () => pullOnce(sim, c, graft, true));
};

async function pullOnce(sim: Simulation, c: SimClient, graft: VolumeId, allowFork: boolean): Promise<string> {
  const { rt, life } = c;
  const r = await rt.graftPull(graft);
  if (life.dead) return `${r.outcome}, but the process died meanwhile`;
  if (r.outcome === 'diverged') {
    if (graft !== c.bank && !c.abandoned.has(graft)) {
      sim.violation('false-divergence', `${c.name}'s clone ${graft} has no local writes but its pull reported divergence`);
      return 'diverged';
    }
    return handleDiverged(sim, c, graft, allowFork, 'pull');
  }
  return r.outcome === 'pulled' ? `pulled ${short(graft)} ${r.from ?? 0}→${r.to}` : r.outcome;
}

/** The final sync of one client: pull (reset if diverged), then push (reset if diverged). No faults. */
export async function syncBank(sim: Simulation, c: SimClient, allowFork: boolean): Promise<string> {
  const pulled = await pullOnce(sim, c, c.bank, allowFork);
  return `${pulled}; ${await pushOnce(sim, c, c.bank, allowFork)}`;
}

const fetchRemote: Op = async (_sim, c) => `remote known to LSN ${await c.rt.graftFetch(c.bank)}`;

/** Reads a whole snapshot of a graft (sometimes through the async read path) and checks the bank. */
const read: Op = async (sim, c) => {
  const { rt } = c;
  const others = [...sideGrafts(c, 'fork'), ...sideGrafts(c, 'clone'), ...[...c.abandoned].filter((v) => rt.graftGet(v))];
  const graft = others.length > 0 && sim.rng.chance(0.3) ? sim.rng.pick(others) : c.bank;
  return whileGraftExists(c, graft, async () => {
    const g = rt.mustGetGraft(graft);
    const snapshot = rt.graftSnapshot(graft);
    const async = sim.rng.chance(0.3);
    if (async) for (let idx = 1; idx <= snapshot.pageCount; idx++) await rt.readPageAsync(snapshot, idx as never);
    const ids = sim.invariants.checkBankSnapshot(rt, snapshot, g.remote === sim.shared ? g.sync?.remote : undefined, `${c.name} reads ${short(graft)}`);
    return `${short(graft)}: ${ids?.length ?? '?'} transfers${async ? ' (async reads)' : ''}`;
  });
};

/** Time travel: a past remote LSN of the shared volume, checked against what was acknowledged by then. */
const checkout: Op = async (sim, c) => {
  const { rt } = c;
  const latest = await rt.graftFetch(c.bank);
  if (!latest) return 'nothing fetched';
  const lsn = sim.rng.int(rt.volumeOldestLsn(sim.shared) ?? 1, latest);
  const snapshot = rt.volumeCheckout(sim.shared, LSN.parse(lsn));
  if (sim.rng.chance(0.3)) await rt.snapshotHydrate(snapshot);
  const ids = sim.invariants.checkBankSnapshot(rt, snapshot, lsn, `${c.name} checkout @${lsn}`);
  if (!ids) return 'violation';
  const problem = sim.book.checkRemoteSnapshot(ids, lsn);
  if (problem) sim.violation('recorded-once', `${c.name} checkout: ${problem}`);
  sim.invariants.recordRemoteLog(lsn, ids, c.name);
  return `@${lsn}: ${ids.length} transfers`;
};

/** Hydrates a remote LSN and records its checksum: replicas at the same (volume, LSN) must agree. */
const checksum: Op = async (sim, c) => {
  const { rt } = c;
  const status = rt.graftStatus(c.bank);
  const latest = status.remoteLatest ?? 0;
  if (latest === 0) return 'nothing fetched';
  const lsn = status.remoteLsn !== undefined && sim.rng.chance(0.5) ? status.remoteLsn : sim.rng.int(rt.volumeOldestLsn(sim.shared) ?? 1, latest);
  const snapshot = rt.volumeCheckout(sim.shared, LSN.parse(lsn));
  // Sometimes only the hot frames: the rest is fetched by the checksum's blocking reads.
  await rt.snapshotHydrate(snapshot, sim.rng.chance(0.3) ? { hotOnly: true } : {});
  const sum = rt.snapshotChecksum(snapshot);
  sim.invariants.recordChecksum(sim.shared, lsn, sum, c.name);
  // An in-sync graft is a replica of its remote LSN too.
  const now = rt.graftStatus(c.bank);
  if (now.ahead === 0 && now.remoteLsn === lsn) sim.invariants.recordChecksum(sim.shared, lsn, rt.snapshotChecksum(rt.graftSnapshot(c.bank)), `${c.name} graft`);
  return `@${lsn}: ${sum.slice(0, 8)}`;
};

const fork: Op = async (sim, c) => {
  const { rt } = c;
  if (sideGrafts(c, 'fork').length >= 3) return 'enough forks';
  let snapshot: Snapshot;
  let from: string;
  const latest = rt.graftStatus(c.bank).remoteLatest;
  if (latest && sim.rng.chance(0.5)) {
    const lsn = sim.rng.int(rt.volumeOldestLsn(sim.shared) ?? 1, latest);
    snapshot = rt.volumeCheckout(sim.shared, LSN.parse(lsn));
    from = `remote @${lsn}`;
  } else {
    snapshot = rt.graftSnapshot(c.bank);
    from = `graft ${short(c.bank)}`;
  }
  const f = await rt.graftFork(snapshot);
  c.side.set(f.local, 'fork');
  const problem = checkBank(sim.bank.read(rt, rt.graftSnapshot(f.local)), sim.bank);
  if (problem) sim.violation('bank-invariant', `${c.name}'s fork of ${from}: ${problem}`);
  return `forked ${from} as ${short(f.local)} (remote ${short(f.remote)})`;
};

const clone: Op = async (sim, c) => {
  const { rt } = c;
  if (sideGrafts(c, 'clone').length >= 2) return 'enough clones';
  const tag = sim.rng.chance(0.3) ? 'replica' : undefined;
  const g = await rt.graftClone(sim.shared, tag ? { tag } : {});
  c.side.set(g.local, 'clone');
  if (tag && rt.tagGet(tag) !== g.local) sim.violation('tag', `${c.name}: clone with tag ${tag} left it at ${rt.tagGet(tag)}`);
  const ids = sim.invariants.checkBankSnapshot(rt, rt.graftSnapshot(g.local), g.sync?.remote, `${c.name} clone ${short(g.local)}`);
  return `cloned as ${short(g.local)} at LSN ${g.sync?.remote}: ${ids?.length ?? '?'} transfers`;
};

const tag: Op = async (sim, c) => {
  const { rt } = c;
  if (sim.rng.chance(0.5)) {
    const target = sim.rng.pick(rt.graftList()).local;
    await rt.tagReplace('spare', target);
    if (rt.tagGet('spare') !== target && rt.graftGet(target)) sim.violation('tag', `${c.name}: tag spare does not point at ${target} after tagReplace`);
    return `spare → ${short(target)}`;
  }
  const existed = await rt.tagDelete('spare');
  if (rt.tagGet('spare') !== undefined) sim.violation('tag', `${c.name}: tag spare survives tagDelete`);
  return `spare deleted (${existed ? 'existed' : 'absent'})`;
};

/** Deletes a fork, a clone or an abandoned graft; the bank graft must not notice. */
const graftDelete: Op = async (sim, c) => {
  const { rt } = c;
  const bankNow = rt.tagGet(BANK_TAG);
  const candidates = [...c.side.keys(), ...c.abandoned].filter((v) => rt.graftGet(v) && v !== c.bank && v !== bankNow);
  if (candidates.length === 0) return 'nothing to delete';
  const v = sim.rng.pick(candidates);
  const kind = c.side.get(v) ?? 'abandoned';
  return whileGraftExists(c, v, async () => {
    await rt.graftDelete(v);
    c.side.delete(v);
    if (rt.graftGet(v)) sim.violation('graft-delete', `${c.name}: graft ${v} survives graftDelete`);
    return `deleted ${kind} ${short(v)}`;
  });
};

const remoteGc: Op = async (sim, c) => {
  const retain = sim.config.retainCommits === undefined ? undefined : { commits: sim.config.retainCommits };
  const r = await c.rt.collectRemoteGarbage({ graceMs: sim.config.gcGraceMs, now: sim.sched.now, retain, ...(sim.config.pruneCommits ? { pruneCommits: true } : {}) });
  for (const [vid, from] of Object.entries(r.retainedFrom) as [VolumeId, number][]) sim.retainedFrom.set(vid, Math.max(from, sim.retainedFrom.get(vid) ?? 1));
  return `deleted ${r.segmentsDeleted.length}, kept ${r.segmentsKept} in grace, ${r.segmentsReferenced} referenced of ${r.commitsScanned} commits, pruned ${r.commitsDeleted} commit records`;
};

/** The remote compactor on the shared volume, concurrently with everything else. */
const remoteCompact: Op = async (sim, c) => {
  try {
    const r = await c.rt.compactRemote({ volume: sim.shared, segmentPages: 64 });
    if (r.outcome === 'compacted') sim.stats.compactions++;
    return r.outcome === 'compacted' ? `compacted ${r.pages} pages as of LSN ${r.lsn} into ${r.segments} segments` : `up to date at ${r.lsn}`;
  } catch (e) {
    // No hint with a checkpoint yet (nothing pushed, or the hint write was lost).
    if (isScionError(e, 'InvalidInput') && !c.life.dead) return `not compacted: ${e.message}`;
    throw e;
  }
};

const localGc: Op = async (sim, c) => {
  const budget = sim.rng.pick([undefined, 0, 4 * 4096, 16 * 4096]);
  // A short history window squashes most of the history held locally into checkpoints.
  const history = sim.rng.pick([undefined, 1, 3]);
  c.localGcRuns++;
  const r = c.rt.collectLocalGarbage({ ...(budget === undefined ? {} : { cacheBudgetBytes: budget }), ...(history === undefined ? {} : { historyCommits: history }) });
  sim.invariants.checkUnpushedPagesHeld(c);
  return `budget ${budget ?? 'none'}, window ${history ?? 'default'}: evicted ${r.pagesEvicted}, kept ${r.pagesKept}, squashed ${r.commitsSquashed}`;
};

/** Power loss now (sometimes mid-write: a torn tail), then a restart from what was durable. */
const crash: Op = async (sim, c) => {
  c.kill('power loss', sim.rng.chance(0.5));
  return `restarted: ${await sim.restartClient(c)}`;
};

/** Arms a crash point: the client's process dies the next time it gets there. */
const arm: Op = async (sim, c) => {
  const point = sim.rng.pick(CRASH_POINTS);
  c.life.armed = point;
  return `crash armed at ${point}`;
};

/** Time passes (past the GC grace period), but never while a push is in flight: its segment would be fair game. */
const timeJump: Op = async (sim) => {
  if (sim.pushesInFlight > 0 && sim.config.gcGraceMs > 0) return 'no jump: a push is in flight';
  const ms = sim.config.gcGraceMs + sim.rng.int(1, 1000);
  sim.sched.advance(ms);
  return `clock +${ms} ms`;
};

export const OPS: Readonly<Record<OpKind, Op>> = {
  transfer, push, pull, fetch: fetchRemote, read, checkout, checksum, fork, clone, tag, graftDelete, remoteGc, remoteCompact, localGc, crash, arm, timeJump,
};

function sideGrafts(c: SimClient, kind: 'fork' | 'clone'): VolumeId[] {
  return [...c.side].filter(([v, k]) => k === kind && c.rt.graftGet(v)).map(([v]) => v);
}

/** Runs `fn`; if it fails because `graft` was deleted meanwhile (by another operation), that is its outcome. */
async function whileGraftExists(c: SimClient, graft: VolumeId, fn: () => Promise<string>): Promise<string> {
  const { rt, life } = c;
  try {
    return await fn();
  } catch (e) {
    if ((isScionError(e, 'GraftNotFound') || isScionError(e, 'CommitNotFound')) && !rt.graftGet(graft) && !life.dead) return `graft ${short(graft)} was deleted meanwhile`;
    throw e;
  }
}
