import { describe, expect, it } from 'vitest';
import { PageIdx, type VolumeId } from '../core/index.ts';
import { MemoryCatalog, MemoryStore } from '../local/index.ts';
import { MemoryRemote } from '../remote/index.ts';
import { Runtime } from './runtime.ts';

const device = (remote: MemoryRemote) => Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog(), remote });

function write(rt: Runtime, vid: VolumeId, pages: readonly number[]): void {
  const w = rt.graftWriter(vid);
  for (const i of pages) w.writePage(PageIdx.parse(i), new Uint8Array(4096).fill(i % 251));
  w.commit();
}

describe('snapshotPageStates', () => {
  it('names the commit that holds each page and whether it is held; unwritten pages are undefined', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const ga = await a.graftOpen();
    write(a, ga.local, Array.from({ length: 100 }, (_, i) => i + 1));
    await a.graftPush(ga.local);

    const b = await device(remote);
    const gb = await b.graftClone(ga.remote);
    b.readPage(b.graftSnapshot(gb.local), PageIdx.parse(70)); // fetches the frame of pages 65..100
    write(b, gb.local, [3, 120]); // page 120 grows the volume; 101..119 are never written

    const states = b.snapshotPageStates(b.graftSnapshot(gb.local));
    expect(states).toHaveLength(120);
    expect(states[0]).toMatchObject({ vid: ga.remote, lsn: 1, held: false });
    expect(states[2]).toMatchObject({ vid: gb.local, lsn: 1, held: true });
    expect(states[69]).toMatchObject({ vid: ga.remote, lsn: 1, held: true });
    expect(states[100]).toBeUndefined();
    expect(states[119]).toMatchObject({ vid: gb.local, held: true });
    const missing = states.filter((s) => s && !s.held).length;
    expect(missing).toBe(b.snapshotMissingPages(b.graftSnapshot(gb.local)).size);
  });
});
