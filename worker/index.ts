// The worker's import surface for other folders: types only (src/client may import nothing else
// from here, so no storage code reaches the main thread). The worker itself starts from db-worker.ts.
export type { WorkerApi, WorkerDeps } from './api.ts';
export type {
  AutosyncOptions, ChangeEvent, DatabaseInfo, DatabaseStatus, ExecResult, FetchResult, GraftStatus, HydrateProgress, ImportResult,
  NetworkEvent, OpenOptions, PageMap, PageMapState, PullResult, PushResult, ReadStats, QueryResult, RebaseBase, RebaseStart, ResultSet, Row, CursorStart, SqlOptions, SqlValue, StatementInfo, SqlParam, SqlParams, StatsResult, SyncState, SyncStatusEvent, TagInfo,
  StoreEvent, VfsStats, Wire, WorkerConfig, WorkerInfo,
} from '../src/protocol/index.ts';
export type { DeleteResult } from './delete-database.ts';
export type { CheckoutVolume } from './session.ts';
export type { WorkerLoadFailed } from './load-failure.ts';
