export type { GraftStatus } from './graft-status.ts';
export { Runtime } from './runtime.ts';
export type { CommitEvent, RuntimeOptions } from './runtime.ts';
export { VolumeReader } from './volume-reader.ts';
export type { ReadPageFn } from './volume-reader.ts';
export { VolumeWriter } from './volume-writer.ts';
