import sqlite3InitModule, { type Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { FRAME_MAX_PAGES, PAGE_SIZE, type Page, type PageIdx } from '../core/index.ts';
import { LEAF_FRAME_PAGES, planSqliteFrames } from './frame-planner.ts';

let sqlite3: Sqlite3Static;
beforeAll(async () => {
  sqlite3 = await sqlite3InitModule();
});

interface StatRow { name: string; path: string; pageno: number; pagetype: string }

/** A database with small rows, rows that spill into overflow chains, indexes, a tiny table and sqlite_stat1; its pages and SQLite's own page map (dbstat). */
function sampleDatabase() {
  const db = new sqlite3.oo1.DB(':memory:');
  db.exec(`PRAGMA page_size=4096;
    CREATE TABLE small(id INTEGER PRIMARY KEY, v TEXT);
    CREATE TABLE big(id INTEGER PRIMARY KEY, body BLOB);
    CREATE INDEX small_v ON small(v);
    CREATE TABLE tiny(k TEXT PRIMARY KEY, v);
    INSERT INTO tiny VALUES ('a', 1);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO small(v) SELECT printf('value %08d %s', i, hex(randomblob(20))) FROM n;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) INSERT INTO big(body) SELECT randomblob(3000 + (i % 7) * 2500) FROM n;
    ANALYZE;`);
  const stat = db.exec({ sql: 'SELECT name, path, pageno, pagetype FROM dbstat', rowMode: 'object', returnValue: 'resultRows' }) as unknown as StatRow[];
  const roots = db.exec({ sql: 'SELECT name, rootpage FROM sqlite_schema WHERE rootpage > 0', rowMode: 'array', returnValue: 'resultRows' }) as [string, number][];
  const bytes = sqlite3.capi.sqlite3_js_db_export(db);
  db.close();
  const pages = new Map<PageIdx, Page>();
  for (let i = 0; i < bytes.byteLength / PAGE_SIZE; i++) pages.set((i + 1) as PageIdx, bytes.slice(i * PAGE_SIZE, (i + 1) * PAGE_SIZE) as Page);
  return { pages, stat, roots };
}

describe('planSqliteFrames', () => {
  it('puts the schema, every root page and every interior page in the hot frames', () => {
    const { pages, stat, roots } = sampleDatabase();
    const plan = planSqliteFrames(pages);
    const hot = new Set(plan.frames.slice(0, plan.hotFrames).flat());
    for (const row of stat.filter((r) => r.pagetype === 'internal' || r.name === 'sqlite_schema')) expect(hot.has(row.pageno as PageIdx), `${row.name} page ${row.pageno}`).toBe(true);
    for (const [name, root] of roots) expect(hot.has(root as PageIdx), `root of ${name}`).toBe(true);
    expect(roots.map(([n]) => n)).toContain('sqlite_stat1');
    // Nothing else: leaves that are no root stay out of the hot frames.
    const otherLeaves = stat.filter((r) => r.pagetype === 'leaf' && r.name !== 'sqlite_schema' && !roots.some(([, root]) => root === r.pageno));
    expect(otherLeaves.length).toBeGreaterThan(10);
    for (const row of otherLeaves) expect(hot.has(row.pageno as PageIdx), `leaf ${row.pageno} of ${row.name}`).toBe(false);
  });

  it('keeps each row\'s overflow pages in the frame of its leaf, in frames of a few pages', () => {
    const { pages, stat } = sampleDatabase();
    const plan = planSqliteFrames(pages);
    const frameOf = new Map<number, number>();
    plan.frames.forEach((f, i) => f.forEach((idx) => frameOf.set(idx, i)));
    expect(frameOf.size).toBe(pages.size);
    // dbstat names an overflow page by its leaf's path, the cell (3 hex digits), "+" and its place in the chain.
    const byPath = new Map(stat.filter((r) => r.name === 'big').map((r) => [r.path, r]));
    const overflow = stat.filter((r) => r.name === 'big' && r.pagetype === 'overflow');
    expect(overflow.length).toBeGreaterThan(200);
    for (const o of overflow) {
      const leaf = byPath.get(o.path.slice(0, o.path.indexOf('+') - 3)) as StatRow;
      expect(frameOf.get(o.pageno), `overflow ${o.pageno} of leaf ${leaf.pageno}`).toBe(frameOf.get(leaf.pageno));
    }
    for (const f of plan.frames.slice(plan.hotFrames)) expect(f.length).toBeLessThanOrEqual(16);
    const leafFrames = plan.frames.slice(plan.hotFrames).filter((f) => f.every((idx) => stat.some((r) => r.pageno === idx && r.name.startsWith('small'))));
    expect(leafFrames.length).toBeGreaterThan(5);
    for (const f of leafFrames) expect(f.length).toBeLessThanOrEqual(LEAF_FRAME_PAGES);
  });

  it('places pages that are no B-tree page (an empty or garbage page) like any other, within the frame limit', () => {
    const pages = new Map<PageIdx, Page>();
    for (let i = 1; i <= 200; i++) pages.set(i as PageIdx, new Uint8Array(PAGE_SIZE).fill(i % 3 === 0 ? 0x0d : 0xff) as Page);
    const plan = planSqliteFrames(pages);
    expect(plan.frames.flat().sort((a, b) => a - b)).toEqual([...pages.keys()]);
    for (const f of plan.frames) expect(f.length).toBeLessThanOrEqual(FRAME_MAX_PAGES);
  });
  it('reads each page once, apart from the schema\'s (a large push reads its pages from the store)', () => {
    const { pages, stat } = sampleDatabase();
    const reads = new Map<PageIdx, number>();
    const counted = { size: pages.size, has: (idx: PageIdx) => pages.has(idx), keys: () => pages.keys(), get: (idx: PageIdx) => {
      reads.set(idx, (reads.get(idx) ?? 0) + 1);
      return pages.get(idx);
    } };
    expect(planSqliteFrames(counted)).toEqual(planSqliteFrames(pages));
    const schema = new Set(stat.filter((r) => r.name === 'sqlite_schema').map((r) => r.pageno));
    for (const [idx, n] of reads) expect(n, `reads of page ${idx}`).toBeLessThanOrEqual(schema.has(idx) ? 3 : 1);
  });
});
