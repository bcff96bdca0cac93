import { ScionError } from '../core/index.ts';
import { LogStore, type LogStoreOptions } from './log-store.ts';

export interface OpfsStoreOptions extends Omit<LogStoreOptions, 'medium'> {
  /** Directory under the origin's OPFS root; one store per directory. Default "scion". */
  directory?: string;
}

const LOG_FILE = 'volumes.log';

/**
 * Opens the LocalStore kept in the Origin Private File System. Only in a dedicated worker: it holds
 * an exclusive FileSystemSyncAccessHandle until closed, so one store per directory per origin.
 */
export const OpfsStore = {
  async open(options: OpfsStoreOptions = {}): Promise<LogStore> {
    const name = options.directory ?? 'scion';
    if (typeof navigator === 'undefined' || !navigator.storage?.getDirectory) {
      throw new ScionError('InvalidInput', 'OPFS is not available here. Open the OPFS store inside a dedicated Web Worker of a secure context, or use MemoryStore.');
    }
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle(name, { create: true });
    const fileHandle = await dir.getFileHandle(LOG_FILE, { create: true });
    if (typeof fileHandle.createSyncAccessHandle !== 'function') {
      throw new ScionError('InvalidInput', 'OPFS sync access handles exist only in dedicated workers. Open the OPFS store in a Web Worker.');
    }
    let handle: FileSystemSyncAccessHandle;
    try {
      handle = await fileHandle.createSyncAccessHandle();
    } catch (e) {
      // Chromium reports a handle held elsewhere as NoModificationAllowedError; anything else (quota) passes through.
      if ((e as Error).name !== 'NoModificationAllowedError') throw ScionError.from(e);
      throw new ScionError('Forbidden', `The OPFS store "${name}" is open elsewhere (another tab or worker holds it). Close it there first.`, { directory: name }, { cause: e });
    }
    try {
      return LogStore.openSync(handle, { ...options, medium: 'opfs' });
    } catch (e) {
      handle.close();
      throw e;
    }
  },
} as const;
