import { describe, expect, it } from 'vitest';
import { PageIdx, ScionError, SYSTEM_IDS, type VolumeId } from '../core/index.ts';
import { LOG_END_TRUST_MS } from './jobs/fetch-log.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../local/index.ts';
import { ForwardingRemote, MemoryRemote, type PlannedRequest, type Remote, type RemoteCall } from '../remote/index.ts';
import { Runtime } from './runtime.ts';

/*
 * Round trips of a push, counted without a clock: every request waits for the next "round", and a
 * round ends when no request has been made for a macrotask. Requests that could run together land in
 * one round; one that waits for another's answer lands in a later round.
 */

interface Call { readonly op: string; readonly round: number; answered: boolean }

/**
 * `remote` whose requests (and presign preparations) are answered round by round, each call recorded
 * with its round and whether it was answered. `signsUploads`: as S3 does, an upload whose body no
 * preparation signed pays a presign round of its own first.
 */
function roundRemote(remote: Remote, { signsUploads = false } = {}): { remote: Remote; calls: Call[]; rounds: () => number } {
  const calls: Call[] = [];
  const signed = new Set<string>();
  const signedBodies = new WeakSet<Uint8Array>();
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
    const call: Call = { op, round, answered: false };
    calls.push(call);
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (!scheduled) {
        scheduled = true;
        setTimeout(flush, 5);
      }
    });
    try {
      return await run();
    } finally {
      call.answered = true;
    }
  };
  class RoundRemote extends ForwardingRemote {
    protected override async send<T>(call: RemoteCall, request: () => Promise<T>): Promise<T> {
      if (signsUploads && call.body && !signedBodies.has(call.body)) {
        await inRound('presign', async () => undefined);
        signedBodies.add(call.body);
      }
      return inRound(call.op, request);
    }

    // The presign round trip S3 pays before the bucket requests, unless every URL is signed already.
    override async prepare(requests: readonly PlannedRequest[]): Promise<void> {
      for (const r of requests) if ('bytes' in r) signedBodies.add(r.bytes);
      const keys = requests.map(({ op, ...r }) => `${op} ${'bytes' in r ? r.bytes.byteLength : ''} ${JSON.stringify(r, (k, v: unknown) => (k === 'bytes' ? undefined : v))}`);
      if (keys.every((k) => signed.has(k))) return;
      await inRound('presign', async () => keys.forEach((k) => signed.add(k)));
    }
  }
  const wrapped = new RoundRemote(remote);
  /** Rounds of the requests answered so far: what a caller waited for. */
  return { remote: wrapped, calls, rounds: () => new Set(calls.filter((c) => c.answered).map((c) => c.round)).size };
}

const page = (fill: number) => new Uint8Array(4096).fill(fill);
/** A page that does not compress. */
const noise = (seed: number) => {
  const p = new Uint8Array(4096);
  let x = seed * 2654435761;
  for (let i = 0; i < p.length; i++) p[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return p;
};
const device = (remote: Remote) => Runtime.open({ store: MemoryStore.open(new MemoryDirectory()), catalog: new MemoryCatalog(), remote });

/** One local commit writing page `idx` filled with `fill`. */
function writeOne(runtime: Runtime, vid: VolumeId, idx: number, fill: number): void {
  const w = runtime.graftWriter(vid);
  w.writePage(PageIdx.parse(idx), page(fill));
  w.commit();
}

describe('push round trips', () => {
  it('a 1-page push is 2 rounds: presign, then the commit carrying its frames; the hint after the push resolved', async () => {
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

    // When it resolved: two rounds answered; the hint asked for, not answered yet.
    expect(counted.calls.map((c) => [c.op, c.answered])).toEqual([['presign', true], ['putCommit', true], ['putLatest', false]]);
    expect(counted.rounds()).toBe(2);
    // No segment object (neither push made one): the frames are in the commits.
    expect([...bucket.objects.keys()].filter((k) => k.includes('/segments/'))).toEqual([]);
    // The hint carries the commit to clones that trust it: written after the commit landed.
    await other.hintsSettled();
    const [commitRound] = counted.calls.filter((c) => c.op === 'putCommit').map((c) => c.round) as [number];
    expect(counted.calls.filter((c) => c.op === 'putLatest').map((c) => c.round > commitRound)).toEqual([true]);
    // And it landed: a third device reads both pages, the new one from the commit object.
    const reader = await device(bucket);
    const rc = await reader.graftClone(g.remote);
    expect(reader.graftReader(rc.local).readPage(PageIdx.parse(2))[0]).toBe(2);
    expect(reader.graftReader(rc.local).readPage(PageIdx.parse(1))[0]).toBe(1);
  });

  it('a small push whose runtime has not seen the log end for LOG_END_TRUST_MS probes first (pruning may have deleted its LSN)', async () => {
    const bucket = new MemoryRemote();
    const pusher = await device(bucket);
    const g = await pusher.graftOpen();
    writeOne(pusher, g.local, 1, 1);
    await pusher.graftPush(g.local);

    const counted = roundRemote(bucket);
    const clock = { offset: 0 };
    const ids = { now: () => Date.now() + clock.offset, random: SYSTEM_IDS.random };
    const other = await Runtime.open({ store: MemoryStore.open(new MemoryDirectory()), catalog: new MemoryCatalog(), remote: counted.remote, ids });
    const clone = await other.graftClone(g.remote);
    writeOne(other, clone.local, 2, 2);
    clock.offset = LOG_END_TRUST_MS + 1;
    counted.calls.length = 0;
    expect(await other.graftPush(clone.local)).toMatchObject({ outcome: 'pushed', pages: 1 });
    // Not inline: the probe of its LSN ran before the commit PUT, beside a segment upload.
    expect(counted.calls.some((c) => c.op === 'getCommit')).toBe(true);
    expect(counted.calls.some((c) => c.op === 'putSegment')).toBe(true);
  });

  it('a push too big to inline is 3 rounds: presign, probe beside the segment, commit; the hint after', async () => {
    const bucket = new MemoryRemote();
    const counted = roundRemote(bucket);
    const pusher = await device(counted.remote);
    const g = await pusher.graftOpen();
    writeOne(pusher, g.local, 1, 1);
    await pusher.graftPush(g.local);
    // 8 pages of noise: ~32 KiB, more than a commit object carries.
    const w = pusher.graftWriter(g.local);
    for (let i = 1; i <= 8; i++) w.writePage(PageIdx.parse(i), noise(i));
    w.commit();
    counted.calls.length = 0;
    expect(await pusher.graftPush(g.local)).toMatchObject({ outcome: 'pushed', pages: 8 });
    expect(counted.rounds()).toBe(3);
    const roundOf = (op: string) => counted.calls.filter((c) => c.op === op).map((c) => c.round);
    const [segment] = roundOf('putSegment') as [number];
    expect(roundOf('getCommit')).toEqual([segment]);
    for (const r of roundOf('putCommit')) expect(r).toBeGreaterThan(segment);
    await pusher.hintsSettled();
    const reader = await device(bucket);
    const rc = await reader.graftClone(g.remote);
    expect(reader.graftReader(rc.local).readPage(PageIdx.parse(8))).toEqual(noise(8));
  });

  it('a push in parts signs its commit beside the last part: the commit PUT is the round right after that part', async () => {
    const bucket = new MemoryRemote();
    const counted = roundRemote(bucket, { signsUploads: true });
    const pusher = await device(counted.remote);
    const g = await pusher.graftOpen();
    writeOne(pusher, g.local, 1, 1);
    await pusher.graftPush(g.local);
    // 640 random pages: 2.5 MiB that do not compress, more than one 2 MiB part.
    const pages = Array.from({ length: 641 }, () => crypto.getRandomValues(new Uint8Array(4096)));
    const w = pusher.graftWriter(g.local);
    for (let i = 1; i <= 640; i++) w.writePage(PageIdx.parse(i), pages[i] as Uint8Array);
    w.commit();
    counted.calls.length = 0;
    expect(await pusher.graftPush(g.local)).toMatchObject({ outcome: 'pushed', pages: 640 });
    const roundOf = (op: string) => counted.calls.filter((c) => c.op === op).map((c) => c.round);
    const parts = roundOf('putSegment');
    expect(parts.length).toBeGreaterThan(1);
    expect(roundOf('putCommit')).toEqual([Math.max(...parts) + 1]);
    await pusher.hintsSettled();
    const reader = await device(bucket);
    const rc = await reader.graftClone(g.remote);
    for (const i of [1, 320, 640]) expect(reader.graftReader(rc.local).readPage(PageIdx.parse(i))).toEqual(pages[i]);
  });

  it('an inline commit whose answer was lost is recovered: as its retry seeing 412, or as an error and the next push', async () => {
    const bucket = new MemoryRemote();
    let lose: 'as-412' | 'as-error' | undefined;
    class LostAnswer extends ForwardingRemote {
      protected override async send<T>(call: RemoteCall, request: () => Promise<T>): Promise<T> {
        const result = await request();
        if (call.op !== 'putCommit' || !lose) return result;
        const how = lose;
        lose = undefined;
        if (how === 'as-error') throw new ScionError('RemoteUnavailable', 'The answer was lost.');
        // The request landed; its retry finds the key taken.
        return request();
      }
    }
    const pusher = await device(new LostAnswer(bucket));
    const g = await pusher.graftOpen();
    writeOne(pusher, g.local, 1, 1);
    lose = 'as-412';
    expect(await pusher.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 1 });
    writeOne(pusher, g.local, 1, 2);
    lose = 'as-error';
    await expect(pusher.graftPush(g.local)).rejects.toThrow('lost');
    expect(pusher.graftStatus(g.local)).toMatchObject({ pendingPush: { remote: 2 } });
    writeOne(pusher, g.local, 2, 3);
    // Recovery lands LSN 2 as ours; the push sends only the commit after it.
    expect(await pusher.graftPush(g.local)).toMatchObject({ outcome: 'pushed', remoteLsn: 3, pages: 1 });
    expect([...bucket.objects.keys()].filter((k) => k.includes('/log/'))).toHaveLength(3);
    const reader = await device(bucket);
    const rc = await reader.graftClone(g.remote);
    expect([1, 2].map((i) => reader.graftReader(rc.local).readPage(PageIdx.parse(i))[0])).toEqual([2, 3]);
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
