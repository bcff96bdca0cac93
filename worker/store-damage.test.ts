import { describe, expect, it } from 'vitest';
import { isScionError, PageIdx, type VolumeId } from '../src/core/index.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../src/local/index.ts';
import { Runtime } from '../src/runtime/index.ts';
import { nameDamagedDatabases } from './store-damage.ts';

function write(rt: Runtime, vid: VolumeId, pages: number) {
  const w = rt.graftWriter(vid);
  for (let i = 1; i <= pages; i++) w.writePage(PageIdx.parse(i), new Uint8Array(4096).fill(i));
  w.commit();
}

async function opened(dir: MemoryDirectory): Promise<unknown> {
  try {
    MemoryStore.open(dir.copy());
    return undefined;
  } catch (e) {
    return e;
  }
}

describe('a damaged store names the databases it affects', () => {
  it('pages lost from the page file: only the databases whose pages are gone', async () => {
    const dir = new MemoryDirectory();
    const catalog = new MemoryCatalog();
    const rt = await Runtime.open({ store: MemoryStore.open(dir), catalog });
    write(rt, (await rt.tagOpen('intact')).local, 2); // slots 0–1
    write(rt, (await rt.tagOpen('notes')).local, 3); // slots 2–4
    rt.close();
    const damaged = dir.copy();
    damaged.pages.truncate(2 * 4096);
    const e = await nameDamagedDatabases(await opened(damaged), async () => catalog);
    expect(isScionError(e, 'Corrupt')).toBe(true);
    expect((e as Error).message).toMatch(/Affected databases: notes\.$/);
    expect((e as { details: unknown }).details).toMatchObject({ databases: 'notes' });
  });

  it('a damaged journal names every database of the store; other errors pass unchanged', async () => {
    const dir = new MemoryDirectory();
    const catalog = new MemoryCatalog();
    const rt = await Runtime.open({ store: MemoryStore.open(dir), catalog });
    write(rt, (await rt.tagOpen('a')).local, 1);
    write(rt, (await rt.tagOpen('b')).local, 1);
    rt.close();
    const damaged = dir.copy();
    const journal = damaged.journals[0].getSize() > 0 ? damaged.journals[0] : damaged.journals[1];
    journal.truncate(journal.getSize() - 4);
    const e = await nameDamagedDatabases(await opened(damaged), async () => catalog);
    expect((e as Error).message).toMatch(/any may be affected\): a, b\.$/);
    const other = new Error('x');
    expect(await nameDamagedDatabases(other, async () => catalog)).toBe(other);
  });
});
