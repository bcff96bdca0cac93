import { describe, expect, it } from 'vitest';
import { Commit, LatestHint, LSN, PageIdx, RemoteKey, SYSTEM_IDS, type VolumeId } from '../core/index.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../local/index.ts';
import { ForwardingRemote, MemoryRemote, type RemoteCall, type RemoteRequestEvent } from '../remote/index.ts';
import { LOG_END_TRUST_MS } from './jobs/fetch-log.ts';
import { Runtime } from './runtime.ts';

/* Finding the end of a log: the commit keys are the truth, the latest hint only saves round trips. */

const idx = (n: number) => PageIdx.parse(n);

async function device(remote: MemoryRemote) {
  return Runtime.open({ store: MemoryStore.open(new MemoryDirectory()), catalog: new MemoryCatalog(), remote });
}

/** A remote volume with `commits` one-page commits, and a way to count requests from here on. */
async function volumeWith(commits: number) {
  const events: RemoteRequestEvent[] = [];
  const remote = new MemoryRemote({ onRequest: (e) => events.push(e) });
  const a = await device(remote);
  const g = await a.graftOpen();
  const push = async (fill: number) => {
    const w = a.graftWriter(g.local);
    w.writePage(idx(1), new Uint8Array(4096).fill(fill));
    w.commit();
    expect(await a.graftPush(g.local)).toMatchObject({ outcome: 'pushed' });
  };
  for (let i = 1; i <= commits; i++) await push(i);
  events.length = 0;
  return { remote, a, g, events, push, gets: () => events.filter((e) => e.method === 'GET').map((e) => e.key) };
}

/** The first `n` commit records of the remote volume, as a hint's tail carries them. */
async function commits(remote: MemoryRemote, vid: VolumeId, n: number): Promise<Commit[]> {
  return Promise.all(Array.from({ length: n }, async (_, i) => Commit.decode((await remote.getCommit(vid, LSN.parse(i + 1))) as Uint8Array)));
}

const commitKey = (vid: VolumeId, lsn: number) => RemoteKey.commit(vid, LSN.parse(lsn));

describe('fetching the log', () => {
  it('an up-to-date pull is one request', async () => {
    const { remote, g, events } = await volumeWith(3);
    const b = await device(remote);
    const gb = await b.graftClone(g.remote);
    events.length = 0;
    expect(await b.graftPull(gb.local)).toEqual({ outcome: 'up-to-date' });
    expect(events.map((e) => `${e.method} ${e.key}`)).toEqual([`GET ${commitKey(g.remote, 4)}`]);
  });

  it('a clone reads the hint, takes the commits it carries, and probes the LSN after it', async () => {
    const { remote, g, gets } = await volumeWith(20);
    const b = await device(remote);
    const gb = await b.graftClone(g.remote);
    expect(b.graftStatus(gb.local)).toMatchObject({ remoteLsn: 20 });
    expect(gets()).toEqual([RemoteKey.latest(g.remote), commitKey(g.remote, 21)]);
    expect(b.graftReader(gb.local).readPage(idx(1))[0]).toBe(20);
    expect(b.volumeOldestLsn(g.remote)).toBe(1);
  });

  it('a clone of a one-commit volume reads the hint and one absent LSN', async () => {
    const { remote, g, gets } = await volumeWith(1);
    const b = await device(remote);
    await b.graftClone(g.remote);
    expect(gets()).toEqual([RemoteKey.latest(g.remote), commitKey(g.remote, 2)]);
  });

  it('a pull that is behind asks the hint beside its second probe and takes the rest from its tail', async () => {
    const { remote, g, push, gets, events } = await volumeWith(2);
    const b = await device(remote);
    const gb = await b.graftClone(g.remote);
    for (let i = 0; i < 10; i++) await push(100 + i);
    events.length = 0;
    expect(await b.graftPull(gb.local)).toMatchObject({ outcome: 'pulled', to: 12 });
    expect(gets().sort()).toEqual([3, 4, 13].map((n) => commitKey(g.remote, n)).concat(RemoteKey.latest(g.remote)).sort());
    expect(b.graftReader(gb.local).readPage(idx(1))[0]).toBe(109);
    for (let lsn = 3; lsn <= 12; lsn++) expect(b.volumeCheckout(g.remote, LSN.parse(lsn)).pageCount).toBe(1);
  });

  it('a pull behind the newest checkpoint reads the commits up to it at their keys, then takes the tail', async () => {
    const { remote, g, push, gets, events } = await volumeWith(2);
    const b = await device(remote);
    const gb = await b.graftClone(g.remote);
    for (let i = 3; i <= 100; i++) await push(i);
    events.length = 0;
    expect(await b.graftPull(gb.local)).toMatchObject({ outcome: 'pulled', to: 100 });
    // LSN 3, then LSN 4 beside the hint (checkpoint 64), 5..64 at their keys, 65..100 from the tail, 101 absent.
    expect(gets().sort()).toEqual([...Array.from({ length: 62 }, (_, i) => commitKey(g.remote, i + 3)), commitKey(g.remote, 101), RemoteKey.latest(g.remote)].sort());
    for (const lsn of [3, 64, 65, 100]) expect(b.volumeCheckout(g.remote, LSN.parse(lsn)).pageCount).toBe(1);
  });

  it('a hint that lags (its write was lost) or lies or is damaged never hides or invents commits', async () => {
    const { remote, g, push } = await volumeWith(5);
    const hintKey = RemoteKey.latest(g.remote);
    const setHint = (bytes: Uint8Array) => remote.objects.set(hintKey, { bytes, lastModified: Date.now() });
    for (const [name, hint] of [
      ['lagging', LatestHint.encode({ vid: g.remote, lsn: LSN.parse(2) })],
      ['lagging, with its tail', LatestHint.encode({ vid: g.remote, lsn: LSN.parse(2), checkpoint: 0, tail: await commits(remote, g.remote, 2) })],
      ['ahead of the log', LatestHint.encode({ vid: g.remote, lsn: LSN.parse(1e12) })],
      ['damaged', new TextEncoder().encode('not a hint')],
      ['of another volume', LatestHint.encode({ vid: g.local, lsn: LSN.parse(9) })],
    ] as const) {
      setHint(hint);
      const b = await device(remote);
      const gb = await b.graftClone(g.remote);
      expect(b.graftStatus(gb.local).remoteLsn, name).toBe(5);
      expect(b.graftReader(gb.local).readPage(idx(1))[0], name).toBe(5);
    }
    // The next push writes the truth again.
    await push(6);
    expect(LatestHint.decode(remote.objects.get(hintKey)!.bytes, g.remote).lsn).toBe(6);
  });

  it('a checkpoint that lands between the probe finding its LSN absent and the hint naming it is the end, not pruned history', async () => {
    const { remote, a, g, push } = await volumeWith(2);
    // The next commit is a checkpoint: A's local GC squashed the records before it.
    a.collectLocalGarbage({ historyCommits: 1 });
    let racing: (() => Promise<void>) | undefined;
    class Race extends ForwardingRemote {
      protected override send<T>(call: RemoteCall, request: () => Promise<T>): Promise<T> {
        const land = call.op === 'getLatest' ? racing : undefined;
        if (land) racing = undefined;
        // The probe of LSN 3 (sent beside) already found it absent; A's push lands now, then the hint is read.
        return land ? land().then(request) : request();
      }
    }
    const clock = { offset: 0 };
    const b = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote: new Race(remote), ids: { now: () => Date.now() + clock.offset, random: SYSTEM_IDS.random } });
    const gb = await b.graftClone(g.remote);
    clock.offset = LOG_END_TRUST_MS + 1; // B's view of the log end is stale: its probe reads the hint beside
    racing = () => push(3);
    // Before: LSN 3 absent below the hint's checkpoint 3 read as pruned: CommitNotFound, and a pull
    // dropped the held log (or reported a divergence it did not have).
    expect(await b.graftFetch(gb.local)).toBe(2);
    expect(Commit.decode((await remote.getCommit(g.remote, LSN.parse(3)))!).checkpoint).toBeDefined();
    expect(await b.graftPull(gb.local)).toMatchObject({ outcome: 'pulled', to: 3 });
    expect(b.volumeOldestLsn(g.remote)).toBe(1);
    expect(b.graftReader(gb.local).readPage(idx(1))[0]).toBe(3);
  });
});
