/** Groups items by key, keeping their order within each group. */
export function groupBy<K, V>(items: Iterable<V>, key: (item: V) => K | undefined): Map<K, V[]> {
  const groups = new Map<K, V[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
