// A volume with many small commits in a real bucket, built fast in Node (segments, commit records,
// checkpoints and the latest hint made as pushers make them, PUT many at a time: no runtime per
// commit), then cloned and read by new devices before and after remote GC with retention.
// Shared by src/runtime/s3-remote-scale.test.ts (small N) and bench/remote-scale.bench.ts.
import 'fake-indexeddb/auto';
import {
  CHECKPOINT_INTERVAL, Commit, computeCommitHash, encodeSegment, LatestHint, LSN, PageCount, PageIdx, PageSet, SegmentId, VolumeId, type Page,
} from '../../src/core/index.ts';
import { IdbCatalog, MemoryStore } from '../../src/local/index.ts';
import { bearerTokens, createPresignHandler } from '../../src/presign/index.ts';
import { servePresign } from '../../src/presign/node.ts';
import { PresignClient, S3Remote, type Remote, type RemoteRequestEvent } from '../../src/remote/index.ts';
import { Runtime } from '../../src/runtime/index.ts';
import type { TestBucketInfo } from '../../tools/bucket/index.ts';

export interface RemoteScaleConfig {
  readonly bucket: TestBucketInfo;
  readonly commits: number;
  /** Pages of the volume; commit n rewrites page ((n - 1) mod pages) + 1. */
  readonly pages: number;
  /** Remote GC keeps the last this many LSNs checkout-able. */
  readonly retainCommits: number;
  /** PUTs in flight while building. */
  readonly concurrency?: number;
  readonly log?: (line: string) => void;
}

export interface CloneMeasure {
  /** Bucket requests from the clone's start to the first page read. */
  readonly requests: number;
  readonly presignRoundTrips: number;
  readonly ms: number;
  /** Bucket requests and time to read every page of the volume after the first. */
  readonly allPages: { readonly requests: number; readonly ms: number };
}

export interface RemoteScaleResult {
  readonly buildMs: number;
  readonly before: { readonly objects: number; readonly bytes: number; readonly clone: CloneMeasure };
  readonly gc: { readonly ms: number; readonly segmentsDeleted: number; readonly bytesDeleted: number; readonly retainedFrom: number; readonly commitsDeleted: number };
  readonly after: { readonly objects: number; readonly bytes: number; readonly clone: CloneMeasure };
  /** The remote compactor's run, then a clone again. */
  readonly compaction: { readonly ms: number; readonly pages: number; readonly segments: number; readonly bytesUploaded: number };
  readonly compacted: { readonly objects: number; readonly bytes: number; readonly clone: CloneMeasure };
  /** Retained LSNs checked out on a new device, and pages read wrong there (must be 0). */
  readonly lsnsChecked: number;
  readonly wrongPages: number;
}

/** Page `p` as of commit `lsn`: its byte value (0 when never written). */
export const pageAt = (pages: number, lsn: number, p: number): number => {
  const last = lsn - ((((lsn - p) % pages) + pages) % pages);
  return last >= 1 ? last % 251 : 0;
};

async function pool<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await run(items[next++] as T);
  }));
}

export async function runRemoteScale(config: RemoteScaleConfig): Promise<RemoteScaleResult> {
  const { commits: COMMITS, pages: PAGES } = config;
  const log = config.log ?? (() => undefined);
  const prefix = `remote-scale/${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const presign = await servePresign(createPresignHandler({
    bucket: { ...config.bucket, prefix },
    authorize: bearerTokens({ w: { volumes: '*', write: true, admin: false }, a: { volumes: '*', write: true, admin: true } }),
  }), { port: 0 });
  const endpoint = `${presign.url}/presign`;
  try {
    const vid = VolumeId.random();
    const width = config.concurrency ?? 32;
    const writer = new S3Remote({ presign: { endpoint, token: 'w' }, concurrency: width });
    const started = performance.now();
    const commits: Commit[] = [];
    const lsns = Array.from({ length: COMMITS }, (_, i) => i + 1);
    await pool(lsns, width, async (n) => {
      const lsn = LSN.parse(n);
      const p = PageIdx.parse(((n - 1) % PAGES) + 1);
      const page = new Uint8Array(4096).fill(n % 251) as Page;
      const pageCount = PageCount.parse(Math.min(n, PAGES));
      const segment = await encodeSegment([[[p, page]]]);
      const sid = SegmentId.random();
      if ((await writer.putSegment(vid, sid, segment.bytes)) !== 'created') throw new Error(`segment ${sid} exists`);
      const hash = await computeCommitHash(vid, lsn, pageCount, [[p, page]]);
      commits[n] = { vid, lsn, pageCount, hash, segment: { sid, home: vid, pages: PageSet.of([p]), frames: segment.frames } };
    });
    // As pushers do: every CHECKPOINT_INTERVAL-th commit carries the holders of the other pages (the commits just before it).
    await pool(lsns, width, async (n) => {
      const commit = commits[n] as Commit;
      const checkpoint = n % CHECKPOINT_INTERVAL === 0 ? commits.slice(Math.max(1, n - PAGES + 1), n) : undefined;
      if ((await writer.putCommit(vid, commit.lsn, Commit.encode(checkpoint ? { ...commit, checkpoint } : commit))) !== 'created') throw new Error(`commit ${n} exists`);
    });
    const newest = COMMITS - (COMMITS % CHECKPOINT_INTERVAL);
    await writer.putLatest(vid, LatestHint.encode({ vid, lsn: LSN.parse(COMMITS), checkpoint: newest, tail: commits.slice(newest + 1) }));
    const buildMs = performance.now() - started;
    log(`${COMMITS} commits built in ${Math.round(buildMs)} ms`);

    const admin = await device(endpoint, 'a');
    const sizeNow = async () => {
      let [objects, bytes] = [0, 0];
      for await (const o of admin.remote.list('volumes/')) [objects, bytes] = [objects + 1, bytes + o.size];
      return { objects, bytes };
    };
    const measureClone = async (): Promise<CloneMeasure> => {
      const d = await device(endpoint, 'w');
      const t0 = performance.now();
      const g = await d.rt.graftClone(vid);
      const first = await d.rt.readPageAsync(d.rt.graftSnapshot(g.local), PageIdx.parse(7));
      const ms = performance.now() - t0;
      if (first[0] !== pageAt(PAGES, COMMITS, 7)) throw new Error(`the clone read page 7 as ${first[0]}`);
      const [requests, presignRoundTrips] = [d.requests.length, d.signer.roundTrips];
      const t1 = performance.now();
      const snapshot = d.rt.graftSnapshot(g.local);
      for (let p = 1; p <= snapshot.pageCount; p++) {
        const page = await d.rt.readPageAsync(snapshot, PageIdx.parse(p));
        if (page[0] !== pageAt(PAGES, COMMITS, p)) throw new Error(`the clone read page ${p} as ${page[0]}`);
      }
      const measure = { requests, presignRoundTrips, ms, allPages: { requests: d.requests.length - requests, ms: performance.now() - t1 } };
      d.rt.close();
      return measure;
    };

    const beforeSize = await sizeNow();
    const beforeClone = await measureClone();
    log(`before GC: ${beforeSize.objects} objects, ${beforeSize.bytes} bytes; clone to first page ${beforeClone.requests} requests, ${Math.round(beforeClone.ms)} ms`);
    const t0 = performance.now();
    // Pruning commit records needs a grace period beyond the URLs' expiry: GC runs as if 3 h later.
    const later = () => Date.now() + 3 * 3600_000;
    const gc = await admin.rt.collectRemoteGarbage({ retain: { commits: config.retainCommits }, graceMs: 2 * 3600_000, pruneCommits: true, now: later });
    const gcMs = performance.now() - t0;
    const retainedFrom = gc.retainedFrom[vid] ?? 1;
    const afterSize = await sizeNow();
    const afterClone = await measureClone();
    log(`GC: ${gc.segmentsDeleted.length} segments (${gc.bytesDeleted} bytes) and ${gc.commitsDeleted} commit records deleted in ${Math.round(gcMs)} ms, retained from LSN ${retainedFrom}; after: ${afterSize.objects} objects, ${afterSize.bytes} bytes; clone ${afterClone.requests} requests, ${Math.round(afterClone.ms)} ms; all pages ${afterClone.allPages.requests} requests`);
    const t2 = performance.now();
    const compactResult = await admin.rt.compactRemote({ volume: vid });
    if (compactResult.outcome !== 'compacted') throw new Error(`compaction: ${compactResult.outcome}`);
    const compactMs = performance.now() - t2;
    const compactedSize = await sizeNow();
    const compactedClone = await measureClone();
    log(`compaction: ${compactResult.pages} pages into ${compactResult.segments} segments in ${Math.round(compactMs)} ms; then ${compactedSize.objects} objects, ${compactedSize.bytes} bytes; clone ${compactedClone.requests} requests, ${Math.round(compactedClone.ms)} ms; all pages ${compactedClone.allPages.requests} requests, ${Math.round(compactedClone.allPages.ms)} ms`);

    // A new device whose log starts at or below the oldest retained LSN: a (version 1) hint naming
    // it leads a clone to the checkpoint there, then it reads the commits after it.
    const reader = await device(endpoint, 'w', (remote) => new Proxy(remote, {
      get: (target, key) => {
        if (key === 'getLatest') return async () => LatestHint.encode({ vid, lsn: LSN.parse(retainedFrom) });
        const value = target[key as keyof Remote];
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }));
    await reader.rt.graftClone(vid);
    let wrongPages = 0;
    let lsnsChecked = 0;
    for (let lsn = retainedFrom; lsn <= COMMITS; lsn++) {
      const snapshot = reader.rt.volumeCheckout(vid, LSN.parse(lsn));
      await reader.rt.snapshotHydrate(snapshot, { concurrency: 8 });
      for (let p = 1; p <= snapshot.pageCount; p++) if (reader.rt.readPage(snapshot, PageIdx.parse(p))[0] !== pageAt(PAGES, lsn, p)) wrongPages++;
      lsnsChecked++;
    }
    reader.rt.close();
    admin.rt.close();
    return {
      buildMs,
      before: { ...beforeSize, clone: beforeClone },
      gc: { ms: gcMs, segmentsDeleted: gc.segmentsDeleted.length, bytesDeleted: gc.bytesDeleted, retainedFrom, commitsDeleted: gc.commitsDeleted },
      after: { ...afterSize, clone: afterClone },
      compaction: { ms: compactMs, pages: compactResult.pages, segments: compactResult.segments, bytesUploaded: compactResult.bytesUploaded },
      compacted: { ...compactedSize, clone: compactedClone },
      lsnsChecked,
      wrongPages,
    };
  } finally {
    await presign.close();
  }
}

async function device(endpoint: string, token: string, wrap: (r: Remote) => Remote = (r) => r) {
  const requests: RemoteRequestEvent[] = [];
  const signer = new PresignClient({ endpoint, token });
  const remote = new S3Remote({ presign: signer, onRequest: (e) => requests.push(e), concurrency: 16 });
  const rt = await Runtime.open({ store: MemoryStore.open(), catalog: await IdbCatalog.open(`remote-scale-${Date.now()}-${Math.random()}`), remote: wrap(remote) });
  return { rt, remote, requests, signer };
}
