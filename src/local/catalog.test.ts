import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isScionError, Tag, VolumeId, type ErrorCode, type IdSource } from '../core/index.ts';
import { catalogChecks, durableCatalogChecks, type CatalogHarness } from './catalog.contract.ts';
import { IdbCatalog } from './idb-catalog.ts';
import { MemoryCatalog } from './memory-catalog.ts';

let dbCounter = 0;
/** Each test gets its own database, so tests never see each other's rows. */
const uniqueName = (): string => `scion-catalog-test-${++dbCounter}-${Math.random().toString(36).slice(2)}`;

async function idbHarness(name = uniqueName()): Promise<Required<CatalogHarness>> {
  let current = await IdbCatalog.open(name);
  return {
    catalog: current,
    async reopen() {
      current.close();
      current = await IdbCatalog.open(name);
      return current;
    },
  };
}

const fixed = (n: number): IdSource => ({ now: () => 1_700_000_000_000 + n, random: (b) => void b.fill(n & 0xff) });
const vidOf = (n: number): VolumeId => VolumeId.random(fixed(n));

async function expectScionErrorAsync(p: Promise<unknown>, code: ErrorCode): Promise<Error> {
  let thrown: unknown;
  try {
    await p;
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ScionError ${code}, nothing was thrown`).toBeDefined();
  expect(isScionError(thrown, code), `expected ScionError ${code}, got ${String(thrown)}`).toBe(true);
  return thrown as Error;
}

describe('MemoryCatalog (Catalog contract)', () => {
  for (const [name, run] of Object.entries(catalogChecks)) {
    it(name, () => run({ catalog: new MemoryCatalog() }));
  }
});

describe('IdbCatalog (Catalog contract, fake-indexeddb)', () => {
  for (const [name, run] of Object.entries({ ...catalogChecks, ...durableCatalogChecks })) {
    it(name, async () => run(await idbHarness()));
  }
});

describe('IdbCatalog', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  /** Writes `row` straight into `store` of the catalog database `name`, bypassing IdbCatalog. */
  async function writeRaw(name: string, store: 'tags' | 'grafts', row: Record<string, unknown>): Promise<void> {
    const db = await openDB(name);
    await db.put(store, row);
    db.close();
  }

  const badRows: [string, 'tags' | 'grafts', Record<string, unknown>][] = [
    ['a tag row with an invalid tag name', 'tags', { tag: 'no spaces allowed', vid: vidOf(1) }],
    ['a tag row pointing at a non-volume id', 'tags', { tag: 'main', vid: 'not-a-volume-id' }],
    ['a graft row with an invalid remote volume id', 'grafts', { local: vidOf(1), remote: 42 }],
    ['a graft row whose key is not a volume id', 'grafts', { local: 'garbage', remote: vidOf(2) }],
    ['a graft row with a zero LSN in its sync point', 'grafts', { local: vidOf(1), remote: vidOf(2), sync: { remote: 0 } }],
    ['a graft row with a malformed pending hash', 'grafts', { local: vidOf(1), remote: vidOf(2), pending: { local: 1, remote: 1, hash: 'abc' } }],
  ];
  for (const [what, store, row] of badRows) {
    it(`load throws Corrupt naming the database when it holds ${what}`, async () => {
      const name = uniqueName();
      const catalog = await IdbCatalog.open(name);
      await catalog.putTag(Tag.parse('fine'), vidOf(3));
      await writeRaw(name, store, row);
      const err = await expectScionErrorAsync(catalog.load(), 'Corrupt');
      expect(err.message).toContain(name);
      catalog.close();
    });
  }

  it('reads its contents as it opens: the first load has them, a load after a write sees the write', async () => {
    const name = uniqueName();
    (await IdbCatalog.open(name)).close(); // creates the stores
    await writeRaw(name, 'tags', { tag: 'before', vid: vidOf(1) });
    const catalog = await IdbCatalog.open(name);
    expect([...(await catalog.load()).tags.keys()]).toEqual(['before']);
    await catalog.putTag(Tag.parse('after'), vidOf(2));
    expect([...(await catalog.load()).tags.keys()].sort()).toEqual(['after', 'before']);
    catalog.close();
  });

  it('a record it cannot read, present at open, is Corrupt at the first load (not an unhandled rejection)', async () => {
    const name = uniqueName();
    (await IdbCatalog.open(name)).close();
    await writeRaw(name, 'tags', { tag: 'no spaces allowed', vid: vidOf(1) });
    const catalog = await IdbCatalog.open(name);
    await new Promise((r) => setTimeout(r, 10)); // the read at open has failed by now
    await expectScionErrorAsync(catalog.load(), 'Corrupt');
    catalog.close();
  });

  it('keeps databases of different names apart', async () => {
    const a = await IdbCatalog.open(uniqueName());
    const b = await IdbCatalog.open(uniqueName());
    await a.putTag(Tag.parse('only-in-a'), vidOf(1));
    expect((await b.load()).tags.size).toBe(0);
    a.close();
    b.close();
  });

  it('open throws InvalidInput when IndexedDB is not available', async () => {
    vi.stubGlobal('indexedDB', undefined);
    await expectScionErrorAsync(IdbCatalog.open(uniqueName()), 'InvalidInput');
  });
});
