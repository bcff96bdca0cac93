// The main-thread API: a typed client of the DB worker. It imports src/core and the protocol's types
// (src/protocol), so no storage code reaches the page.
export { Database } from './database.ts';
export type { IterateOptions, OperationOptions, QueryOptions, SqlCallOptions, Transaction, WatchOptions } from './database.ts';
export { Statement } from './statement.ts';
export type { Conflict, ConflictChoice, ConflictHandler, Mutator, RebaseResult } from './rebase.ts';
export type { Intent, RecordedStatement } from './intents.ts';
export { openDatabase, Scion } from './scion.ts';
export type { ScionOptions, ScionRole } from './scion.ts';
export { isScionError, ScionError } from '../core/index.ts';
export type { ErrorCode, ErrorWire } from '../core/index.ts';
export type {
  AutosyncOptions, ChangeEvent, CheckoutVolume, DatabaseStatus, ExecResult, FetchResult, GraftStatus, HydrateProgress, ImportFile, ImportResult,
  LongOperation, NetworkEvent, OpenOptions, PageMap, PageMapState, Progress, ProgressPhase, PullResult, PushResult, ReadStats, QueryResult, ResultSet, Row, SqlParam, SqlValue, StatementInfo, SqlParams, StatsResult, SyncState, SyncStatusEvent, TagInfo, VfsStats,
  WorkerConfig, WorkerInfo,
} from '../protocol/index.ts';
