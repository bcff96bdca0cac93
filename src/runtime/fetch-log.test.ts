import { describe, expect, it } from 'vitest';
import { LatestHint, LSN, PageIdx, RemoteKey, type VolumeId } from '../core/index.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../local/index.ts';
import { MemoryRemote, type RemoteRequestEvent } from '../remote/index.ts';
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

  it('a clone reads the hint with its first probe, then every commit up to it and one past it', async () => {
    const { remote, g, gets } = await volumeWith(20);
    const b = await device(remote);
    const gb = await b.graftClone(g.remote);
    expect(b.graftStatus(gb.local)).toMatchObject({ remoteLsn: 20 });
    const keys = gets();
    expect(keys.slice(0, 2).sort()).toEqual([commitKey(g.remote, 1), RemoteKey.latest(g.remote)].sort());
    expect(keys.slice(2)).toEqual(Array.from({ length: 20 }, (_, i) => commitKey(g.remote, i + 2)));
  });

  it('a pull that is behind asks the hint beside its second probe', async () => {
    const { remote, g, push, gets, events } = await volumeWith(2);
    const b = await device(remote);
    const gb = await b.graftClone(g.remote);
    for (let i = 0; i < 10; i++) await push(100 + i);
    events.length = 0;
    expect(await b.graftPull(gb.local)).toMatchObject({ outcome: 'pulled', to: 12 });
    expect(gets().filter((k) => k === RemoteKey.latest(g.remote))).toHaveLength(1);
    expect(gets()).toHaveLength(1 + 2 + 9);
  });

  it('a hint that lags (its write was lost) or lies or is damaged never hides or invents commits', async () => {
    const { remote, g, push } = await volumeWith(5);
    const hintKey = RemoteKey.latest(g.remote);
    const setHint = (bytes: Uint8Array) => remote.objects.set(hintKey, { bytes, lastModified: Date.now() });
    for (const [name, hint] of [
      ['lagging', LatestHint.encode({ vid: g.remote, lsn: LSN.parse(2) })],
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
});
