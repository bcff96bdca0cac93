import { LSN, PageIdx, Snapshot } from '../../src/core/index.ts';
import type { Runtime } from '../../src/runtime/index.ts';

/**
 * Scion without SQLite: a graft under the tag "hello", two commits, and the page read back at both
 * LSNs. Each run adds two commits, so on a durable store the LSNs grow from run to run.
 */
export function helloWorld(rt: Runtime, print: (line: string) => void): Promise<void> {
  return run(rt, print);
}

const text = (s: string) => {
  const page = new Uint8Array(4096);
  page.set(new TextEncoder().encode(s));
  return page;
};
const read = (page: Uint8Array) => new TextDecoder().decode(page.subarray(0, page.indexOf(0)));

async function run(rt: Runtime, print: (line: string) => void): Promise<void> {
  const graft = await rt.tagOpen('hello');
  print(`tag "hello" → graft ${graft.local}`);

  const first = rt.graftWriter(graft.local);
  first.writePage(PageIdx.parse(1), text(`hello, world (written at ${new Date().toISOString()})`));
  const v1 = Snapshot.head(first.commit().snapshot)!.lsn;

  const second = rt.graftWriter(graft.local);
  second.writePage(PageIdx.parse(1), text('hello again: this is the newer version'));
  const v2 = Snapshot.head(second.commit().snapshot)!.lsn;

  for (const lsn of [v1, v2]) {
    const page = rt.readPage(rt.volumeCheckout(graft.local, LSN.parse(lsn)), PageIdx.parse(1));
    print(`page 1 at LSN ${lsn}: "${read(page)}"`);
  }
  print(`status: ${JSON.stringify(rt.graftStatus(graft.local))}`);
}
