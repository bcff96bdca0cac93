// `scion-db/react`: React hooks on a Scion Database — `useLiveQuery` (rows that follow the database, on
// db.watch), `useQuery` (rows read once per SQL and parameters), and `DatabaseProvider`/`useDatabase`.
import { createContext, createElement, useContext, useEffect, useState, type ReactNode } from 'react';
import { ScionError, type Database, type Row, type SqlParams } from '../client/index.ts';

const DatabaseContext = createContext<Database | undefined>(undefined);

/** Makes `database` the one the hooks below use in `children`. */
export function DatabaseProvider(props: { database: Database; children?: ReactNode }): ReactNode {
  return createElement(DatabaseContext.Provider, { value: props.database }, props.children);
}

/** The Database of the nearest DatabaseProvider; throws InvalidInput outside one. */
export function useDatabase(): Database {
  const db = useContext(DatabaseContext);
  if (!db) throw new ScionError('InvalidInput', 'useDatabase() needs a <DatabaseProvider database={db}> above this component.');
  return db;
}

/** A hook's result: `rows` undefined until the first result; `error` the last failure (rows keep the last good result). */
export interface QueryState<T> {
  rows: T[] | undefined;
  error: unknown;
  loading: boolean;
}

export interface HookOptions {
  /** A Database other than the provider's. */
  database?: Database | undefined;
}

/**
 * The rows of `sql`, kept current: re-rendered when a commit (any tab), a pull or a reset changes them
 * (db.watch: only tables the query reads count). Re-subscribes when `sql` or `params` change.
 * @example const { rows } = useLiveQuery<Note>('SELECT * FROM note ORDER BY id');
 */
export function useLiveQuery<T = Row>(sql: string, params?: SqlParams, options: HookOptions = {}): QueryState<T> {
  return useRows<T>(sql, params, options, (db, next, fail) => db.watch<T>(sql, params, next, { onError: fail }));
}

/** The rows of `sql`, read once per `sql` and `params` (not live; see useLiveQuery). */
export function useQuery<T = Row>(sql: string, params?: SqlParams, options: HookOptions = {}): QueryState<T> {
  return useRows<T>(sql, params, options, (db, next, fail) => {
    db.query<T>(sql, params).then(next, fail);
    return () => undefined;
  });
}

type Start<T> = (db: Database, next: (rows: T[]) => void, fail: (e: unknown) => void) => () => void;

function useRows<T>(sql: string, params: SqlParams | undefined, options: HookOptions, start: Start<T>): QueryState<T> {
  const fromContext = useContext(DatabaseContext);
  const db = options.database ?? fromContext;
  if (!db) throw new ScionError('InvalidInput', 'Scion hooks need a <DatabaseProvider database={db}> above this component, or { database }.');
  const [state, setState] = useState<QueryState<T>>({ rows: undefined, error: undefined, loading: true });
  const key = paramsKey(params);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    const stop = start(
      db,
      (rows) => live && setState({ rows, error: undefined, loading: false }),
      (error) => live && setState((s) => ({ rows: s.rows, error, loading: false })),
    );
    return () => {
      live = false;
      stop();
    };
    // `key` stands for `params` (a new array each render would re-run the effect every time).
  }, [db, sql, key]);
  return state;
}

/** A stable key of parameter values (bigint and bytes included). */
function paramsKey(params: SqlParams | undefined): string {
  return JSON.stringify(params ?? null, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v));
}
