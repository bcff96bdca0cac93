/** Removes every entry of the OPFS root, recursively; returns the removed names, sorted. */
export async function wipeOpfs(): Promise<string[]> {
  const root = await navigator.storage.getDirectory();
  const names: string[] = [];
  // Collect first: removing entries while iterating the directory is not well defined.
  for await (const name of root.keys()) names.push(name);
  for (const name of names) await root.removeEntry(name, { recursive: true });
  return names.sort();
}
