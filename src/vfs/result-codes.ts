import type { ErrorCode } from '../core/index.ts';

/**
 * The one error → SQLite result code table. Names, resolved through sqlite3.capi after init; a new
 * ErrorCode does not compile until it is mapped here.
 */
export const RESULT_CODE = {
  InvalidInput: 'SQLITE_MISUSE',
  Forbidden: 'SQLITE_PERM',
  Closed: 'SQLITE_MISUSE',
  Internal: 'SQLITE_IOERR',
  Corrupt: 'SQLITE_CORRUPT',
  TagNotFound: 'SQLITE_CANTOPEN',
  GraftNotFound: 'SQLITE_CANTOPEN',
  GraftRemoteMismatch: 'SQLITE_CANTOPEN',
  VolumeNotFound: 'SQLITE_CANTOPEN',
  CommitNotFound: 'SQLITE_IOERR_READ',
  PageSizeUnsupported: 'SQLITE_CANTOPEN',
  VolumeDiverged: 'SQLITE_INTERNAL',
  ConcurrentWrite: 'SQLITE_BUSY_SNAPSHOT',
  OutcomeUnknown: 'SQLITE_IOERR',
  Interrupted: 'SQLITE_INTERRUPT',
  PageNotLocal: 'SQLITE_IOERR_READ',
  RemoteUnavailable: 'SQLITE_IOERR_READ',
  UrlExpired: 'SQLITE_IOERR_READ',
  QuotaExceeded: 'SQLITE_FULL',
} as const satisfies Record<ErrorCode, `SQLITE_${string}`>;
