// The bench worker: lives for one job (bench/pages/peers-host.ts starts a new one each time). It initialises
// sqlite-wasm (untimed), builds the job's target and runs one workload on it.
import sqlite3InitModule, { type Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import type { QuerySpec } from '../queries.ts';
import { OPT_IN_TARGETS, TARGETS, type BenchTarget, type ExtraSample, type PushedExisting, type RemoteDataset } from '../targets/index.ts';
import type { BenchNetworkRef, ExtraOptions, Traffic } from '../targets/target.ts';
import { runSpeedSuite, speedSuite, type ScriptDb, type SuiteResult } from '../speed-suite.ts';
import { runOltp, runQuery, type OltpOptions, type OltpResult } from '../workloads.ts';

/** The worker's WebAssembly memory in bytes: it only grows, so its size at the end is the job's peak. The JS
 * heap is read from outside, over CDP (bench/worker-heap.ts): workers have no `performance.memory`. */
export interface MemorySample {
  wasm: number;
}

export interface TargetInfo {
  id: string;
  name: string;
  local: boolean;
  /** Runs the speed suite (through `open` or `openScript`). */
  suite: boolean;
  existing: boolean;
  remote: boolean;
  /** Has the untimed `prepareRemote` step. */
  prepareRemote: boolean;
  extra: boolean;
  /** Runs only when SCION_BENCH_TARGETS names it. */
  optIn: boolean;
}

/** One cold query: its time, its traffic, and a fingerprint of its rows. */
export interface QueryOutcome extends Traffic {
  ms: number;
  fingerprint: string;
  /** Where the time went: the target's marks and its requests' spans, ms from the timed start. */
  timeline: ColdTimeline;
}

export interface ColdTimeline {
  marks: [name: string, ms: number][];
  spans: { kind: string; start: number; end: number }[];
}

export type Job =
  | { kind: 'describe' }
  | { kind: 'oltp'; target: string; options: OltpOptions }
  | { kind: 'suite'; target: string }
  | { kind: 'prepareExisting'; target: string; dbName: string; datasetUrl: string }
  | { kind: 'openExisting'; target: string; dbName: string; query: QuerySpec }
  /** The first push of the imported database to the bench bucket. */
  | { kind: 'pushExisting'; target: string; dbName: string }
  | { kind: 'prepareRemote'; target: string; dataset: RemoteDataset }
  | { kind: 'cold'; target: string; dataset: RemoteDataset; queries: Record<string, QuerySpec> }
  | { kind: 'extra'; target: string; run: number; network: BenchNetworkRef; options: ExtraOptions }
  /** Storage over time: `commits` single-row UPDATE transactions on the kept database (`fresh`: a new table of `rows` first). */
  | { kind: 'storageGrow'; target: string; fresh: boolean; rows: number; commits: number }
  /** Open-to-first-query of the kept database, in a new worker. */
  | { kind: 'storageReopen'; target: string }
  | { kind: 'cleanup'; target: string };

interface Results {
  describe: TargetInfo[];
  oltp: OltpResult & { memory: MemorySample };
  suite: SuiteResult;
  /** The import's time, the worker's wasm memory after it (its JS peak is polled from Node), OPFS bytes after it. */
  prepareExisting: { ms: number; memory: MemorySample; bytes: number | null; phases: OpenPhases };
  openExisting: { ms: number; fingerprint: string; memory: MemorySample; phases: OpenPhases };
  pushExisting: PushedExisting & { memory: MemorySample };
  prepareRemote: null;
  cold: { queries: Record<string, QueryOutcome>; memory: MemorySample };
  extra: ExtraSample[];
  storageGrow: { ms: number; bytes: number };
  storageReopen: { ms: number; fingerprint: string; memory: MemorySample; phases: OpenPhases };
  cleanup: null;
}
export type JobResult<J extends Job> = Results[J['kind']];

/**
 * Where an open-to-first-query went: ms from the timed start to each `performance.mark` the target (and
 * Scion inside it) set, in order, then `query`; `boot` is the worker's start to sqlite-wasm ready (untimed).
 */
export interface OpenPhases {
  boot: number;
  marks: [name: string, ms: number][];
}

let sqliteReadyAt = 0;

function openPhases(started: number, queried: number, last = 'query'): OpenPhases {
  const marks = performance.getEntriesByType('mark').filter((m) => m.startTime >= started)
    .map((m): [string, number] => [m.name, m.startTime - started]);
  marks.push([last, queried - started]);
  return { boot: sqliteReadyAt, marks };
}

/** The storage-over-time database's name (openKept). */
const KEPT_DB = 'kept.db';

const wasmMemory = (sqlite3: Sqlite3Static): MemorySample => ({ wasm: sqlite3.wasm.heap8u().byteLength });

function must<K extends keyof BenchTarget>(target: BenchTarget, method: K): NonNullable<BenchTarget[K]> {
  const fn = target[method];
  if (typeof fn !== 'function') throw new Error(`Target ${target.name} has no ${String(method)}`);
  return (fn as (...a: unknown[]) => unknown).bind(target) as NonNullable<BenchTarget[K]>;
}

/** A URL the browser has never fetched: the cold reads must not be served from its HTTP cache. */
function bust(url: string, tag: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}bench=${encodeURIComponent(tag)}`;
}

async function runJob(sqlite3: Sqlite3Static, job: Job): Promise<unknown> {
  if (job.kind === 'describe') {
    return Object.entries(TARGETS).map(([id, make]): TargetInfo => {
      const t = make(sqlite3);
      return {
        id, name: t.name, local: !!t.open, suite: !!t.open || !!t.openScript, existing: !!t.openExisting, remote: !!t.openRemote,
        prepareRemote: !!t.prepareRemote, extra: !!t.runExtra, optIn: OPT_IN_TARGETS.has(id),
      };
    });
  }
  const make = TARGETS[job.target];
  if (!make) throw new Error(`Unknown target ${job.target} (known: ${Object.keys(TARGETS).join(', ')})`);
  const target = make(sqlite3);
  try {
    switch (job.kind) {
      case 'oltp': {
        const db = await must(target, 'open')('oltp.db');
        try {
          return { ...runOltp(db, job.options), memory: wasmMemory(sqlite3) };
        } finally {
          db.close();
        }
      }
      case 'suite': {
        // sqlite-wasm targets run each script with one C-level sqlite3_exec: oo1's exec adds over 0.1 ms of JS
        // per statement (test 2's 25,000 INSERTs on :memory:: 4.8 s through oo1, 0.5 s this way), a cost of
        // the binding, not of the VFS under test.
        const { capi } = sqlite3;
        const db: ScriptDb = target.open
          ? await target.open('suite.db').then((d) => ({
              exec: (sql: string) => {
                const rc = capi.sqlite3_exec(d.pointer as number, sql, 0, 0, 0);
                if (rc !== capi.SQLITE_OK) throw new Error(`sqlite3_exec: ${capi.sqlite3_js_rc_str(rc)}: ${capi.sqlite3_errmsg(d.pointer as number)}`);
              },
              count: (table: string) => Number(d.selectValue(`SELECT count(*) FROM ${table}`)),
              close: () => void d.close(),
            }))
          : await must(target, 'openScript')('suite.db');
        try {
          return await runSpeedSuite(db, speedSuite());
        } finally {
          await db.close();
        }
      }
      case 'prepareExisting': {
        const response = await fetch(job.datasetUrl);
        if (!response.ok) throw new Error(`GET ${job.datasetUrl}: HTTP ${response.status}`);
        let started: number;
        if (target.prepareExistingFile) {
          const file = await response.blob();
          started = performance.now();
          await target.prepareExistingFile(job.dbName, file);
        } else {
          const bytes = new Uint8Array(await response.arrayBuffer());
          started = performance.now();
          await must(target, 'prepareExisting')(job.dbName, bytes);
        }
        const ended = performance.now();
        const memory = wasmMemory(sqlite3);
        return { ms: ended - started, memory, bytes: target.existingBytes ? await target.existingBytes() : null, phases: openPhases(started, ended, 'checked and committed') };
      }
      case 'pushExisting': {
        const pushed = await must(target, 'pushExisting')(job.dbName);
        return { ...pushed, memory: wasmMemory(sqlite3) };
      }
      case 'openExisting': {
        const started = performance.now();
        const db = await must(target, 'openExisting')(job.dbName);
        try {
          const fingerprint = runQuery(db, job.query);
          const queried = performance.now();
          return { ms: queried - started, fingerprint, memory: wasmMemory(sqlite3), phases: openPhases(started, queried) };
        } finally {
          db.close();
        }
      }
      case 'prepareRemote':
        await must(target, 'prepareRemote')(job.dataset);
        return null;
      case 'cold': {
        const queries: Record<string, QueryOutcome> = {};
        for (const [name, spec] of Object.entries(job.queries)) {
          // Each query from nothing: a new connection on a URL this browser has not seen.
          const dataset = { ...job.dataset, url: bust(job.dataset.url, `${Date.now()}-${Math.random()}-${name}`) };
          const started = performance.now();
          const db = await must(target, 'openRemote')(dataset);
          try {
            const fingerprint = runQuery(db, spec);
            const ended = performance.now();
            const { spans = [], ...traffic } = must(target, 'traffic')();
            const timeline: ColdTimeline = {
              marks: openPhases(started, ended).marks,
              spans: spans.map((x) => ({ kind: x.kind, start: x.start - started, end: x.end - started })),
            };
            queries[name] = { ms: ended - started, ...traffic, fingerprint, timeline };
          } finally {
            db.close();
          }
        }
        return { queries, memory: wasmMemory(sqlite3) };
      }
      case 'extra':
        return await must(target, 'runExtra')(job.run, job.network, job.options);
      case 'storageGrow': {
        const db = await must(target, 'openKept')(KEPT_DB, job.fresh);
        const started = performance.now();
        try {
          if (job.fresh) {
            db.exec('CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER NOT NULL, body TEXT NOT NULL)');
            db.exec(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${job.rows}) INSERT INTO t SELECT i, 0, printf('%.80c', 'x') FROM c`);
          }
          const stmt = db.prepare('UPDATE t SET v = v + 1 WHERE id = ?');
          try {
            for (let i = 0; i < job.commits; i++) {
              stmt.bind([1 + ((i * 7919) % job.rows)]).stepReset();
              // An app yields to its event loop now and then; background upkeep runs there.
              if (i % 100 === 99) await new Promise((r) => setTimeout(r, 0));
            }
          } finally {
            stmt.finalize();
          }
          await target.settle?.();
        } finally {
          db.close();
        }
        return { ms: performance.now() - started, bytes: await must(target, 'keptBytes')() };
      }
      case 'storageReopen': {
        const started = performance.now();
        const db = await must(target, 'openKept')(KEPT_DB, false);
        try {
          const row = db.selectArray('SELECT count(*), sum(v) FROM t') ?? [];
          const queried = performance.now();
          return { ms: queried - started, fingerprint: row.join(','), memory: wasmMemory(sqlite3), phases: openPhases(started, queried) };
        } finally {
          db.close();
        }
      }
      case 'cleanup':
        await target.cleanup?.();
        return null;
    }
  } finally {
    await target.dispose?.();
  }
}

const ready = sqlite3InitModule().then((sqlite3) => ((sqliteReadyAt = performance.now()), sqlite3));
self.addEventListener('message', (ev: MessageEvent<Job>) => {
  void ready
    .then((sqlite3) => runJob(sqlite3, ev.data))
    .then(
      (value) => self.postMessage({ ok: true, value }),
      (e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        self.postMessage({ ok: false, error: { name: err.name, message: err.message, stack: err.stack } });
      },
    );
});
