// The picture of a volume the demo draws: every page of a snapshot classified by where its bytes are.
import type { Graft, Snapshot } from '../src/core/index.ts';
import type { Runtime } from '../src/runtime/index.ts';
import type { PageMap, PageMapState } from '../src/protocol/index.ts';

/** Index → state, as `PageMap.states` encodes it. */
export const PAGE_MAP_LEGEND: readonly PageMapState[] = ['empty', 'local', 'cached', 'missing', 'unpushed'];
const CODE = Object.fromEntries(PAGE_MAP_LEGEND.map((s, i) => [s, i])) as Record<PageMapState, number>;

/**
 * Classifies each page of `snapshot` (a snapshot of `graft`): `unpushed` if a commit of the graft's
 * local volume not pushed yet wrote it, `missing` if its bytes are not held, `cached` if held and its
 * segment was fetched from the bucket (`fetched`: keys of the objects frames were read from), `local` if held otherwise, `empty` if never written.
 */
export function buildPageMap(runtime: Runtime, graft: Graft, snapshot: Snapshot, fetched: ReadonlySet<string>): PageMap {
  const pages = runtime.snapshotPageStates(snapshot);
  const states = new Uint8Array(pages.length);
  const lsns = new Uint32Array(pages.length);
  const counts: Record<PageMapState, number> = { empty: 0, local: 0, cached: 0, missing: 0, unpushed: 0 };
  pages.forEach((page, i) => {
    const state: PageMapState = !page ? 'empty'
      : !page.held ? 'missing'
      : page.vid === graft.local ? 'unpushed'
      : page.objects.some((key) => fetched.has(key)) ? 'cached'
      : 'local';
    states[i] = CODE[state];
    lsns[i] = page?.lsn ?? 0;
    counts[state]++;
  });
  return { pageCount: snapshot.pageCount, states, lsns, legend: [...PAGE_MAP_LEGEND], counts };
}
