import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CHECKPOINT_INTERVAL, Commit, computeCommitHash, encodeSegment, LatestHint, LSN, PageCount, PageIdx, PageSet, SegmentId, VolumeId, type Page } from '../core/index.ts';
import { IdbCatalog, MemoryStore } from '../local/index.ts';
import { bearerTokens, createPresignHandler } from '../presign/index.ts';
import { servePresign } from '../presign/node.ts';
import { PresignClient, S3Remote, type RemoteRequestEvent } from '../remote/index.ts';
import { Runtime } from './runtime.ts';

/*
 * A volume with many small commits, written straight into the real test bucket (segments and commit
 * records built in Node, PUT 16 at a time: no runtime per commit), then cloned and read by a new
 * device. With checkpoints (every CHECKPOINT_INTERVAL-th commit carries the whole page index) a
 * clone reads the hint, the newest checkpoint and the commits after it — not O(history) — and the
 * first page is one more request.
 */
const COMMITS = 1000;
const PAGES = 50;
const bucket = inject('testBucket');
const prefix = `many-commits/${Date.now().toString(36)}`;
let presign: { url: string; close(): Promise<void> };

beforeAll(async () => {
  presign = await servePresign(createPresignHandler({ bucket: { ...bucket, prefix }, authorize: bearerTokens({ w: { volumes: '*', write: true, admin: false } }) }), { port: 0 });
});
afterAll(() => presign?.close());

const idx = (n: number) => PageIdx.parse(n);
/** Page `p` as of commit `lsn`: commit `lsn` rewrites page ((lsn - 1) mod PAGES) + 1. */
const pageAt = (lsn: number, p: number): number => {
  const last = lsn - ((lsn - p) % PAGES + PAGES) % PAGES;
  return last >= 1 ? last % 251 : 0;
};

async function pool<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await run(items[next++] as T);
  }));
}

describe(`a volume of ${COMMITS} commits (${bucket.kind} bucket)`, () => {
  it('is built fast, then a new device clones it and reads correct rows at the head and at older LSNs', { timeout: 120_000 }, async () => {
    const vid = VolumeId.random();
    const writer = new S3Remote({ presign: { endpoint: `${presign.url}/presign`, token: 'w' }, concurrency: 16 });
    const built = performance.now();
    const lsns = Array.from({ length: COMMITS }, (_, i) => i + 1);
    const commits: Commit[] = [];
    await pool(lsns, 16, async (n) => {
      const lsn = LSN.parse(n);
      const p = idx(((n - 1) % PAGES) + 1);
      const page = new Uint8Array(4096).fill(n % 251) as Page;
      const pageCount = PageCount.parse(Math.min(n, PAGES));
      const segment = await encodeSegment([[[p, page]]]);
      const sid = SegmentId.random();
      expect(await writer.putSegment(vid, sid, segment.bytes)).toBe('created');
      const hash = await computeCommitHash(vid, lsn, pageCount, [[p, page]]);
      commits[n] = { vid, lsn, pageCount, hash, segment: { sid, home: vid, pages: PageSet.of([p]), frames: segment.frames } };
    });
    // As a pusher does: every CHECKPOINT_INTERVAL-th commit carries the holders of the other pages (the 49 commits before it).
    await pool(lsns, 16, async (n) => {
      const commit = commits[n] as Commit;
      const checkpoint = n % CHECKPOINT_INTERVAL === 0 ? commits.slice(Math.max(1, n - PAGES + 1), n) : undefined;
      expect(await writer.putCommit(vid, commit.lsn, Commit.encode(checkpoint ? { ...commit, checkpoint } : commit))).toBe('created');
    });
    await writer.putLatest(vid, LatestHint.encode({ vid, lsn: LSN.parse(COMMITS) }));
    const buildMs = performance.now() - built;

    const requests: RemoteRequestEvent[] = [];
    const signer = new PresignClient({ endpoint: `${presign.url}/presign`, token: 'w' });
    const rt = await Runtime.open({ store: MemoryStore.open(), catalog: await IdbCatalog.open(`many-${Date.now()}`), remote: new S3Remote({ presign: signer, onRequest: (e) => requests.push(e) }) });
    const started = performance.now();
    const g = await rt.graftClone(vid);
    const first = await rt.readPageAsync(rt.graftSnapshot(g.local), idx(7));
    const firstPageMs = performance.now() - started;
    expect(first[0]).toBe(pageAt(COMMITS, 7));
    // The hint, the newest checkpoint commit, the commits after it, the LSN after the last (absent), one frame.
    const checkpointLsn = COMMITS - (COMMITS % CHECKPOINT_INTERVAL);
    expect(requests).toHaveLength(1 + 1 + (COMMITS - checkpointLsn) + 1 + 1);
    console.log(`${COMMITS} commits built in ${Math.round(buildMs)} ms; clone to first page: ${requests.length} requests, ${signer.roundTrips} presign round trips, ${Math.round(firstPageMs)} ms (${bucket.kind})`);

    expect(() => rt.volumeCheckout(vid, LSN.parse(checkpointLsn - 1))).toThrow(expect.objectContaining({ code: 'CommitNotFound' }));
    for (const at of [COMMITS, COMMITS - 17, checkpointLsn]) {
      const snapshot = rt.volumeCheckout(vid, LSN.parse(at));
      expect(snapshot.pageCount).toBe(Math.min(at, PAGES));
      for (const p of [1, 2, 3, 25, 50].filter((x) => x <= snapshot.pageCount)) {
        expect((await rt.readPageAsync(snapshot, idx(p)))[0], `page ${p} at LSN ${at}`).toBe(pageAt(at, p));
      }
    }
  });
});
