// Deleting what a target stored in the browser: an OPFS entry of the root, an IndexedDB database.
/** Removes `name` from the OPFS root (recursively); nothing if it is not there. */
export async function removeEntry(name: string): Promise<void> {
  try {
    await (await navigator.storage.getDirectory()).removeEntry(name, { recursive: true });
  } catch (e) {
    if ((e as Error).name !== 'NotFoundError') throw e;
  }
}

export function deleteIdb(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error ?? new Error(`deleteDatabase ${name} failed`));
    req.onblocked = () => resolve(); // a connection still open somewhere: it goes at cleanup()
  });
}
