import { describe, expect, it } from 'vitest';
import { PageIdx, type VolumeId } from '../core/index.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../local/index.ts';
import { ForwardingRemote, MemoryRemote, type PlannedRequest, type Remote, type RemoteCall } from '../remote/index.ts';
import { Runtime } from './runtime.ts';

/*
 * Round trips of a push, counted without a clock: every request waits for the next "round", and a
 * round ends when no request has been made for a macrotask. Requests that could run together land in
 * one round; one that waits for another's answer lands in a later round.
 */

interface Call { readonly op: string; readonly round: number }

/** `remote` whose requests (and presign preparations) are answered round by round, each call recorded with its round. */
function roundRemote(remote: Remote): { remote: Remote; calls: Call[]; rounds: () => number } {
  const calls: Call[] = [];
  const signed = new Set<string>();
  let round = 0;
  let waiting: (() => void)[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const release = waiting;
    waiting = [];
    round++;
    for (const r of release) r();
  };
  const inRound = async <T>(op: string, run: () => Promise<T>): Promise<T> => {
    calls.push({ op, round });
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (!scheduled) {
        scheduled = true;
        setTimeout(flush, 5);
      }
    });
    return run();
  };
  class RoundRemote extends ForwardingRemote {
    protected override send<T>(call: RemoteCall, request: () => Promise<T>): Promise<T> {
      return inRound(call.op, request);
    }

    // The presign round trip S3 pays before the bucket requests, unless every URL is signed already.
    override async prepare(requests: readonly PlannedRequest[]): Promise<void> {
      const keys = requests.map(({ op, ...r }) => `${op} ${'bytes' in r ? r.bytes.byteLength : ''} ${JSON.stringify(r, (k, v: unknown) => (k === 'bytes' ? undefined : v))}`);
      if (keys.every((k) => signed.has(k))) return;
      await inRound('presign', async () => keys.forEach((k) => signed.add(k)));
    }
  }
  const wrapped = new RoundRemote(remote);
  return { remote: wrapped, calls, rounds: () => new Set(calls.map((c) => c.round)).size };
}

const page = (fill: number) => new Uint8Array(4096).fill(fill);
const device = (remote: Remote) => Runtime.open({ store: MemoryStore.open(new MemoryDirectory()), catalog: new MemoryCatalog(), remote });

/** One local commit writing page `idx` filled with `fill`. */
function writeOne(runtime: Runtime, vid: VolumeId, idx: number, fill: number): void {
  const w = runtime.graftWriter(vid);
  w.writePage(PageIdx.parse(idx), page(fill));
  w.commit();
}

describe('push round trips', () => {
  it('a 1-page push is 4 rounds: presign, probe beside the segment, commit, hint; the commit after its segment, the hint after its commit', async () => {
    const bucket = new MemoryRemote();
    const pusher = await device(bucket);
    const g = await pusher.graftOpen();
    writeOne(pusher, g.local, 1, 1);
    expect(await pusher.graftPush(g.local)).toMatchObject({ outcome: 'pushed' });

    const counted = roundRemote(bucket);
    const other = await device(counted.remote);
    const clone = await other.graftClone(g.remote);
    writeOne(other, clone.local, 2, 2);
    counted.calls.length = 0;
    expect(await other.graftPush(clone.local)).toMatchObject({ outcome: 'pushed', pages: 1 });

    const roundOf = (op: string) => counted.calls.filter((c) => c.op === op).map((c) => c.round);
    expect(counted.rounds()).toBe(4);
    const [segment] = roundOf('putSegment') as [number];
    for (const r of roundOf('putCommit')) expect(r).toBeGreaterThan(segment);
    expect(roundOf('getCommit')).toEqual([segment]);
    // The hint carries the commit to clones that trust it: never before the commit landed.
    const [commitRound] = roundOf('putCommit') as [number];
    for (const r of roundOf('putLatest')) expect(r).toBeGreaterThan(commitRound);
    // And it landed: a third device reads both pages.
    const reader = await device(bucket);
    const rc = await reader.graftClone(g.remote);
    expect(reader.graftReader(rc.local).readPage(PageIdx.parse(2))[0]).toBe(2);
  });

  it('a push that finds a newer remote commit beside its segment upload diverges and names no segment', async () => {
    const bucket = new MemoryRemote();
    const a = await device(bucket);
    const ga = await a.graftOpen();
    writeOne(a, ga.local, 1, 1);
    await a.graftPush(ga.local);
    const b = await device(bucket);
    const gb = await b.graftClone(ga.remote);
    writeOne(a, ga.local, 1, 3);
    await a.graftPush(ga.local);

    writeOne(b, gb.local, 1, 4);
    const commitsBefore = [...bucket.objects.keys()].filter((k) => k.includes('/log/')).length;
    expect(await b.graftPush(gb.local)).toMatchObject({ outcome: 'diverged', ahead: 1, behind: 1 });
    expect([...bucket.objects.keys()].filter((k) => k.includes('/log/')).length).toBe(commitsBefore);
    expect(b.graftStatus(gb.local)).toMatchObject({ ahead: 1 });
  });
});
