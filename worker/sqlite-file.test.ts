// Import memory: the file given is the import's only copy of its pages until the store holds them.
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE, PageIdx } from '../src/core/index.ts';
import { MemoryCatalog, MemoryStore, type LocalStore } from '../src/local/index.ts';
import { Runtime } from '../src/runtime/index.ts';
import { writeSqliteFile } from './sqlite-file.ts';

describe('writeSqliteFile', () => {
  it('commits views of the file it was given, never copies: a 4 MiB import hands the store 1,024 pages that all live in the file\'s buffer', async () => {
    const store = MemoryStore.open();
    const seen: { pages: number; copies: number } = { pages: 0, copies: 0 };
    const file = new Uint8Array(1024 * PAGE_SIZE);
    for (let i = 0; i < 1024; i++) file.fill(i & 0xff, i * PAGE_SIZE + 100, (i + 1) * PAGE_SIZE);
    // The real store, with each committed page checked on its way in.
    const watched = new Proxy(store, {
      get(target, key) {
        if (key === 'appendCommitsSync') {
          return (entries: Parameters<LocalStore['appendCommitsSync']>[0]) => {
            for (const e of entries) {
              for (const page of e.pages?.values() ?? []) {
                seen.pages++;
                if (page.buffer !== file.buffer) seen.copies++;
              }
            }
            target.appendCommitsSync(entries);
          };
        }
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const runtime = await Runtime.open({ store: watched, catalog: new MemoryCatalog() });
    const graft = await runtime.tagOpen('imported');
    writeSqliteFile(runtime, graft.local, file);
    expect(seen).toEqual({ pages: 1024, copies: 0 });
    expect(runtime.graftReader(graft.local).readPage(PageIdx.parse(700))[200]).toBe(699 & 0xff);
  });
});
