/**
 * The one error type of Scion. `code` is a closed union so callers can branch on it; test with
 * `isScionError(e, code)`, never `instanceof` (structured clone across the worker boundary drops classes).
 */
export type ErrorCode =
  | 'InvalidInput'
  | 'Forbidden'
  | 'Closed'
  | 'Internal'
  | 'Corrupt'
  | 'TagNotFound'
  | 'GraftNotFound'
  | 'GraftRemoteMismatch'
  | 'VolumeNotFound'
  | 'CommitNotFound'
  | 'VolumeDiverged'
  | 'ConcurrentWrite'
  | 'OutcomeUnknown'
  | 'Interrupted'
  | 'PageNotLocal'
  | 'PageSizeUnsupported'
  | 'RemoteUnavailable'
  /** The local disk or the origin's storage quota is full; nothing was committed. */
  | 'QuotaExceeded'
  | 'UrlExpired';

/** JSON-safe context: ids as strings, counts as numbers. */
export type ErrorDetails = Readonly<Record<string, string | number | boolean>>;

/** The shape an error takes on the wire (worker ↔ client, presign HTTP bodies). */
export interface ErrorWire {
  name: 'ScionError';
  code: ErrorCode;
  message: string;
  details?: ErrorDetails | undefined;
}

export class ScionError extends Error {
  override readonly name = 'ScionError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, details?: ErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  /** Wraps anything thrown into a ScionError, keeping the original as `cause`. */
  static from(e: unknown): ScionError {
    if (e instanceof ScionError) return e;
    if (isScionError(e)) return new ScionError(e.code, e.message, e.details, { cause: e });
    return new ScionError('Internal', e instanceof Error ? e.message : String(e), undefined, { cause: e });
  }

  static fromWire(w: ErrorWire): ScionError {
    return new ScionError(w.code, w.message, w.details);
  }

  toWire(): ErrorWire {
    return { name: 'ScionError', code: this.code, message: this.message, details: this.details };
  }
}

export function isScionError<C extends ErrorCode>(e: unknown, code?: C): e is ScionError & { code: C } {
  return (
    e instanceof Error &&
    e.name === 'ScionError' &&
    typeof (e as Partial<ScionError>).code === 'string' &&
    (code === undefined || (e as ScionError).code === code)
  );
}

/** Invariant check: a failure is a bug in Scion, not bad input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ScionError('Internal', `BUG: ${message}`);
}

/** Shorthand for the most common failure: input that does not parse. */
export function invalidInput(message: string, details?: ErrorDetails): ScionError {
  return new ScionError('InvalidInput', message, details);
}

/** Shorthand for bytes that fail an integrity check. */
export function corrupt(message: string, details?: ErrorDetails): ScionError {
  return new ScionError('Corrupt', message, details);
}
