// The real OpfsStore + IdbCatalog + Runtime in a dedicated worker: durability across reloads, torn and
// corrupt log tails, a large commit, and the one-store-per-directory lock. Scenarios: e2e/scenarios/opfs-store.ts.
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

test.describe('torn final record', () => {
  // Where a crash during the append of commit B (from byte `a` to byte `b`) could leave the log's end.
  const cuts: [string, (a: number, b: number) => number][] = [
    ['inside its record header', (a) => a + 10],
    ['inside its meta', (a) => a + 24],
    ['inside its pages', (a, b) => Math.floor((a + b) / 2)],
    ['one byte short of its end', (_a, b) => b - 1],
  ];
  for (const [where_, cut] of cuts) {
    test(`a log cut ${where_} reopens at the previous LSN and takes new commits that survive a reload`, async ({ scion }) => {
      const { vid, commits } = await scion.run('storeCommit', where, [A, B]);
      const [a, b] = commits.map((c) => c.fileBytes) as [number, number];
      expect(commits.map((c) => c.lsn)).toEqual([1, 2]);
      expect(await scion.run('logFileSize', where)).toBe(b);
      const size = cut(a, b);
      expect(await scion.run('logTruncate', where, size)).toBe(size);

      const reopened = await scion.run('storeVerify', where, [A]);
      expect(reopened).toMatchObject({ vid, latestLsn: 1, pageCount: 8, fileBytes: a, commits: 1 });
      expect(reopened.tailDropped).toEqual([{ offset: a, bytes: size - a, reason: expect.any(String) }]);
      expectPagesIntact(reopened);
      expect(await scion.run('logFileSize', where)).toBe(a);

      const next = await scion.run('storeCommit', where, [C]);
      expect(next.commits.map((c) => c.lsn)).toEqual([2]);
      await scion.reload();
      const final = await scion.run('storeVerify', where, [A, C]);
      expect(final).toMatchObject({ vid, latestLsn: 2, pageCount: 10, tailDropped: [] });
      expectPagesIntact(final);
    });
  }

  test('a flipped byte in the last record\'s pages drops that record at reopen', async ({ scion }) => {
    const { commits } = await scion.run('storeCommit', where, [A, B]);
    const [a, b] = commits.map((c) => c.fileBytes) as [number, number];
    await scion.run('logFlipByte', where, b - 1);

    const reopened = await scion.run('storeVerify', where, [A]);
    expect(reopened).toMatchObject({ latestLsn: 1, fileBytes: a });
    expect(reopened.tailDropped).toEqual([{ offset: a, bytes: b - a, reason: expect.stringMatching(/checksum/) }]);
    expectPagesIntact(reopened);
  });

  // A record header is magic "SREC" | type u8 | 3 reserved | metaLen u32 | pageCount u32 | crc u32 (src/local/log-store.ts).
  const header = (metaLen: number, pageCount: number) => {
    const h = new DataView(new ArrayBuffer(20));
    h.setUint32(0, 0x4345_5253, true);
    h.setUint8(4, 1);
    h.setUint32(8, metaLen, true);
    h.setUint32(12, pageCount, true);
    h.setUint32(16, 0xdead_beef, true);
    return Array.from(new Uint8Array(h.buffer));
  };
  const junk = (n: number, seed: number) => Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + 1) & 0xff);
  const tails: [string, number[]][] = [
    ['bytes without a record magic', junk(300, 1)],
    ['a record header cut short', header(40, 1).slice(0, 13)],
    ['a header promising more pages than follow', [...header(40, 3), ...junk(40 + PAGE, 2)]],
    ['a whole record with a wrong checksum', [...header(8, 0), ...junk(8, 3)]],
  ];
  for (const [what, bytes] of tails) {
    test(`${what} appended after a valid log are dropped at reopen`, async ({ scion }) => {
      const { commits } = await scion.run('storeCommit', where, [A, B]);
      const b = commits[1]?.fileBytes as number;
      expect(await scion.run('logAppend', where, bytes)).toBe(b + bytes.length);

      const reopened = await scion.run('storeVerify', where, [A, B]);
      expect(reopened).toMatchObject({ latestLsn: 2, fileBytes: b });
      expect(reopened.tailDropped).toEqual([{ offset: b, bytes: bytes.length, reason: expect.any(String) }]);
      expectPagesIntact(reopened);
      expect(await scion.run('logFileSize', where)).toBe(b);

      const next = await scion.run('storeCommit', where, [C]);
      expect(next.commits).toEqual([{ lsn: 3, fileBytes: expect.any(Number) }]);
      expect(next.commits[0]?.fileBytes).toBeGreaterThan(b);
      await scion.reload();
      const final = await scion.run('storeVerify', where, [A, B, C]);
      expect(final).toMatchObject({ latestLsn: 3, tailDropped: [] });
      expectPagesIntact(final);
    });
  }

  test('a damaged page in an earlier record is kept and fails only its own read, with Corrupt', async ({ scion }) => {
    const { commits } = await scion.run('storeCommit', where, [A, B]);
    const [a, b] = commits.map((c) => c.fileBytes) as [number, number];
    // A's record ends with its 8 pages in ascending order: page 1 starts 8 pages before its end.
    await scion.run('logFlipByte', where, a - 8 * PAGE + 100);

    const damaged = await scion.attempt('storeReadPage', where, 1);
    expect(damaged).toMatchObject({ ok: false, error: { code: 'Corrupt', details: { pageIdx: 1 } } });
    expect(await scion.run('storeReadPage', where, 2)).toEqual({ matchesSeed: A.seed });
    expect(await scion.run('storeReadPage', where, 12)).toEqual({ matchesSeed: B.seed });
    expect(await scion.run('logFileSize', where)).toBe(b);
  });
});

test('10,000 pages committed at once read back intact after a reload', async ({ scion }) => {
  test.slow();
  const pages: PageRange = { seed: 99, from: 1, to: 10_000 };
  const written = await scion.run('storeCommit', where, [pages]);
  expect(written.commits).toEqual([{ lsn: 1, fileBytes: expect.any(Number) }]);
  expect(written.commits[0]?.fileBytes).toBeGreaterThan(10_000 * PAGE);

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
