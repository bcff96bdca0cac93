// The framework-free contract suites of src/local, run in the worker against the browser implementations:
// LocalStore against OpfsStore, Catalog against IdbCatalog on the real IndexedDB.
import { catalogChecks, durableCatalogChecks } from '../../src/local/catalog.contract.ts';
import { IdbCatalog, OpfsStore, type LocalStore } from '../../src/local/index.ts';
import { localStoreChecks } from '../../src/local/local-store.contract.ts';

let runs = 0;

async function removeDirectory(name: string): Promise<void> {
  const root = await navigator.storage.getDirectory();
  try {
    await root.removeEntry(name, { recursive: true });
  } catch (e) {
    if ((e as Error).name !== 'NotFoundError') throw e;
  }
}

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error ?? new Error(`Deleting IndexedDB "${name}" failed`));
  });
}

/** Runs one LocalStore check on a fresh OPFS directory, removed afterwards; throws what the check throws. */
export async function localStoreCheck(name: string): Promise<void> {
  const run = localStoreChecks[name];
  if (!run) throw new Error(`No LocalStore check named "${name}" (known: ${Object.keys(localStoreChecks).join('; ')})`);
  const directory = `scion-contract-${++runs}`;
  await removeDirectory(directory);
  const first = await OpfsStore.open({ directory });
  let current: LocalStore = first;
  try {
    await run({
      store: first,
      async reopen() {
        current.closeSync();
        current = await OpfsStore.open({ directory });
        return current;
      },
    });
  } finally {
    first.closeSync();
    current.closeSync();
    await removeDirectory(directory);
  }
}

/** Runs one Catalog check (plain or durable) on a fresh IndexedDB database, deleted afterwards. */
export async function catalogCheck(name: string): Promise<void> {
  const checks = { ...catalogChecks, ...durableCatalogChecks };
  const run = checks[name];
  if (!run) throw new Error(`No Catalog check named "${name}" (known: ${Object.keys(checks).join('; ')})`);
  const database = `scion-contract-${++runs}`;
  let current = await IdbCatalog.open(database);
  try {
    await run({
      catalog: current,
      async reopen() {
        current.close();
        current = await IdbCatalog.open(database);
        return current;
      },
    });
  } finally {
    current.close();
    await deleteDatabase(database);
  }
}
