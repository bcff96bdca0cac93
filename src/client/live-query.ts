// A live query: runs once, then again whenever a change event names a table it reads (or may have
// changed anything), one run at a time — changes arriving during a run cause one more run, not one each —
// and delivers rows only when they differ from the last delivered.
import type { ChangeEvent, SqlParams } from '../protocol/index.ts';
import { sameValue } from './same-value.ts';

/** What a live query needs of its Database. */
export interface LiveSource<R> {
  /** The tables the query reads (asked again after a change that may have changed the schema). */
  readTables(): Promise<string[]>;
  run(): Promise<R>;
  /** Subscribes to change events; resolves once subscribed, with the unsubscribe function. */
  subscribe(listener: (e: ChangeEvent) => void): Promise<() => void>;
}

export interface LiveSink<R> {
  next(rows: R): void;
  error(e: unknown): void;
}

/** Starts the live query; the returned function stops it (a run under way delivers nothing). */
export function startLiveQuery<R>(source: LiveSource<R>, sink: LiveSink<R>): () => void {
  let stopped = false;
  let tables: Set<string> | undefined;
  let schemaMayHaveChanged = true;
  let running = false;
  let again = false;
  let last: { rows: R } | undefined;
  let unsubscribe: (() => void) | undefined;

  const run = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        try {
          if (schemaMayHaveChanged || !tables) {
            schemaMayHaveChanged = false;
            tables = new Set(await source.readTables());
          }
          const rows = await source.run();
          if (stopped) return;
          if (!last || !sameValue(last.rows, rows)) {
            last = { rows };
            sink.next(rows);
          }
        } catch (e) {
          if (!stopped) sink.error(e);
        }
      } while (again && !stopped);
    } finally {
      running = false;
    }
  };

  const onChange = (e: ChangeEvent) => {
    if (stopped) return;
    if (e.tables === undefined) schemaMayHaveChanged = true;
    else if (tables && !e.tables.some((t) => tables?.has(t))) return;
    void run();
  };

  void (async () => {
    try {
      // Subscribed before the first run, so no commit falls between the two.
      const off = await source.subscribe(onChange);
      if (stopped) off();
      else unsubscribe = off;
    } catch (e) {
      if (!stopped) sink.error(e);
      return;
    }
    await run();
  })();

  return () => {
    stopped = true;
    unsubscribe?.();
  };
}

/**
 * The live queries of one Database that have the same SQL, parameters and row mode share one run: a commit
 * re-runs it once, and every watcher gets the rows (each its own copy, so a watcher that sorts or edits what
 * it got changes nobody else's). A watcher that joins a running query gets its latest delivery at once.
 */
export class SharedLiveQueries {
  readonly #byKey = new Map<string, SharedQuery>();

  /** Watches through the shared query of `key` (starting it with `start` if none runs); undefined: alone. */
  watch<R>(key: string | undefined, start: (sink: LiveSink<R>) => () => void, sink: LiveSink<R>): () => void {
    if (key === undefined) return start(sink);
    let shared = this.#byKey.get(key);
    if (!shared) {
      const created: SharedQuery = { sinks: new Set(), latest: undefined, stop: () => {} };
      created.stop = start({
        next: (rows) => {
          created.latest = { rows };
          deliver(created.sinks, rows);
        },
        error: (e) => {
          created.latest = { error: e };
          for (const s of [...created.sinks]) s.error(e);
        },
      });
      this.#byKey.set(key, created);
      shared = created;
    }
    const joined = shared;
    const member = sink as LiveSink<unknown>;
    joined.sinks.add(member);
    const latest = joined.latest;
    if (latest) {
      // Delivered after watch() returns, as a query of its own would be; skipped if a newer delivery came first.
      queueMicrotask(() => {
        if (!joined.sinks.has(member) || joined.latest !== latest) return;
        if ('rows' in latest) member.next(structuredClone(latest.rows));
        else member.error(latest.error);
      });
    }
    return () => {
      if (!joined.sinks.delete(member) || joined.sinks.size > 0) return;
      if (this.#byKey.get(key) === joined) this.#byKey.delete(key);
      joined.stop();
    };
  }
}

interface SharedQuery {
  sinks: Set<LiveSink<unknown>>;
  latest: { rows: unknown } | { error: unknown } | undefined;
  stop: () => void;
}

function deliver(sinks: ReadonlySet<LiveSink<unknown>>, rows: unknown): void {
  let first = true;
  for (const s of [...sinks]) {
    s.next(first ? rows : structuredClone(rows));
    first = false;
  }
}

/**
 * The key under which watchers share a query, or undefined when its parameters cannot be compared by value.
 * Named parameters given in another key order are another key (they merely do not share).
 */
export function liveQueryKey(sql: string, params: SqlParams | undefined, rowMode: 'object' | 'array' | undefined): string | undefined {
  try {
    return JSON.stringify([rowMode ?? 'object', sql, params ?? null], (_k, v: unknown) => {
      if (typeof v === 'bigint') return { bigint: v.toString() };
      if (v instanceof Uint8Array) return { bytes: Array.from(v) };
      if (v === undefined) return { undefined: true };
      return v;
    });
  } catch {
    return undefined;
  }
}
