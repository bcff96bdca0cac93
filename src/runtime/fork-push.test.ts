import { describe, expect, it } from 'vitest';
import { CHECKPOINT_INTERVAL, Commit, isScionError, LSN, PageIdx, RemoteFork, RemoteKey, ScionError, VolumeId } from '../core/index.ts';
import { MemoryCatalog, MemoryStore } from '../local/index.ts';
import { MemoryRemote, type Remote, type RemoteRequestEvent } from '../remote/index.ts';
import { Runtime } from './runtime.ts';

/* A fork's first push names its parent's segments (a checkpoint of references) instead of uploading their pages. */

const PAGES = 50;
const idx = (n: number) => PageIdx.parse(n);

async function device(remote: Remote) {
  return Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote });
}
function write(rt: Runtime, vid: VolumeId, pages: Record<number, number>) {
  const w = rt.graftWriter(vid);
  for (const [i, fill] of Object.entries(pages)) w.writePage(idx(Number(i)), new Uint8Array(4096).fill(fill));
  w.commit();
}
const fills = (rt: Runtime, vid: VolumeId) => Array.from({ length: rt.graftSnapshot(vid).pageCount }, (_, i) => rt.graftReader(vid).readPage(idx(i + 1))[0]);

/** A pushed parent of PAGES pages over two commits, forked, with one page written in the fork. */
async function forked(remote: Remote) {
  const a = await device(remote);
  const g = await a.graftOpen();
  write(a, g.local, Object.fromEntries(Array.from({ length: PAGES }, (_, i) => [i + 1, i + 1])));
  await a.graftPush(g.local);
  write(a, g.local, { 3: 33 });
  await a.graftPush(g.local);
  const fork = await a.graftFork(a.graftSnapshot(g.local));
  write(a, fork.local, { 4: 44 });
  return { a, g, fork };
}

describe("a fork's first push", () => {
  it('uploads only the pages written since the fork and reads the same on a new device', async () => {
    const events: RemoteRequestEvent[] = [];
    const remote = new MemoryRemote({ onRequest: (e) => events.push(e) });
    const { a, g, fork } = await forked(remote);
    events.length = 0;
    // Two referenced commits (the parent's 1 and 2) are the fork's 1 and 2; its own page is commit 3.
    expect(await a.graftPush(fork.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 3, pages: 1 });
    expect(events.filter((e) => e.method === 'GET' && e.key.includes('/segments/'))).toEqual([]);
    const commit = Commit.decode(remote.objects.get(RemoteKey.commit(fork.remote, LSN.parse(3)))!.bytes);
    expect(commit.ancestors).toEqual([g.remote]);
    expect(commit.checkpoint?.map((c) => c.segment?.home)).toEqual([g.remote, g.remote]);
    const b = await device(remote);
    const clone = await b.graftClone(fork.remote);
    await b.graftHydrate(clone.local);
    expect(fills(b, clone.local)).toEqual(fills(a, fork.local));
    expect(fills(b, clone.local).slice(0, 5)).toEqual([1, 2, 33, 44, 5]);
  });

  it('writes a fork record that lists exactly the commits of the parent whose inline frames it names', async () => {
    const remote = new MemoryRemote();
    const { a, g, fork } = await forked(remote);
    await a.graftPush(fork.local);
    for (const lsn of [1, 2]) expect(Commit.decode(remote.objects.get(RemoteKey.commit(g.remote, LSN.parse(lsn)))!.bytes).segment?.inline).toBeDefined();
    expect(RemoteFork.decode(remote.objects.get(RemoteKey.fork(fork.remote))!.bytes, fork.remote)).toEqual({ vid: fork.remote, ancestors: [g.remote], inlineCommits: { [g.remote]: [1, 2] } });

    // A parent that uploads segments: its commits stay unreadable through the fork.
    const uploads = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote, inlineMaxBytes: 0 });
    const parent = await uploads.graftOpen();
    write(uploads, parent.local, { 1: 1, 2: 2 });
    await uploads.graftPush(parent.local);
    const second = await uploads.graftFork(uploads.graftSnapshot(parent.local));
    write(uploads, second.local, { 3: 3 });
    await uploads.graftPush(second.local);
    expect(RemoteFork.decode(remote.objects.get(RemoteKey.fork(second.remote))!.bytes, second.remote)).toEqual({ vid: second.remote, ancestors: [parent.remote], inlineCommits: {} });
  });

  it("leaves out of its fork record a parent's commit whose pages were all overwritten before the fork", async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const g = await a.graftOpen();
    write(a, g.local, { 1: 1, 2: 2 });
    await a.graftPush(g.local);
    write(a, g.local, { 1: 11, 2: 12 });
    await a.graftPush(g.local);
    const fork = await a.graftFork(a.graftSnapshot(g.local));
    write(a, fork.local, { 3: 3 });
    await a.graftPush(fork.local);
    expect(RemoteFork.decode(remote.objects.get(RemoteKey.fork(fork.remote))!.bytes, fork.remote)).toEqual({ vid: fork.remote, ancestors: [g.remote], inlineCommits: { [g.remote]: [2] } });
  });

  it('is found by a clone even when its pusher died before writing the hint (no hint, no LSN 1)', async () => {
    const remote = new MemoryRemote();
    const { a, fork } = await forked(remote);
    await a.graftPush(fork.local);
    // The hint of a push that died between its commit and its hint: the commits are all that exist.
    remote.objects.delete(RemoteKey.latest(fork.remote));
    expect(remote.objects.has(RemoteKey.commit(fork.remote, LSN.FIRST))).toBe(false);
    const b = await device(remote);
    const clone = await b.graftClone(fork.remote);
    expect(b.graftStatus(clone.local).remoteLsn).toBe(3);
    await b.graftHydrate(clone.local);
    expect(fills(b, clone.local)).toEqual(fills(a, fork.local));
    // A volume with no commits at all is still VolumeNotFound.
    const e = await b.graftClone(VolumeId.random()).then(() => undefined, (err: unknown) => err);
    expect(isScionError(e, 'VolumeNotFound'), String(e)).toBe(true);
  });

  it("later checkpoints of the fork list the ancestors their commits name; a clone from one reads the parent's pages", async () => {
    const remote = new MemoryRemote();
    const { a, g, fork } = await forked(remote);
    await a.graftPush(fork.local);
    for (let n = 0; n < CHECKPOINT_INTERVAL + 2; n++) {
      write(a, fork.local, { [PAGES]: n });
      await a.graftPush(fork.local);
    }
    const latest = a.graftStatus(fork.local).remoteLsn!;
    const checkpoints = Array.from({ length: latest }, (_, i) => remote.objects.get(RemoteKey.commit(fork.remote, LSN.parse(i + 1))))
      .flatMap((o) => (o ? [Commit.decode(o.bytes)] : [])).filter((c) => c.checkpoint && c.lsn > 3);
    expect(checkpoints.length).toBeGreaterThan(0);
    for (const c of checkpoints) expect(c.ancestors).toEqual([g.remote]);
    const b = await device(remote);
    const clone = await b.graftClone(fork.remote);
    await b.graftHydrate(clone.local);
    expect(fills(b, clone.local)).toEqual(fills(a, fork.local));
  });

  it('whose commit landed but whose response was lost is recovered as landed', async () => {
    const memory = new MemoryRemote();
    let lose = false;
    const remote = new Proxy(memory, {
      get: (target, key) => {
        if (key === 'putCommit') {
          return async (...args: Parameters<MemoryRemote['putCommit']>) => {
            const outcome = await target.putCommit(...args);
            if (lose) throw new ScionError('RemoteUnavailable', 'the response was lost');
            return outcome;
          };
        }
        const value = target[key as keyof MemoryRemote];
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { a, fork } = await forked(remote);
    lose = true;
    const e = await a.graftPush(fork.local).then(() => undefined, (err: unknown) => err);
    expect(isScionError(e, 'RemoteUnavailable')).toBe(true);
    lose = false;
    expect(await a.graftPush(fork.local)).toMatchObject({ outcome: 'up-to-date' });
    expect(a.graftStatus(fork.local).remoteLsn).toBe(3);
    write(a, fork.local, { 1: 11 });
    expect(await a.graftPush(fork.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 4, pages: 1 });
    const b = await device(memory);
    const clone = await b.graftClone(fork.remote);
    await b.graftHydrate(clone.local);
    expect(fills(b, clone.local)).toEqual(fills(a, fork.local));
  });

  it('a switch to a new remote still uploads every page (the old one may be going away)', async () => {
    const remote = new MemoryRemote();
    const { a, g } = await forked(remote);
    const moved = await a.graftSwitchRemote(g.local);
    expect(a.graftStatus(moved.local).remoteLsn).toBe(1);
    expect(Commit.decode(remote.objects.get(RemoteKey.commit(moved.remote, LSN.FIRST))!.bytes).segment?.pages.size).toBe(PAGES);
  });

  it("a reference to a volume the checkpoint does not list as an ancestor is Corrupt at clone", async () => {
    const remote = new MemoryRemote();
    const { a, fork } = await forked(remote);
    await a.graftPush(fork.local);
    const key = RemoteKey.commit(fork.remote, LSN.parse(3));
    const commit = Commit.decode(remote.objects.get(key)!.bytes);
    for (const ancestors of [undefined, [VolumeId.random()]]) {
      remote.objects.set(key, { ...remote.objects.get(key)!, bytes: Commit.encode({ ...commit, ancestors }) });
      const e = await (await device(remote)).graftClone(fork.remote).then(() => undefined, (err: unknown) => err);
      expect(isScionError(e, 'Corrupt'), String(e)).toBe(true);
    }
  });
});
