// `scion-db/drizzle`: Drizzle ORM on a Scion Database, through Drizzle's sqlite-proxy driver. Rows
// travel as arrays (query rowMode "array"), so joins whose tables share column names lose nothing.
import type { DrizzleConfig } from 'drizzle-orm';
import { drizzle as drizzleProxy, type AsyncBatchRemoteCallback, type AsyncRemoteCallback, type SqliteRemoteDatabase } from 'drizzle-orm/sqlite-proxy';
import type { Database, SqlParam } from '../client/index.ts';

/** The sqlite-proxy callback: `run` executes, `all`/`values` return every row as an array, `get` the first. */
export function scionCallback(db: Database): AsyncRemoteCallback {
  return async (sql, params, method) => {
    const bind = params as SqlParam[];
    if (method === 'run') {
      await db.exec(sql, bind);
      return { rows: [] };
    }
    const { rows } = await db.query(sql, bind, { rowMode: 'array' });
    return { rows: method === 'get' ? (rows[0] as unknown[]) : rows };
  };
}

/** Drizzle's batch: every query in one transaction (all or nothing). */
export function scionBatchCallback(db: Database): AsyncBatchRemoteCallback {
  return (batch) => db.transaction(async (tx) => {
    const results: { rows: unknown[] }[] = [];
    for (const { sql, params, method } of batch) {
      const { rows } = await tx.query(sql, params as SqlParam[], { rowMode: 'array' });
      results.push({ rows: method === 'run' ? [] : method === 'get' ? (rows[0] as unknown[]) : rows });
    }
    return results;
  });
}

/**
 * A Drizzle database on `db`. Use Drizzle's own `db.transaction` only on a Database no other code
 * uses meanwhile (its BEGIN … COMMIT are statements on this connection); `batch` runs in a Scion
 * transaction.
 * @example const orm = drizzle(await scion.open('notes'), { schema }); await orm.select().from(notes);
 */
export function drizzle<TSchema extends Record<string, unknown> = Record<string, never>>(db: Database, config?: DrizzleConfig<TSchema>): SqliteRemoteDatabase<TSchema> {
  return drizzleProxy<TSchema>(scionCallback(db), scionBatchCallback(db), config);
}
