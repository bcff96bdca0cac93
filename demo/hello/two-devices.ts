import { PageIdx } from '../../src/core/index.ts';
import type { Runtime } from '../../src/runtime/index.ts';

const PAGES = 200;
const text = (s: string) => {
  const page = new Uint8Array(4096);
  page.set(new TextEncoder().encode(s));
  return page;
};
const read = (page: Uint8Array) => new TextDecoder().decode(page.subarray(0, page.indexOf(0)));

/**
 * Two runtimes ("devices") share a volume through the bucket, without SQLite: A writes 200 pages
 * and pushes; B clones (commit records only), reads one page — fetching just the frame that holds
 * it — then pulls A's next commit. `syncReads` uses the blocking path the SQLite VFS uses (sync XHR,
 * browser workers only); otherwise reads are fetched with fetch().
 */
export async function twoDevices(a: Runtime, b: Runtime, print: (line: string) => void, options: { syncReads: boolean }): Promise<void> {
  const ga = await a.graftOpen();
  const w = a.graftWriter(ga.local);
  for (let i = 1; i <= PAGES; i++) w.writePage(PageIdx.parse(i), text(`page ${i}, written by device A`));
  w.commit();
  const pushed = await a.graftPush(ga.local);
  print(`A pushed ${PAGES} pages to remote volume ${ga.remote}: ${JSON.stringify(pushed)}`);

  const gb = await b.graftClone(ga.remote);
  print(`B cloned it: ${b.graftReader(gb.local).pageCount} pages visible, ${b.readStats().framesFetched} frames fetched`);

  const readOn = async (idx: number) => {
    const snapshot = b.graftSnapshot(gb.local);
    return read(options.syncReads ? b.readPage(snapshot, PageIdx.parse(idx)) : await b.readPageAsync(snapshot, PageIdx.parse(idx)));
  };
  print(`B reads page 150: "${await readOn(150)}"`);
  const stats = b.readStats();
  print(`B fetched ${stats.framesFetched} frame (${stats.pagesFetched} pages, ${stats.bytesFetched} bytes) — not the whole volume`);

  const again = a.graftWriter(ga.local);
  again.writePage(PageIdx.parse(1), text('page 1, rewritten by device A'));
  again.commit();
  await a.graftPush(ga.local);
  print(`B pulls: ${JSON.stringify(await b.graftPull(gb.local))}`);
  print(`B reads page 1: "${await readOn(1)}"`);
}
