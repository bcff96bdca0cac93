import { ScionError } from '../core/index.ts';
import type { ExecResult, QueryResult, Row, SqlParams, SqlValue, StatementInfo } from '../protocol/index.ts';
import type { Database, IterateOptions, SqlCallOptions } from './database.ts';

/**
 * One SQL statement prepared in the worker (`db.prepare(sql)`). Each call binds `params` afresh; the
 * calls follow the Database's rules (they wait for its open transaction, or fail at once inside one).
 * In a tab that is not the leader, a statement whose worker changed is prepared again on first use.
 */
export class Statement<T = Row> {
  readonly sql: string;
  readonly columns: readonly string[];
  /** Each column's declared type when it is a table column, else null. */
  readonly declaredTypes: readonly (string | null)[];
  /** True if running it writes nothing. */
  readonly readOnly: boolean;
  readonly parameterCount: number;
  readonly #db: Database;
  readonly #finalize: () => Promise<void>;
  #finalized = false;

  /** @internal Built by Database.prepare. */
  constructor(db: Database, sql: string, info: StatementInfo, finalize: () => Promise<void>) {
    this.#db = db;
    this.sql = sql;
    this.columns = info.columns;
    this.declaredTypes = info.declaredTypes;
    this.readOnly = info.readOnly;
    this.parameterCount = info.parameterCount;
    this.#finalize = finalize;
  }

  /** Every row, as objects keyed by column name. */
  all(params?: SqlParams, options?: SqlCallOptions): Promise<T[]> {
    return this.#live(() => this.#db.query<T>(this.sql, params, options));
  }

  /** Every row as arrays, with the column names and declared types (and what the run changed). */
  rows(params?: SqlParams, options?: SqlCallOptions): Promise<QueryResult> {
    return this.#live(() => this.#db.query(this.sql, params, { ...options, rowMode: 'array' }));
  }

  /** The first row, or undefined. */
  get(params?: SqlParams, options?: SqlCallOptions): Promise<T | undefined> {
    return this.#live(() => this.#db.get<T>(this.sql, params, options));
  }

  /** Runs it for its effect: the rows changed and the last insert rowid. */
  run(params?: SqlParams, options?: SqlCallOptions): Promise<ExecResult> {
    return this.#live(() => this.#db.exec(this.sql, params, options));
  }

  /** Its rows in batches (see Database.iterate). */
  iterate(params?: SqlParams, options?: IterateOptions & { rowMode?: 'object' | undefined }): AsyncIterableIterator<T>;
  iterate(params: SqlParams | undefined, options: IterateOptions & { rowMode: 'array' }): AsyncIterableIterator<SqlValue[]>;
  iterate(params?: SqlParams, options?: IterateOptions): AsyncIterableIterator<T | SqlValue[]> {
    if (this.#finalized) throw this.#finalizedError();
    return this.#db.iterate<T>(this.sql, params, options as IterateOptions & { rowMode?: 'object' });
  }

  /** Frees the statement in the worker; later calls throw Closed. Finalizing twice does nothing. */
  async finalize(): Promise<void> {
    if (this.#finalized) return;
    this.#finalized = true;
    await this.#finalize();
  }

  #live<R>(run: () => Promise<R>): Promise<R> {
    return this.#finalized ? Promise.reject(this.#finalizedError()) : run();
  }

  #finalizedError(): ScionError {
    return new ScionError('Closed', `This statement was finalized; prepare it again: ${this.sql.slice(0, 80)}`);
  }
}
