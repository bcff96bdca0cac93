// The benchmark's remote database: a seeded, deterministic issue tracker (users, projects, issues with 1–2 KiB
// bodies, three secondary indexes, an FTS5 index over title + body), built with sqlite-wasm in Node in a file on
// disk (bench/node-file-vfs.ts: a 1 GB database and VACUUM's copy of it do not fit in the 2 GiB wasm heap) and
// cached under bench/.data/ (git-ignored; Vite serves it with Range support at /bench/.data/<file>).
// CLI: `npx tsx bench/dataset.ts [megabytes]` builds it if missing and prints its description.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sqlite3InitModule, { type Database } from '@sqlite.org/sqlite-wasm';
import { coldQueries, fingerprintRows, firstQuery, type ColdQueryName, type QueryParams, type QuerySpec } from './queries.ts';
import { installNodeFileVfs } from './node-file-vfs.ts';
import { makeRandom } from './random.ts';

/** Bump when the schema, generator or queries change: the file name carries it, so a stale cache is never used. */
const GENERATOR_VERSION = 1;
const PAGE_SIZE = 4096;
const SEED = 0x5c10_0007;
const DATA_DIR = fileURLToPath(new URL('./.data/', import.meta.url));

/** What the browser side needs to know about a generated database; plain JSON. */
export interface DatasetInfo {
  /** Path served by the Vite dev server, e.g. `/bench/.data/issues-50mb-v1.db`. */
  urlPath: string;
  bytes: number;
  pageSize: number;
  issues: number;
  users: number;
  projects: number;
  hasFts5: boolean;
  generateMs: number;
  params: QueryParams;
  /** Each query with its expected result fingerprint, computed in Node on the same bytes. FTS only if compiled in. */
  queries: Partial<Record<ColdQueryName | 'first', ExpectedQuery>>;
}

export type ExpectedQuery = QuerySpec & { expected: string; rows: number };

// A small vocabulary with a skewed (roughly Zipfian) pick, so FTS doclists have realistic length spread.
const COMMON = `the a to of and in is it that for on with as this be not are by or from at when but if after
we should can will was have has which does do all any there they then than into out only also more`.split(/\s+/);
const TECH = `crash error timeout renderer worker cache index query page sync push pull commit branch merge
login session token upload download button dialog layout scroll font image video audio network proxy socket
retry latency memory leak thread lock deadlock database schema migration column table row cursor export import
install update version release build deploy config setting option flag locale timezone calendar invoice payment
email notification search filter sort pagination tooltip keyboard shortcut mobile tablet desktop browser safari
firefox chromium android linux windows macos printer pdf csv json xml yaml api endpoint webhook oauth password
permission role admin dashboard chart graph report metric alert log trace span regression flaky test fixture
benchmark profile cpu gpu disk quota storage backup restore snapshot volume segment frame checksum corrupt
encoding unicode emoji rtl accessibility contrast theme dark light animation transition modal drawer sidebar`.split(/\s+/);
const VERBS = `fails breaks hangs freezes leaks returns shows hides drops loses duplicates ignores rejects
overflows truncates flickers stalls crashes misreports corrupts blocks`.split(/\s+/);
const FIRST = `Ada Alan Grace Linus Barbara Ken Dennis Margaret Edsger Donald Frances Radia Guido Bjarne Anders
Sophie Lars Ines Tomas Yuki Mei Arjun Priya Omar Leila Jonas Elena Marco Chloe Pablo`.split(/\s+/);
const LAST = `Lovelace Turing Hopper Torvalds Liskov Thompson Ritchie Hamilton Dijkstra Knuth Allen Perlman
Rossum Stroustrup Hejlsberg Wilson Bak Costa Novak Sato Wang Patel Rao Haddad Nasser Berg Ivanova Rossi Martin Garcia`.split(/\s+/);
// Names of components, error codes and the like: 20,000 generated words picked log-uniformly (Zipf, s = 1), so
// most are rare, as in real text; full-text search on one of them touches a short doclist.
const SYLLABLES = `ka ro mi zu te len dor vex pli qua sen tor bal fi gun hex jo lum nar osk pe rin sul tav ur`.split(' ');
const RARE_WORDS = 20_000;
/** The generated word of rank `k` (0-based): the base-25 digits of k + 25 spelled as syllables, e.g. `mihex`. */
function rareWord(k: number): string {
  let n = k + SYLLABLES.length; // at least two syllables
  let word = '';
  while (n > 0) {
    word = `${SYLLABLES[n % SYLLABLES.length]}${word}`;
    n = Math.floor(n / SYLLABLES.length);
  }
  return word;
}

const STATUSES = ['open', 'open', 'in_progress', 'closed', 'closed', 'closed', 'wontfix'] as const;

function pick<T>(rand: () => number, list: readonly T[], skew = 1): T {
  return list[Math.floor(Math.pow(rand(), skew) * list.length)] as T;
}

function sentence(rand: () => number): string {
  const words: string[] = [];
  const n = 8 + Math.floor(rand() * 14);
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.45) words.push(pick(rand, COMMON, 2));
    else if (r < 0.75) words.push(pick(rand, TECH, 2.5));
    else if (r < 0.85) words.push(pick(rand, VERBS));
    else words.push(rareWord(Math.floor(Math.pow(RARE_WORDS, rand())) - 1));
  }
  const s = words.join(' ');
  return `${s[0]?.toUpperCase()}${s.slice(1)}.`;
}

function body(rand: () => number): string {
  const target = 1024 + Math.floor(rand() * 1024); // 1–2 KiB
  const parts: string[] = [];
  let length = 0;
  while (length < target) {
    const s = sentence(rand);
    parts.push(rand() < 0.15 ? `\n\n${s}` : s);
    length += s.length + 1;
  }
  return parts.join(' ');
}

const SCHEMA = `
  CREATE TABLE users(id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, name TEXT NOT NULL, email TEXT NOT NULL,
    created_at INTEGER NOT NULL);
  CREATE TABLE projects(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES users(id), created_at INTEGER NOT NULL);
  CREATE TABLE issues(id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id),
    number INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, priority INTEGER NOT NULL,
    reporter_id INTEGER NOT NULL REFERENCES users(id), assignee_id INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
  CREATE INDEX issues_project_status ON issues(project_id, status);
  CREATE INDEX issues_assignee ON issues(assignee_id);
  CREATE INDEX issues_created_at ON issues(created_at);`;
const FTS_SCHEMA = `CREATE VIRTUAL TABLE issues_fts USING fts5(title, body, content='issues', content_rowid='id');`;

const USERS = 5_000;
const PROJECTS = 200;
const EPOCH = 1_600_000_000; // 2020-09-13, seconds
const BATCH = 1_000;

function fill(db: Database, targetBytes: number, hasFts5: boolean): { issues: number } {
  const rand = makeRandom(SEED);
  db.transaction(() => {
    const u = db.prepare('INSERT INTO users VALUES (?, ?, ?, ?, ?)');
    for (let id = 1; id <= USERS; id++) {
      const name = `${pick(rand, FIRST)} ${pick(rand, LAST)}`;
      const login = `${name.toLowerCase().replace(' ', '.')}${id}`;
      u.bind([id, login, name, `${login}@example.com`, EPOCH + Math.floor(rand() * 3e7)]).stepReset();
    }
    u.finalize();
    const p = db.prepare('INSERT INTO projects VALUES (?, ?, ?, ?, ?)');
    for (let id = 1; id <= PROJECTS; id++) {
      p.bind([id, `P${id}`, `${pick(rand, TECH)} ${pick(rand, TECH)}`, 1 + Math.floor(rand() * USERS), EPOCH]).stepReset();
    }
    p.finalize();
  });

  const insert = db.prepare('INSERT INTO issues VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const numbers = new Array<number>(PROJECTS + 1).fill(0);
  let id = 0;
  let createdAt = EPOCH;
  const addBatch = (): void =>
    db.transaction(() => {
      for (let i = 0; i < BATCH; i++) {
        id++;
        // Projects are skewed (a few big ones), as in a real tracker.
        const project = 1 + Math.floor(Math.pow(rand(), 2) * PROJECTS);
        createdAt += Math.floor(rand() * 2_400);
        const title = `${pick(rand, TECH, 2)} ${pick(rand, VERBS)} ${pick(rand, COMMON)} ${pick(rand, TECH, 1.5)}`;
        const assignee = rand() < 0.2 ? null : 1 + Math.floor(Math.pow(rand(), 1.5) * USERS);
        insert.bind([id, project, ++(numbers[project] as number), title, body(rand), pick(rand, STATUSES),
          1 + Math.floor(rand() * 4), 1 + Math.floor(rand() * USERS), assignee, createdAt,
          createdAt + Math.floor(rand() * 1e6)]).stepReset();
      }
    });
  const fileBytes = (): number => (db.selectValue('PRAGMA page_count') as number) * PAGE_SIZE;
  // The FTS index is built in one go at the end (faster, compact segments). Reserve its expected share while
  // growing; if the finished file still falls short, drop the index, add a batch and build it again.
  const ftsShare = hasFts5 ? 0.32 : 0;
  for (;;) {
    do addBatch();
    while (fileBytes() < targetBytes * (1 - ftsShare));
    if (hasFts5) {
      db.exec(FTS_SCHEMA);
      db.exec(`INSERT INTO issues_fts(issues_fts) VALUES('rebuild'); INSERT INTO issues_fts(issues_fts) VALUES('optimize');`);
    }
    db.exec('ANALYZE; VACUUM;');
    if (fileBytes() >= targetBytes) break;
    if (hasFts5) db.exec('DROP TABLE issues_fts;');
  }
  insert.finalize();
  return { issues: id };
}

function fileName(megabytes: number): string {
  return `issues-${megabytes}mb-v${GENERATOR_VERSION}.db`;
}

function runQuery(db: Database, spec: QuerySpec): ExpectedQuery {
  const rows = db.selectArrays(spec.sql, spec.bind);
  return { ...spec, expected: fingerprintRows(rows), rows: rows.length };
}

/** Picks query parameters from the data: an issue 61% in, a 100-issue created_at window, a mid-sized project. */
function pickParams(db: Database, issues: number): QueryParams {
  const issueId = Math.max(1, Math.floor(issues * 0.61));
  const from = Math.max(1, Math.floor(issues * 0.37));
  const createdAt = (id: number): number => db.selectValue('SELECT created_at FROM issues WHERE id = ?', [id]) as number;
  return {
    issueId,
    createdFrom: createdAt(from),
    createdTo: createdAt(Math.min(issues, from + 99)),
    projectId: 12,
    ftsTerms: `${rareWord(40)} ${rareWord(90)}`,
  };
}

/** Builds the database of about `megabytes` MB (≥ that size) unless cached; returns its description. */
export async function ensureDataset(megabytes: number): Promise<DatasetInfo> {
  const name = fileName(megabytes);
  const dbPath = `${DATA_DIR}${name}`;
  const infoPath = `${dbPath}.json`;
  if (existsSync(dbPath) && existsSync(infoPath)) return JSON.parse(readFileSync(infoPath, 'utf8')) as DatasetInfo;

  const started = performance.now();
  const sqlite3 = await sqlite3InitModule();
  const vfs = installNodeFileVfs(sqlite3, 'node-file');
  mkdirSync(DATA_DIR, { recursive: true });
  // Built under a temporary name, then renamed: an interrupted run never leaves a truncated file that looks cached.
  const tmpPath = `${dbPath}.tmp`;
  rmSync(tmpPath, { force: true });
  const db = new sqlite3.oo1.DB({ filename: tmpPath, flags: 'c', vfs: vfs.name });
  try {
    // No rollback journal (a crash leaves only the .tmp file) and VACUUM's copy on disk, not in the wasm heap.
    db.exec(`PRAGMA page_size = ${PAGE_SIZE}; PRAGMA journal_mode = OFF; PRAGMA temp_store = FILE;`);
    const hasFts5 = (db.selectValues('PRAGMA compile_options') as string[]).includes('ENABLE_FTS5');
    db.exec(SCHEMA);
    const { issues } = fill(db, megabytes * 1e6, hasFts5);
    const params = pickParams(db, issues);
    const queries: DatasetInfo['queries'] = { first: runQuery(db, firstQuery(params)) };
    for (const [queryName, spec] of Object.entries(coldQueries(params)) as [ColdQueryName, QuerySpec][]) {
      if (!spec.needsFts5 || hasFts5) queries[queryName] = runQuery(db, spec);
    }
    db.close();
    const info: DatasetInfo = {
      urlPath: `/bench/.data/${name}`, bytes: statSync(tmpPath).size, pageSize: PAGE_SIZE, issues, users: USERS,
      projects: PROJECTS, hasFts5, generateMs: Math.round(performance.now() - started), params, queries,
    };
    renameSync(tmpPath, dbPath);
    writeFileSync(infoPath, `${JSON.stringify(info, null, 2)}\n`);
    return info;
  } finally {
    if (db.isOpen()) db.close();
    vfs.dispose();
  }
}

/** The dataset with its first query (the open-to-first-query workloads) and a label of its size. */
export async function ensureFirstQuery(megabytes: number): Promise<{ dataset: DatasetInfo; first: ExpectedQuery; size: string }> {
  const dataset = await ensureDataset(megabytes);
  const first = dataset.queries.first;
  if (!first) throw new Error('BUG: the dataset has no first query');
  return { dataset, first, size: `${(dataset.bytes / 1e6).toFixed(0)} MB database` };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const info = await ensureDataset(Number(process.argv[2] ?? 50));
  console.log(JSON.stringify(info, null, 2));
}
