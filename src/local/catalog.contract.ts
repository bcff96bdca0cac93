// Contract checks every Catalog must pass. Framework-free like local-store.contract.ts: plain async
// functions that throw on failure, run by Vitest in Node and by the e2e worker in a real browser.
import { CommitHash, LSN, Tag, VolumeId, type Graft, type IdSource } from '../core/index.ts';
import type { Catalog, CatalogContents } from './catalog.ts';

/** A fresh, empty catalog; `reopen` (durable catalogs only) closes it and opens the same storage again. */
export interface CatalogHarness {
  readonly catalog: Catalog;
  readonly reopen?: (() => Promise<Catalog>) | undefined;
}

export type CatalogCheck = (h: CatalogHarness) => Promise<void>;
export type DurableCatalogCheck = (h: Required<CatalogHarness>) => Promise<void>;

function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`Check failed: ${message}`);
}

const fixed = (n: number): IdSource => ({ now: () => 1_700_000_000_000 + n, random: (b) => void b.fill(n & 0xff) });
const vidOf = (n: number): VolumeId => VolumeId.random(fixed(n));
const hashOf = (n: number): CommitHash => CommitHash.fromBytes(Uint8Array.from({ length: 32 }, (_, i) => (n * 37 + i) & 0xff));

/** A graft as plain JSON without undefined fields, so equal grafts print equal. */
const canon = (g: Graft | undefined): string =>
  g === undefined
    ? 'undefined'
    : JSON.stringify({
        local: g.local,
        remote: g.remote,
        sync: g.sync && { remote: g.sync.remote, localWatermark: g.sync.localWatermark },
        pending: g.pending && { local: g.pending.local, remote: g.pending.remote, hash: g.pending.hash },
        abandoned: g.abandoned?.map((a) => ({ local: a.local, remote: a.remote, hash: a.hash })),
      });

const tagsOf = (c: CatalogContents): string =>
  JSON.stringify([...c.tags].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));

const graftsOf = (c: CatalogContents): string =>
  [...c.grafts].map(canon).sort().join('\n');

function checkTags(c: CatalogContents, expected: [string, VolumeId][], when: string): void {
  const want = JSON.stringify([...expected].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  check(tagsOf(c) === want, `${when}: tags are ${tagsOf(c)}, expected ${want}`);
}

function checkGrafts(c: CatalogContents, expected: Graft[], when: string): void {
  const want = expected.map(canon).sort().join('\n');
  check(graftsOf(c) === want, `${when}: grafts are\n${graftsOf(c)}\nexpected\n${want}`);
}

/** A graft with everything set: sync point with watermark, a pending commit and two abandoned ones. */
const fullGraft = (n: number): Graft => ({
  local: vidOf(n),
  remote: vidOf(n + 1000),
  sync: { remote: LSN.parse(5), localWatermark: LSN.parse(7) },
  pending: { local: LSN.parse(9), remote: LSN.parse(6), hash: hashOf(n) },
  abandoned: [{ local: LSN.parse(8), remote: LSN.parse(6), hash: hashOf(n + 1) }, { local: LSN.parse(9), remote: LSN.parse(6), hash: hashOf(n + 2) }],
});

export const catalogChecks: Record<string, CatalogCheck> = {
  async 'a fresh catalog loads empty'({ catalog }) {
    const c = await catalog.load();
    check(c.tags.size === 0, `a fresh catalog has ${c.tags.size} tags`);
    check(c.grafts.length === 0, `a fresh catalog has ${c.grafts.length} grafts`);
  },

  async 'putTag stores a tag and putTag again repoints it'({ catalog }) {
    await catalog.putTag(Tag.parse('main'), vidOf(1));
    await catalog.putTag(Tag.parse('other.db'), vidOf(2));
    checkTags(await catalog.load(), [['main', vidOf(1)], ['other.db', vidOf(2)]], 'after two putTag');
    await catalog.putTag(Tag.parse('main'), vidOf(3));
    checkTags(await catalog.load(), [['main', vidOf(3)], ['other.db', vidOf(2)]], 'after repointing main');
  },

  async 'deleteTag removes only that tag, and deleting a missing tag does nothing'({ catalog }) {
    await catalog.putTag(Tag.parse('a'), vidOf(1));
    await catalog.putTag(Tag.parse('b'), vidOf(1));
    await catalog.deleteTag(Tag.parse('a'));
    checkTags(await catalog.load(), [['b', vidOf(1)]], 'after deleteTag(a)');
    await catalog.deleteTag(Tag.parse('never-there'));
    checkTags(await catalog.load(), [['b', vidOf(1)]], 'after deleting a missing tag');
  },

  async 'putGraft round-trips grafts with and without sync points, pending and abandoned commits'({ catalog }) {
    const bare: Graft = { local: vidOf(1), remote: vidOf(2) };
    const synced: Graft = { local: vidOf(3), remote: vidOf(4), sync: { remote: LSN.parse(3) } };
    const full = fullGraft(5);
    for (const g of [bare, synced, full]) await catalog.putGraft(g);
    const c = await catalog.load();
    checkGrafts(c, [bare, synced, full], 'after putGraft');
    const loaded = c.grafts.find((g) => g.local === full.local);
    check(loaded?.pending?.hash === full.pending?.hash, `the pending commit's hash came back as ${loaded?.pending?.hash}`);
    check(loaded?.abandoned?.[1]?.hash === full.abandoned?.[1]?.hash, `the second abandoned commit's hash came back as ${loaded?.abandoned?.[1]?.hash}`);
    check(loaded?.sync?.localWatermark === 7, `the sync point's watermark came back as ${loaded?.sync?.localWatermark}`);
  },

  async 'putGraft replaces the stored graft, dropping fields the new one lacks'({ catalog }) {
    const full = fullGraft(1);
    await catalog.putGraft(full);
    const resolved: Graft = { local: full.local, remote: full.remote, sync: { remote: LSN.parse(6), localWatermark: LSN.parse(9) } };
    await catalog.putGraft(resolved);
    checkGrafts(await catalog.load(), [resolved], 'after clearing the pending commit');
    const detached: Graft = { local: full.local, remote: vidOf(77) };
    await catalog.putGraft(detached);
    checkGrafts(await catalog.load(), [detached], 'after dropping the sync point');
  },

  async 'deleteGraft removes the graft and every tag pointing at it, and nothing else'({ catalog }) {
    const g1 = fullGraft(1);
    const g2: Graft = { local: vidOf(2), remote: vidOf(3) };
    await catalog.putGraft(g1);
    await catalog.putGraft(g2);
    await catalog.putTag(Tag.parse('one'), g1.local);
    await catalog.putTag(Tag.parse('one-alias'), g1.local);
    await catalog.putTag(Tag.parse('two'), g2.local);
    await catalog.deleteGraft(g1.local);
    const c = await catalog.load();
    checkGrafts(c, [g2], 'after deleteGraft');
    checkTags(c, [['two', g2.local]], 'after deleteGraft');
    await catalog.deleteGraft(vidOf(99)); // never existed
    checkGrafts(await catalog.load(), [g2], 'after deleting a missing graft');
  },

  async 'the catalog keeps its own copies of what is put and loaded'({ catalog }) {
    const g = { ...fullGraft(1), sync: { remote: LSN.parse(5), localWatermark: LSN.parse(7) } };
    await catalog.putGraft(g);
    await catalog.putTag(Tag.parse('t'), g.local);
    (g.sync as { remote: LSN }).remote = LSN.parse(99); // the caller reuses its object
    const first = await catalog.load();
    (first.tags as Map<Tag, VolumeId>).set(Tag.parse('injected'), vidOf(5));
    const loadedSync = first.grafts[0]?.sync as { remote: LSN } | undefined;
    if (loadedSync) loadedSync.remote = LSN.parse(42);
    const second = await catalog.load();
    checkTags(second, [['t', g.local]], 'after mutating a loaded map');
    checkGrafts(second, [fullGraft(1)], 'after mutating the put and the loaded graft');
  },
};

export const durableCatalogChecks: Record<string, DurableCatalogCheck> = {
  async 'tags and grafts survive close and reopen'({ catalog, reopen }) {
    const g1 = fullGraft(1);
    const g2: Graft = { local: vidOf(2), remote: vidOf(3), sync: { remote: LSN.parse(1) } };
    await catalog.putGraft(g1);
    await catalog.putGraft(g2);
    await catalog.putTag(Tag.parse('one'), g1.local);
    await catalog.putTag(Tag.parse('two'), g2.local);
    const reopened = await reopen();
    const c = await reopened.load();
    checkGrafts(c, [g1, g2], 'after reopen');
    checkTags(c, [['one', g1.local], ['two', g2.local]], 'after reopen');

    await reopened.deleteGraft(g1.local);
    const again = await reopen();
    const c2 = await again.load();
    checkGrafts(c2, [g2], 'after deleteGraft and a second reopen');
    checkTags(c2, [['two', g2.local]], 'after deleteGraft and a second reopen');
  },
};
