// The real OpfsStore + IdbCatalog + Runtime in a dedicated worker: durability across reloads, torn tails,
// damage to acknowledged data, reclaiming space, migration of format 1, a large commit, and the
// one-store-per-directory lock. Scenarios: e2e/scenarios/opfs-store.ts.
import { expect, ScionPage, test } from './fixtures.ts';
import type { PageRange } from './scenarios/page-pattern.ts';
import type { VerifyResult } from './scenarios/opfs-store.ts';

const PAGE = 4096;
const where = {}; // the scenarios' defaults: OPFS directory and IndexedDB catalog "scion-e2e", tag "main"

// Three commits that overlap, so reading the wrong version of a page shows as a mismatch.
const A: PageRange = { seed: 11, from: 1, to: 8 };
const B: PageRange = { seed: 22, from: 5, to: 12 };
const C: PageRange = { seed: 33, from: 3, to: 10 };

function expectPagesIntact(r: VerifyResult): void {
  expect(r.mismatchCount, `pages that differ from the pattern: ${r.mismatches.join(', ')}`).toBe(0);
  expect(r.checksum).toBe(r.expectedChecksum);
}

test.beforeEach(async ({ scion }) => {
  await scion.run('storeRelease');
  await scion.run('wipeOpfs');
  await scion.run('wipeIndexedDb');
});

test.afterEach(async ({ scion }) => {
  await scion.run('storeRelease');
});

test.describe('reload', () => {
  test('committed pages, the tag and the latest LSN survive a page reload byte for byte', async ({ scion }) => {
    const pages: PageRange = { seed: 7, from: 1, to: 64 };
    const written = await scion.run('storeCommit', where, [pages]);
    expect(written.commits.map((c) => c.lsn)).toEqual([1]);

    await scion.reload();
    const after = await scion.run('storeVerify', where, [pages]);
    expect(after).toMatchObject({ vid: written.vid, latestLsn: 1, readLsn: 1, pageCount: 64, tailDropped: [], commits: 1 });
    expect(after.checked).toBe(65); // one page past the end reads as zeros
    expectPagesIntact(after);
  });

  test('volumeCheckout of LSN 1 after a reload shows the first version (time travel is durable)', async ({ scion }) => {
    const written = await scion.run('storeCommit', where, [A, B]);
    expect(written.commits.map((c) => c.lsn)).toEqual([1, 2]);

    await scion.reload();
    const first = await scion.run('storeVerify', where, [A], { at: 1 });
    expect(first).toMatchObject({ vid: written.vid, latestLsn: 2, readLsn: 1, pageCount: 8 });
    expectPagesIntact(first);
    const latest = await scion.run('storeVerify', where, [A, B]);
    expect(latest).toMatchObject({ latestLsn: 2, readLsn: 2, pageCount: 12 });
    expectPagesIntact(latest);
  });

  test('a runtime still open when the page reloads does not lock the store for the next page', async ({ scion }) => {
    await scion.run('storeCommit', where, [A], { hold: true });
    await scion.reload(); // the worker dies holding the sync access handle
    const after = await scion.run('storeVerify', where, [A]);
    expect(after).toMatchObject({ latestLsn: 1, tailDropped: [] });
    expectPagesIntact(after);
  });
});

test.describe('torn writes and damage', () => {
  // A torn write is one the store never acknowledged: bytes past the journal's high-water mark.
  const junk = (n: number, seed: number) => Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + 1) & 0xff);
  const tails: [string, number[]][] = [
    ['junk bytes', junk(300, 1)],
    ['a record header cut short', [0x40, 0, 0, 0, 1, 0, 0]],
    ['a header promising more bytes than follow', [0x00, 0x10, 0, 0, 1, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde, ...junk(40, 2)]],
    ['a whole record with a wrong checksum', [8, 0, 0, 0, 1, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde, ...junk(8, 3)]],
  ];
  for (const [what, bytes] of tails) {
    test(`${what} past the acknowledged end of the journal are dropped at reopen, silently and safely`, async ({ scion }) => {
      await scion.run('storeCommit', where, [A, B]);
      const end = await scion.run('storeFileSize', where, 'journal');
      expect(await scion.run('storeFileAppend', where, 'journal', bytes)).toBe(end + bytes.length);

      const reopened = await scion.run('storeVerify', where, [A, B]);
      expect(reopened).toMatchObject({ latestLsn: 2 });
      expect(reopened.tailDropped).toEqual([{ offset: end, bytes: bytes.length, reason: expect.any(String) }]);
      expectPagesIntact(reopened);
      expect(await scion.run('storeFileSize', where, 'journal')).toBe(end);

      const next = await scion.run('storeCommit', where, [C]);
      expect(next.commits.map((c) => c.lsn)).toEqual([3]);
      await scion.reload();
      const final = await scion.run('storeVerify', where, [A, B, C]);
      expect(final).toMatchObject({ latestLsn: 3, tailDropped: [] });
      expectPagesIntact(final);
    });
  }

  // Each of these lost acknowledged data: the open fails with Corrupt, naming the way out, and changes nothing.
  // What salvage keeps: the commits before the damage, the commits without the lost pages, or nothing.
  type Kept = 'commit 1' | 'commits, not all pages' | 'nothing';
  const damage: [string, (scion: ScionPage) => Promise<unknown>, Kept][] = [
    ['the journal cut inside its last record', async (scion) => scion.run('storeFileTruncate', where, 'journal', (await scion.run('storeFileSize', where, 'journal')) - 5), 'commit 1'],
    ['the journal cut below 16 bytes', (scion) => scion.run('storeFileTruncate', where, 'journal', 10), 'nothing'],
    ['a flipped byte in the last complete record', (scion) => scion.run('storeFileFlipByte', where, 'journal', -3), 'commit 1'],
    ['the page file cut short', (scion) => scion.run('storeFileTruncate', where, 'pages', 4 * PAGE), 'commits, not all pages'],
  ];
  for (const [what, harm, kept] of damage) {
    test(`${what} fails to open with Corrupt; { salvage: true } opens the intact part`, async ({ scion }) => {
      await scion.run('storeCommit', where, [A, B]);
      await harm(scion);
      const sizes = await scion.run('storeFileSizes', where);
      const refused = await scion.attempt('storeVerify', where, [A, B]);
      expect(refused).toMatchObject({ ok: false, error: { code: 'Corrupt', message: expect.stringMatching(/salvage: true/) } });
      expect(await scion.run('storeFileSizes', where)).toEqual(sizes);

      if (kept === 'commit 1') {
        expect(await scion.attempt('storeVerify', where, [A], { salvage: true })).toMatchObject({ ok: true, value: { latestLsn: 1, mismatchCount: 0 } });
      } else if (kept === 'nothing') {
        expect(await scion.attempt('storeVerify', where, [], { salvage: true })).toMatchObject({ ok: true, value: { latestLsn: undefined, commits: 0 } });
      } else {
        // Commits stay; the pages that were lost read as not held (PageNotLocal), never as wrong bytes.
        expect(await scion.attempt('storeVerify', where, [A, B], { salvage: true })).toMatchObject({ ok: false, error: { code: 'PageNotLocal' } });
      }
      // Salvaged durably: a plain open works now.
      expect(await scion.attempt('storeFileSizes', where)).toMatchObject({ ok: true });
      expect(await scion.attempt('storeReadPage', where, 1)).not.toMatchObject({ error: { code: 'Corrupt' } });
    });
  }

  test('a damaged page in the page file is kept and fails only its own read, with Corrupt', async ({ scion }) => {
    await scion.run('storeCommit', where, [A, B]);
    // A's 8 pages took the first 8 slots, in page order.
    await scion.run('storeFileFlipByte', where, 'pages', 100);

    const damaged = await scion.attempt('storeReadPage', where, 1);
    expect(damaged).toMatchObject({ ok: false, error: { code: 'Corrupt', details: { pageIdx: 1 } } });
    expect(await scion.run('storeReadPage', where, 2)).toEqual({ matchesSeed: A.seed });
    expect(await scion.run('storeReadPage', where, 12)).toEqual({ matchesSeed: B.seed });
  });
});

test.describe('reclaiming space', () => {
  test('deleting a graft shrinks the files in OPFS to almost nothing', async ({ scion }) => {
    await scion.run('storeCommit', where, Array.from({ length: 20 }, (_, i) => ({ seed: i + 1, from: 1, to: 64 })));
    const { before, after, files } = await scion.run('storeDeleteTag', where);
    expect(before).toBeGreaterThan(20 * 64 * PAGE);
    expect(after).toBeLessThan(64 * 1024);
    expect(Object.values(files).reduce((a, b) => a + b, 0)).toBe(after);
  });
});

test('a store of format 1 (volumes.log) is migrated at open, every page intact, and the old file removed', async ({ scion }) => {
  const vid = await scion.run('legacyCommit', where, [A, B]);
  expect(Object.keys(await scion.run('storeFileSizes', where))).toEqual(['volumes.log']);
  const migrated = await scion.run('storeVerify', where, [A, B]);
  expect(migrated).toMatchObject({ vid, latestLsn: 2, tailDropped: [] });
  expectPagesIntact(migrated);
  expect(Object.keys(await scion.run('storeFileSizes', where))).not.toContain('volumes.log');
  await scion.reload();
  const again = await scion.run('storeVerify', where, [A], { at: 1 });
  expectPagesIntact(again);
});

test('10,000 pages committed at once read back intact after a reload', async ({ scion }) => {
  test.slow();
  const pages: PageRange = { seed: 99, from: 1, to: 10_000 };
  const written = await scion.run('storeCommit', where, [pages]);
  expect(written.commits).toEqual([{ lsn: 1, fileBytes: expect.any(Number) }]);
  expect(written.commits[0]?.fileBytes).toBeGreaterThanOrEqual(10_000 * PAGE);

  await scion.reload();
  const after = await scion.run('storeVerify', where, [pages]);
  expect(after).toMatchObject({ latestLsn: 1, pageCount: 10_000, checked: 10_001, tailDropped: [] });
  expectPagesIntact(after);
});

test.describe('one store per directory', () => {
  test('a second OpfsStore.open on an open directory fails with Forbidden until the first closes', async ({ scion }) => {
    expect(await scion.run('storeHold', where)).toEqual({ medium: 'opfs', volumes: [] });
    const second = await scion.attempt('storeHold', where);
    expect(second).toMatchObject({ ok: false, error: { name: 'ScionError', code: 'Forbidden', details: { directory: 'scion-e2e' } } });
    expect(await scion.run('storeRelease')).toBe(1);
    expect(await scion.attempt('storeHold', where)).toMatchObject({ ok: true });
  });

  test('a runtime holding the store makes a second runtime fail with Forbidden', async ({ scion }) => {
    await scion.run('storeCommit', where, [A], { hold: true });
    const second = await scion.attempt('storeVerify', where, [A]);
    expect(second).toMatchObject({ ok: false, error: { code: 'Forbidden' } });
  });

  test('another directory opens while the first is held', async ({ scion }) => {
    await scion.run('storeHold', where);
    expect(await scion.attempt('storeHold', { directory: 'other' })).toMatchObject({ ok: true });
  });

  test('a store open in one tab is Forbidden in another tab of the same origin', async ({ scion, context }) => {
    await scion.run('storeHold', where);
    const other = new ScionPage(await context.newPage());
    await other.open();
    expect(await other.attempt('storeHold', where)).toMatchObject({ ok: false, error: { code: 'Forbidden' } });
    await scion.run('storeRelease');
    expect(await other.attempt('storeHold', where)).toMatchObject({ ok: true });
    await other.run('storeRelease');
  });
});
