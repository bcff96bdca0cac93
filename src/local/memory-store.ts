import { SlotStore, type SlotStoreOptions } from './slot-store.ts';
import { MemoryDirectory } from './store-files.ts';

/**
 * An ephemeral LocalStore in memory: the same format as OPFS over a MemoryDirectory. Pass the
 * directory of an earlier store to "restart" on its bytes (crash tests tear or corrupt them first).
 */
export const MemoryStore = {
  open(dir: MemoryDirectory = new MemoryDirectory(), options: Omit<SlotStoreOptions, 'medium'> = {}): SlotStore {
    return SlotStore.openSync(dir.files(), { ...options, medium: 'memory' });
  },
} as const;
