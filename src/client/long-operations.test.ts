// Long operations report progress and stop on their AbortSignal: an aborted one fails with Interrupted
// and committed nothing (a push cut while committing is completed by the next push).
import { describe, expect, it } from 'vitest';
import { MemoryRemote } from '../remote/index.ts';
import { HeldRemote } from '../remote/testing.ts';
import type { Database, Progress } from './index.ts';
import { abortAtRequest, connect, rejection } from './testing.ts';

const ROWS = "INSERT INTO t SELECT zeroblob(3000) FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200) SELECT i FROM c)";

/** Device A (behind a HeldRemote) with a pushed table of 200 rows; device B opens clones through the plain remote. */
async function twoDevices() {
  const bucket = new MemoryRemote();
  const held = new HeldRemote(bucket);
  const a = await (await connect(held)).open('main');
  await a.exec(`CREATE TABLE t(x); ${ROWS}`);
  expect(await a.push()).toMatchObject({ outcome: 'pushed' });
  const { remote } = await a.status();
  const clone = async (): Promise<Database> => (await connect(bucket)).open('main', { clone: remote });
  return { bucket, held, a, remote, clone };
}

async function count(db: Database): Promise<number> {
  return ((await db.get<{ n: number }>('SELECT count(*) AS n FROM t')) as { n: number }).n;
}

describe('long operations: progress and AbortSignal', () => {
  it('push reports upload and commit progress, ending with done', async () => {
    const { a } = await twoDevices();
    await a.exec(ROWS);
    const events: Progress[] = [];
    const result = await a.push({ onProgress: (p) => events.push(p) });
    expect(result).toMatchObject({ outcome: 'pushed' });
    expect(events.at(-1)?.phase).toBe('done');
    const phases = [...new Set(events.map((e) => e.phase))];
    // (`download` comes first only in a fork, whose pages may not all be local.)
    expect(phases).toEqual(['upload', 'commit', 'done']);
    const bytes = result.outcome === 'pushed' ? result.bytes : -1;
    expect(events.find((e) => e.phase === 'upload' && e.done === bytes)).toMatchObject({ operation: 'push', total: bytes, bytes });
  });

  it('a push aborted during its segment upload fails with Interrupted, pushes nothing, and the next push completes', async () => {
    const { held, a, clone } = await twoDevices();
    // Rows that do not compress, so the push uploads a segment (a small one would travel in its commit).
    await a.exec(ROWS.replace('zeroblob', 'randomblob'));
    const err = await abortAtRequest(held, 'putSegment', (signal) => a.push({ signal }));
    expect(err).toMatchObject({ code: 'Interrupted', details: { reason: 'cancelled', operation: 'push' } });
    expect(await a.status()).toMatchObject({ state: 'ahead', remoteLsn: 1 });
    expect(await count(await clone())).toBe(200);
    expect(await a.push()).toMatchObject({ outcome: 'pushed', remoteLsn: 2 });
    expect(await count(await clone())).toBe(400);
  });

  it('a push aborted after its commit landed (the answer lost) leaves a state the next push completes', async () => {
    const { held, a, clone } = await twoDevices();
    await a.exec(ROWS);
    expect((await abortAtRequest(held, 'putCommit', (signal) => a.push({ signal }), { after: true })).code).toBe('Interrupted');
    expect((await a.status()).pendingPush).toBeTruthy();
    // The commit is in the bucket; the next push finds it there rather than pushing again.
    expect(await a.push()).toEqual({ outcome: 'up-to-date' });
    expect(await a.status()).toMatchObject({ state: 'in-sync', remoteLsn: 2, pendingPush: undefined });
    expect(await count(await clone())).toBe(400);
  });

  it('pull and fetch aborted while fetching commit records move nothing; the next pull moves', async () => {
    const { held, a, clone } = await twoDevices();
    const b = await clone();
    await b.exec(ROWS);
    await b.push();
    for (const run of [(signal: AbortSignal) => a.pull({ signal }), (signal: AbortSignal) => a.fetch({ signal })]) {
      expect(await abortAtRequest(held, 'getCommit', run)).toMatchObject({ code: 'Interrupted', details: { reason: 'cancelled' } });
      expect(await a.status()).toMatchObject({ state: 'in-sync', remoteLsn: 1 });
      expect(await count(a)).toBe(200);
    }
    const events: Progress[] = [];
    expect(await a.pull({ onProgress: (p) => events.push(p) })).toMatchObject({ outcome: 'pulled', to: 2 });
    expect(await count(a)).toBe(400);
    expect(events.at(-1)?.phase).toBe('done');
    expect(events.filter((e) => e.phase === 'fetch-log').at(-1)).toMatchObject({ operation: 'pull', done: 1, total: 1 });
  });

  it('hydrate aborted mid-download keeps what it fetched; hydrating again completes', async () => {
    const { held, remote } = await twoDevices();
    const c = await (await connect(held)).open('main', { clone: remote });
    expect(await abortAtRequest(held, 'getSegmentRange', (signal) => c.hydrate({ signal }))).toMatchObject({ code: 'Interrupted', details: { operation: 'hydrate' } });
    const done = await c.hydrate();
    expect(done.framesDone).toBe(done.framesTotal);
    expect((await c.pageMap()).counts.missing).toBe(0);
  });

  it('clone aborted while fetching commit records leaves the database on its graft', async () => {
    const { held, a, remote } = await twoDevices();
    const other = await (await connect(held)).open('other');
    await other.exec('CREATE TABLE mine(y); INSERT INTO mine VALUES (7)');
    const before = await other.status();
    expect(await abortAtRequest(held, 'getLatest', (signal) => other.clone(remote, { signal }))).toMatchObject({ code: 'Interrupted', details: { operation: 'clone' } });
    expect((await other.status()).local).toBe(before.local);
    expect(await other.query('SELECT y FROM mine')).toEqual([{ y: 7 }]);
    expect(await count(a)).toBe(200);
  });

  it('export aborted while fetching missing pages fails with Interrupted; export reports download and read progress', async () => {
    const { held, remote } = await twoDevices();
    const c = await (await connect(held)).open('main', { clone: remote });
    expect(await abortAtRequest(held, 'getSegmentRange', (signal) => c.export({ signal }))).toMatchObject({ code: 'Interrupted', details: { operation: 'export' } });
    const events: Progress[] = [];
    const file = await c.export({ onProgress: (p) => events.push(p) });
    expect(events.at(-1)?.phase).toBe('done');
    const pages = file.byteLength / 4096;
    expect(events.filter((e) => e.phase === 'read').at(-1)).toMatchObject({ operation: 'export', done: pages, total: pages });
    expect(events.some((e) => e.phase === 'download')).toBe(true);
  });

  it('an import aborted while it waits for the database commits nothing; one not aborted reports write progress', async () => {
    const { held, a, clone } = await twoDevices();
    const file = await (await clone()).export();
    const b = await clone();
    await b.exec(ROWS);
    await b.push();
    // A pull holds the database's lock while it fetches the next commit record: the import waits behind it.
    const hold = held.hold('getCommit');
    const pull = a.pull();
    await hold.reached;
    const controller = new AbortController();
    const importing = a.import(file, { signal: controller.signal });
    controller.abort();
    hold.release();
    expect(await rejection(importing)).toMatchObject({ code: 'Interrupted', details: { operation: 'import' } });
    await pull;
    const lsn = (await a.status()).localLsn;
    expect(await count(a)).toBe(400);
    const events: Progress[] = [];
    await a.import(file, { onProgress: (p) => events.push(p) });
    expect((await a.status()).localLsn).toBe((lsn ?? 0) + 1);
    expect(await count(a)).toBe(200);
    expect(events.at(-1)?.phase).toBe('done');
    expect(events.filter((e) => e.phase === 'write').at(-1)).toMatchObject({ operation: 'import', done: file.byteLength / 4096 });
  });

  it('an operation whose signal aborted before it started does nothing', async () => {
    const { a } = await twoDevices();
    await a.exec(ROWS);
    const err = await rejection(a.push({ signal: AbortSignal.abort() }));
    expect(err).toMatchObject({ code: 'Interrupted', details: { reason: 'cancelled', operation: 'push' } });
    expect(await a.status()).toMatchObject({ state: 'ahead' });
  });
});
