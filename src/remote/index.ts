export { MemoryRemote } from './memory-remote.ts';
export type { MemoryRemoteOptions } from './memory-remote.ts';
export { PresignClient } from './presign-client.ts';
export type { PresignClientOptions } from './presign-client.ts';
export type { ByteRange, CreateOutcome, ListedObject, PlannedRequest, Remote, RemoteRequestEvent, RequestOptions } from './remote.ts';
export { RETRY_DEFAULTS } from './retry.ts';
export type { RetryPolicy } from './retry.ts';
export { parseListing, S3Remote } from './s3-remote.ts';
export type { S3RemoteOptions } from './s3-remote.ts';
