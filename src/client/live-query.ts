// A live query: runs once, then again whenever a change event names a table it reads (or may have
// changed anything), one run at a time — changes arriving during a run cause one more run, not one each —
// and delivers rows only when they differ from the last delivered.
import type { ChangeEvent } from '../protocol/index.ts';
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
