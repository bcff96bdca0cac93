import { LogStore, type LogStoreOptions } from './log-store.ts';
import { MemoryFile } from './sync-file.ts';

/**
 * An ephemeral LocalStore in memory: the same log format as OPFS over a MemoryFile. Pass the file of
 * an earlier store to "restart" on its bytes (crash tests tear or corrupt them first).
 */
export const MemoryStore = {
  open(file: MemoryFile = new MemoryFile(), options: Omit<LogStoreOptions, 'medium'> = {}): LogStore {
    return LogStore.openSync(file, { ...options, medium: 'memory' });
  },
} as const;
