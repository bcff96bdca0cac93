// Every benchmark target, by id. To add one (Scion's VFS), implement BenchTarget (./target.ts) and list its
// factory here: the runner asks each target which methods it has and puts it in those groups.
import { createDownloadTarget } from './download-target.ts';
import { createHttpVfsPageTarget, createHttpVfsReadAheadTarget } from './http-vfs-target.ts';
import { createMemoryTarget } from './memory-target.ts';
import { createSahpoolExclusiveTarget, createSahpoolTarget } from './sahpool-target.ts';
import { createScionNoOracleTarget, createScionTarget } from './scion-target.ts';
import type { TargetFactory } from './target.ts';
import { createWaAccessHandlePoolTarget, createWaIdbBatchAtomicTarget } from './wa-sqlite-target.ts';

export type { BenchTarget, Db, ExtraSample, PushedExisting, RemoteDataset, TargetFactory, Traffic } from './target.ts';

/** Keyed by a stable id (jobs, SCION_BENCH_TARGETS); the row label is the target's `name`. */
export const TARGETS: Record<string, TargetFactory> = {
  sahpool: createSahpoolTarget,
  'sahpool-exclusive': createSahpoolExclusiveTarget,
  memory: createMemoryTarget,
  download: createDownloadTarget,
  'http-page': createHttpVfsPageTarget,
  'http-readahead': createHttpVfsReadAheadTarget,
  scion: createScionTarget,
  'scion-no-oracle': createScionNoOracleTarget,
  'wa-ahp': createWaAccessHandlePoolTarget,
  'wa-idb': createWaIdbBatchAtomicTarget,
};

/** Run only when named in SCION_BENCH_TARGETS: they would push the full run past its time budget. */
export const OPT_IN_TARGETS: ReadonlySet<string> = new Set(['sahpool-exclusive']);
