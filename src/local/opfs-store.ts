import { ScionError } from '../core/index.ts';
import { SlotStore, type SlotStoreOptions } from './slot-store.ts';
import { STORE_FILE_NAMES, type StoreFiles } from './store-files.ts';
import { preloadCrc32c } from './wasm-crc.ts';

// A worker that imports this opens a store: the WebAssembly CRC-32C loads meanwhile, so the first
// large checksum (the checkpoint read at open) need not run on JavaScript V8 has not optimised yet.
void preloadCrc32c();

export interface OpfsStoreOptions extends Omit<SlotStoreOptions, 'medium'> {
  /** Directory under the origin's OPFS root; one store per directory. Default "scion". */
  directory?: string;
}

/**
 * Opens the LocalStore kept in the Origin Private File System. Only in a dedicated worker: it holds
 * exclusive FileSystemSyncAccessHandles until closed, so one store per directory per origin. A
 * format-1 store (`volumes.log`) in the directory is migrated, then its file removed.
 */
export const OpfsStore = {
  async open(options: OpfsStoreOptions = {}): Promise<SlotStore> {
    const name = options.directory ?? 'scion';
    if (typeof navigator === 'undefined' || !navigator.storage?.getDirectory) {
      throw new ScionError('InvalidInput', 'OPFS is not available here. Open the OPFS store inside a dedicated Web Worker of a secure context, or use MemoryStore.');
    }
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle(name, { create: true });
    const held: FileSystemSyncAccessHandle[] = [];
    const openFile = async (file: string, create: boolean): Promise<FileSystemSyncAccessHandle | undefined> => {
      let handle: FileSystemFileHandle;
      try {
        handle = await dir.getFileHandle(file, { create });
      } catch (e) {
        if (!create && (e as Error).name === 'NotFoundError') return undefined;
        throw ScionError.from(e);
      }
      if (typeof handle.createSyncAccessHandle !== 'function') {
        throw new ScionError('InvalidInput', 'OPFS sync access handles exist only in dedicated workers. Open the OPFS store in a Web Worker.');
      }
      try {
        const access = await handle.createSyncAccessHandle();
        held.push(access);
        return access;
      } catch (e) {
        // Chromium reports a handle held elsewhere as NoModificationAllowedError.
        if ((e as Error).name !== 'NoModificationAllowedError') throw ScionError.from(e);
        throw new ScionError('Forbidden', `The OPFS store "${name}" is open elsewhere (another tab or worker holds it). Close it there first.`, { directory: name }, { cause: e });
      }
    };
    try {
      // Each handle is a round trip to the browser's storage process: ask for all of them at once.
      const opened = await Promise.allSettled([
        openFile(STORE_FILE_NAMES.pages, true),
        openFile(STORE_FILE_NAMES.journals[0], true),
        openFile(STORE_FILE_NAMES.journals[1], true),
        openFile(STORE_FILE_NAMES.mark, true),
        openFile(STORE_FILE_NAMES.legacy, false),
      ]);
      const failed = opened.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      const [pages, journal0, journal1, mark, legacy] = opened.map((r) => (r as PromiseFulfilledResult<FileSystemSyncAccessHandle | undefined>).value);
      const journals = [journal0 as FileSystemSyncAccessHandle, journal1 as FileSystemSyncAccessHandle] as const;
      let removeLegacy = false;
      const files: StoreFiles = { pages: pages as FileSystemSyncAccessHandle, journals, mark: mark as FileSystemSyncAccessHandle, legacy, removeLegacy: () => void (removeLegacy = true) };
      const store = SlotStore.openSync(files, { ...options, medium: 'opfs' });
      if (legacy && removeLegacy) {
        // Migrated (durably, the mark names the new journal): the old file goes. If this is cut
        // short, the next open sees the mark and removes it again.
        legacy.close();
        await dir.removeEntry(STORE_FILE_NAMES.legacy);
      }
      // Otherwise a migration stopped by a full disk reads pages from it: the store closes it.
      return store;
    } catch (e) {
      for (const h of held) {
        try {
          h.close();
        } catch {
          // already closed
        }
      }
      throw e;
    }
  },
} as const;
