/** Deletes every IndexedDB database of the origin; returns the deleted names, sorted. */
export async function wipeIndexedDb(): Promise<string[]> {
  const names = (await indexedDB.databases()).flatMap((d) => (d.name === undefined ? [] : [d.name]));
  for (const name of names) {
    await new Promise<void>((resolve, reject) => {
      const req = indexedDB.deleteDatabase(name);
      req.onsuccess = () => resolve();
      req.onerror = () => reject(req.error ?? new Error(`Deleting IndexedDB "${name}" failed`));
      // A connection that ignores versionchange would make this wait forever: fail instead.
      req.onblocked = () => reject(new Error(`IndexedDB "${name}" is still open elsewhere; close it before wiping`));
    });
  }
  return names.sort();
}
