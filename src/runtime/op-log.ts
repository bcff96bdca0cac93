import { getLogger, type LogLevel } from '@logtape/logtape';
import { ScionError } from '../core/index.ts';

/**
 * One structured record per runtime operation, under the LogTape category ["scion", …]. Scion never
 * configures LogTape: it is silent until the app calls `configure()` with a sink and a level.
 */
export interface OpFields {
  tag?: string;
  graft?: string;
  volume?: string;
  lsn?: number;
  pages?: number;
  bytes?: number;
}

const logger = getLogger(['scion', 'runtime']);

/**
 * Runs `fn` and logs {op, …fields, durationMs, outcome}, where outcome is "ok" or the error code.
 * Works for sync and async `fn`; `after` adds fields known only from the result.
 */
export function logOp<T>(op: string, level: LogLevel, fields: OpFields, fn: () => T, after?: (result: Awaited<T>) => OpFields): T {
  if (!logger.isEnabledFor(level) && !logger.isEnabledFor('warning')) return fn();
  const start = performance.now();
  const emit = (outcome: string, extra: OpFields | undefined, error?: unknown) => {
    const record = { op, ...fields, ...extra, durationMs: Math.round((performance.now() - start) * 1000) / 1000, outcome };
    if (error === undefined) logger[level === 'trace' ? 'trace' : level](`{op} {outcome}`, record);
    else logger.warn(`{op} failed: {message}`, { ...record, message: (error as Error).message });
  };
  const fail = (e: unknown): never => {
    emit(ScionError.from(e).code, undefined, e);
    throw e;
  };
  let result: T;
  try {
    result = fn();
  } catch (e) {
    return fail(e);
  }
  if (result instanceof Promise) {
    return result.then((v: Awaited<T>) => (emit('ok', after?.(v)), v), fail) as T;
  }
  emit('ok', after?.(result as Awaited<T>));
  return result;
}
