import { describe, expect, it } from 'vitest';
import { PageIdx } from '../core/index.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../local/index.ts';
import { MemoryRemote, type RemoteRequestEvent } from '../remote/index.ts';
import { Runtime } from './runtime.ts';

/* A push moves only what the local commits wrote: it never downloads the remote base. */

const idx = (n: number) => PageIdx.parse(n);
const page = (fill: number) => new Uint8Array(4096).fill(fill);

async function device(remote: MemoryRemote) {
  return Runtime.open({ store: MemoryStore.open(new MemoryDirectory()), catalog: new MemoryCatalog(), remote });
}

describe('push at scale', () => {
  it('a lazy clone of a 1,000-page volume that writes one page pushes it without fetching the rest', async () => {
    const events: RemoteRequestEvent[] = [];
    const remote = new MemoryRemote({ onRequest: (e) => events.push(e) });
    const a = await device(remote);
    const ga = await a.graftOpen();
    const w = a.graftWriter(ga.local);
    for (let i = 1; i <= 1000; i++) w.writePage(idx(i), page(i % 251));
    w.commit();
    await a.graftPush(ga.local);

    const b = await device(remote);
    const gb = await b.graftClone(ga.remote);
    expect(b.graftReader(gb.local).readPage(idx(500))[0]).toBe(500 % 251);
    const read = b.readStats();
    expect(read.framesFetched).toBe(1);

    const bw = b.graftWriter(gb.local);
    bw.writePage(idx(500), page(7));
    bw.commit();
    events.length = 0;
    const pushed = await b.graftPush(gb.local);
    expect(pushed).toMatchObject({ outcome: 'pushed', pages: 1 });
    const after = b.readStats();
    // Nothing downloaded but the probe for a newer commit (absent: 0 bytes), no frame fetched.
    expect(after.framesFetched).toBe(read.framesFetched);
    expect(after.bytesFetched - read.bytesFetched).toBe(events.filter((e) => e.method === 'GET').reduce((n, e) => n + e.bytes, 0));
    expect(events.filter((e) => e.method === 'GET' && e.key.includes('/segments/'))).toEqual([]);
    // Uploaded: one segment of one page, one commit record (and the latest hint), all counted.
    const uploaded = events.filter((e) => e.method === 'PUT').reduce((n, e) => n + e.bytes, 0);
    expect(after.bytesUploaded - read.bytesUploaded).toBe(uploaded);
    expect(uploaded).toBeLessThan(4096 + 1024);
    // And it is right: a third device reads the new page and the old ones.
    const c = await device(remote);
    const gc = await c.graftClone(ga.remote);
    expect(c.graftReader(gc.local).readPage(idx(500))[0]).toBe(7);
    expect(c.graftReader(gc.local).readPage(idx(999))[0]).toBe(999 % 251);
  });
});
