// Contract checks every Remote must pass: the memory remote, S3Remote on each test bucket, and every
// wrapper (counting, offline switch). Framework-free like the store contracts: each check is a plain
// async function that throws on failure; a test file per implementation runs them.
import { isScionError, LSN, RemoteFork, RemoteKey, SegmentId, VolumeId, type ErrorCode, type SegmentAddress } from '../core/index.ts';
import type { Remote } from './remote.ts';

export interface RemoteHarness {
  readonly remote: Remote;
  /** Whether `getSegmentRangeSync` can run here (S3Remote's needs a browser worker's XMLHttpRequest). */
  readonly sync: boolean;
}

export type RemoteCheck = (h: RemoteHarness) => Promise<void>;

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array, what: string): void {
  check(a !== undefined, `${what}: got nothing`);
  check(a.byteLength === b.byteLength && a.every((x, i) => x === b[i]), `${what}: got ${a.byteLength} bytes that differ from the ${b.byteLength} stored`);
}

async function failsWith(run: () => unknown, code: ErrorCode, what: string): Promise<void> {
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  check(isScionError(error, code), `${what}: expected ${code}, got ${error === undefined ? 'success' : String(error)}`);
}

async function listed(remote: Remote, vid: VolumeId): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const o of remote.list('volumes/')) if (o.key.startsWith(`volumes/${vid}/`)) out.set(o.key, o.size);
  return out;
}

export const remoteChecks: Record<string, RemoteCheck> = {
  async 'a commit is create-only: the first bytes stay, a second PUT reports exists'({ remote }) {
    const vid = VolumeId.random();
    check((await remote.getCommit(vid, LSN.FIRST)) === undefined, 'an absent commit must read as undefined');
    const first = bytes(300, 1);
    check((await remote.putCommit(vid, LSN.FIRST, first)) === 'created', 'the first PUT must create the commit');
    check((await remote.putCommit(vid, LSN.FIRST, bytes(300, 2))) === 'exists', 'a second PUT must find it there');
    sameBytes(await remote.getCommit(vid, LSN.FIRST), first, 'the commit');
    check((await remote.getCommit(vid, LSN.parse(2))) === undefined, 'the next LSN is still absent');
  },

  async 'firstLsn is the lowest LSN with a commit (a log may start past 1), undefined for none'({ remote }) {
    const vid = VolumeId.random();
    check((await remote.firstLsn(vid)) === undefined, 'an empty log has no first LSN');
    await remote.putCommit(vid, LSN.parse(17), bytes(40, 1));
    await remote.putCommit(vid, LSN.parse(3), bytes(40, 2));
    await remote.putLatest(vid, bytes(20, 1));
    check((await remote.firstLsn(vid)) === 3, `the first LSN is 3, got ${await remote.firstLsn(vid)}`);
    check((await remote.firstLsn(vid, { after: LSN.parse(3) })) === 17, `the first LSN after 3 is 17, got ${await remote.firstLsn(vid, { after: LSN.parse(3) })}`);
    check((await remote.firstLsn(vid, { after: LSN.parse(17) })) === undefined, 'no LSN after 17');
  },

  async 'a fork record is create-only and holds the fork, its ancestors and the commits of theirs it lists'({ remote }) {
    const [vid, a, b] = [VolumeId.random(), VolumeId.random(), VolumeId.random()];
    // Each listed commit is one of the ancestor's log (the presign service checks it is there).
    await remote.putCommit(a, LSN.parse(3), bytes(40, 1));
    await remote.putCommit(a, LSN.parse(300), bytes(40, 1));
    const inlineCommits = { [a]: [LSN.parse(3), LSN.parse(300)] };
    check((await remote.putFork({ vid, ancestors: [b, a], inlineCommits })) === 'created', 'the first PUT must create the fork record');
    check((await remote.putFork({ vid, ancestors: [a] })) === 'exists', 'a second PUT must find it there');
    const size = (await listed(remote, vid)).get(RemoteKey.fork(vid));
    check(size === RemoteFork.encode({ vid, ancestors: [a, b], inlineCommits }).byteLength, `the fork record is listed with its size, got ${size}`);
  },

  async 'the latest hint is overwritten, not create-only'({ remote }) {
    const vid = VolumeId.random();
    check((await remote.getLatest(vid)) === undefined, 'an absent hint must read as undefined');
    await remote.putLatest(vid, bytes(20, 1));
    const second = bytes(20, 2);
    await remote.putLatest(vid, second);
    sameBytes(await remote.getLatest(vid), second, 'the hint');
  },

  async 'a segment is create-only and read by exact byte ranges, blocking or not'({ remote, sync }) {
    const vid = VolumeId.random();
    const sid = SegmentId.random();
    const at: SegmentAddress = { sid, home: vid };
    const body = bytes(10_000, 3);
    check((await remote.putSegment(vid, sid, body)) === 'created', 'the first PUT must create the segment');
    check((await remote.putSegment(vid, sid, bytes(10_000, 4))) === 'exists', 'a second PUT must find it there');
    for (const range of [{ start: 0, end: 10 }, { start: 4096, end: 8192 }, { start: 9_000, end: 10_000 }]) {
      sameBytes(await remote.getSegmentRange(at, range), body.slice(range.start, range.end), `range [${range.start}, ${range.end})`);
      if (sync) sameBytes(remote.getSegmentRangeSync(at, range), body.slice(range.start, range.end), `blocking range [${range.start}, ${range.end})`);
    }
  },

  async 'a missing segment, or a range past its end, is Corrupt: never other bytes'({ remote, sync }) {
    const vid = VolumeId.random();
    const missing: SegmentAddress = { sid: SegmentId.random(), home: vid };
    await failsWith(() => remote.getSegmentRange(missing, { start: 0, end: 10 }), 'Corrupt', 'a missing segment');
    if (sync) await failsWith(() => remote.getSegmentRangeSync(missing, { start: 0, end: 10 }), 'Corrupt', 'a missing segment, blocking');
    const sid = SegmentId.random();
    await remote.putSegment(vid, sid, bytes(100, 5));
    await failsWith(() => remote.getSegmentRange({ sid, home: vid }, { start: 50, end: 150 }), 'Corrupt', 'a range past the end');
    if (sync) await failsWith(() => remote.getSegmentRangeSync({ sid, home: vid }, { start: 50, end: 150 }), 'Corrupt', 'a range past the end, blocking');
  },

  async 'bytes read are the caller\'s: changing them changes nothing stored'({ remote }) {
    const vid = VolumeId.random();
    const sid = SegmentId.random();
    const body = bytes(64, 6);
    await remote.putCommit(vid, LSN.FIRST, body);
    await remote.putSegment(vid, sid, body);
    (await remote.getCommit(vid, LSN.FIRST))?.fill(0);
    (await remote.getSegmentRange({ sid, home: vid }, { start: 0, end: 64 })).fill(0);
    body.fill(9); // nor does changing what was written
    const expected = bytes(64, 6);
    sameBytes(await remote.getCommit(vid, LSN.FIRST), expected, 'the commit');
    sameBytes(await remote.getSegmentRange({ sid, home: vid }, { start: 0, end: 64 }), expected, 'the segment');
  },

  async 'the listing names every object of a volume with its size; a deleted segment leaves it'({ remote }) {
    const vid = VolumeId.random();
    const sid = SegmentId.random();
    await remote.putCommit(vid, LSN.FIRST, bytes(10, 1));
    await remote.putCommit(vid, LSN.parse(2), bytes(11, 1));
    await remote.putLatest(vid, bytes(12, 1));
    await remote.putSegment(vid, sid, bytes(13, 1));
    const all = await listed(remote, vid);
    const expected = new Map([
      [RemoteKey.commit(vid, LSN.FIRST), 10], [RemoteKey.commit(vid, LSN.parse(2)), 11], [RemoteKey.latest(vid), 12], [RemoteKey.segment({ sid, home: vid }), 13],
    ]);
    check(all.size === expected.size && [...expected].every(([k, size]) => all.get(k) === size), `listing: ${JSON.stringify([...all])}`);
    await remote.deleteSegment({ sid, home: vid });
    await remote.deleteSegment({ sid, home: vid }); // deleting what is gone is no error
    check(!(await listed(remote, vid)).has(RemoteKey.segment({ sid, home: vid })), 'the deleted segment is still listed');
    await failsWith(() => remote.getSegmentRange({ sid, home: vid }, { start: 0, end: 13 }), 'Corrupt', 'a deleted segment');
  },

  async 'prepare is only a hint: the requests it names then work as without it'({ remote }) {
    const vid = VolumeId.random();
    const sid = SegmentId.random();
    const body = bytes(50, 7);
    await remote.prepare?.([
      { op: 'putCommit', vid, lsn: LSN.FIRST, bytes: body },
      { op: 'putSegment', vid, sid, bytes: body },
      { op: 'getCommit', vid, lsn: LSN.FIRST },
      { op: 'getSegment', at: { sid, home: vid } },
    ]);
    check((await remote.putCommit(vid, LSN.FIRST, body)) === 'created', 'the prepared PUT must create the commit');
    await remote.putSegment(vid, sid, body);
    sameBytes(await remote.getCommit(vid, LSN.FIRST), body, 'the prepared commit');
    sameBytes(await remote.getSegmentRange({ sid, home: vid }, { start: 0, end: 50 }), body, 'the prepared segment');
  },
};
