// `scion-db/kysely`: a Kysely dialect on a Scion Database (SQLite's adapter, compiler and
// introspector; Scion runs the queries). One connection: a transaction has it to itself until it ends.
import {
  CompiledQuery, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler,
  type DatabaseConnection, type DatabaseIntrospector, type Dialect, type DialectAdapter, type Driver, type Kysely, type QueryCompiler, type QueryResult,
} from 'kysely';
import type { Database, SqlParam } from '../client/index.ts';

export interface ScionDialectConfig {
  /** The Scion Database, or a function that opens it (called once, on first use). */
  database: Database | (() => Promise<Database>);
}

/** @example const k = new Kysely<DB>({ dialect: new ScionDialect({ database: await scion.open('notes') }) }); */
export class ScionDialect implements Dialect {
  readonly #config: ScionDialectConfig;

  constructor(config: ScionDialectConfig) {
    this.#config = config;
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  createDriver(): Driver {
    return new ScionDriver(this.#config);
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
}

class ScionDriver implements Driver {
  readonly #config: ScionDialectConfig;
  #connection: ScionConnection | undefined;
  /** The connection's current holder ends when this settles; the next waits for it. */
  #tail: Promise<void> = Promise.resolve();
  readonly #releases = new Map<DatabaseConnection, () => void>();

  constructor(config: ScionDialectConfig) {
    this.#config = config;
  }

  async init(): Promise<void> {
    const { database } = this.#config;
    this.#connection = new ScionConnection(typeof database === 'function' ? await database() : database);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    const connection = this.#connection as ScionConnection;
    this.#releases.set(connection, release);
    return connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    // IMMEDIATE: the write lock at once, so the transaction waits its turn instead of failing at its first write.
    await connection.executeQuery(CompiledQuery.raw('BEGIN IMMEDIATE'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('COMMIT'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('ROLLBACK'));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const release = this.#releases.get(connection);
    this.#releases.delete(connection);
    release?.();
  }

  async destroy(): Promise<void> {
    this.#connection = undefined;
  }
}

class ScionConnection implements DatabaseConnection {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.#db.query(compiled.sql, compiled.parameters as SqlParam[], { rowMode: 'array' });
    const rows = result.rows.map((values) => Object.fromEntries(result.columns.map((c, i) => [c, values[i]])) as R);
    if (result.changes === 0 && result.columns.length > 0) return { rows };
    return { rows, numAffectedRows: BigInt(result.changes), insertId: BigInt(result.lastInsertRowid) };
  }

  async *streamQuery<R>(compiled: CompiledQuery, chunkSize = 500): AsyncIterableIterator<QueryResult<R>> {
    let batch: R[] = [];
    for await (const row of this.#db.iterate<R>(compiled.sql, compiled.parameters as SqlParam[], { batchSize: chunkSize })) {
      batch.push(row);
      if (batch.length >= chunkSize) {
        yield { rows: batch };
        batch = [];
      }
    }
    if (batch.length > 0) yield { rows: batch };
  }
}
