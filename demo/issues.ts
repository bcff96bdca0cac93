// The demo app's data: an issue tracker in SQLite with an FTS5 index, and a generated sample large
// enough (~20 MB) that lazy, partial sync shows: a list or a search touches a few pages, not the file.
import type { Database, Transaction } from '../src/client/index.ts';

export interface Issue {
  id: number;
  title: string;
  status: 'open' | 'closed';
  author: string;
  created_at: number;
  /** Search results only: the matching part of the body, with hits between ⟦ and ⟧. */
  snip?: string;
}

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS issue(
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  body TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  author TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS issue_status ON issue(status, id);
CREATE VIRTUAL TABLE IF NOT EXISTS issue_fts USING fts5(title, body, content='issue', content_rowid='id');
CREATE TRIGGER IF NOT EXISTS issue_ai AFTER INSERT ON issue BEGIN
  INSERT INTO issue_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER IF NOT EXISTS issue_ad AFTER DELETE ON issue BEGIN
  INSERT INTO issue_fts(issue_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER IF NOT EXISTS issue_au AFTER UPDATE OF title, body ON issue BEGIN
  INSERT INTO issue_fts(issue_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
  INSERT INTO issue_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;`;

/** Rows (one) while the schema exists: watched until a pull or clone brings it to a fresh clone of an empty remote. */
export const SCHEMA_PROBE = "SELECT 1 AS yes FROM sqlite_schema WHERE type = 'table' AND name = 'issue'";

/** Whether the schema exists (a fresh clone of an empty remote has none yet). */
export async function hasSchema(db: Database): Promise<boolean> {
  return (await db.query(SCHEMA_PROBE)).length > 0;
}

export type StatusFilter = 'all' | 'open' | 'closed';

/** A query the app watches: its SQL and parameters. */
export interface IssueQuery {
  readonly sql: string;
  readonly params: Readonly<Record<string, string | number>>;
}

/**
 * The issues shown for `text` and `filter`. Without text, the newest issues: reads only the right
 * edge of the table's B-tree (no count(*), which would read every page). With text, a full-text search
 * over titles and bodies, newest matches first: FTS5 walks the doclists from the largest rowid and
 * stops after `limit`, and the rows it then reads sit together at the table's end, so a search touches
 * a few frames (best-match-first ranking would read rows from all over the file).
 */
export function issuesQuery(text: string, filter: StatusFilter, limit = 20): IssueQuery | undefined {
  const status: Record<string, string> = filter === 'all' ? {} : { status: filter };
  if (!text) {
    const where = filter === 'all' ? '' : 'WHERE status = :status';
    return { sql: `SELECT id, title, status, author, created_at FROM issue ${where} ORDER BY id DESC LIMIT :limit`, params: { limit, ...status } };
  }
  const match = ftsQuery(text);
  if (!match) return undefined;
  const where = filter === 'all' ? '' : 'AND i.status = :status';
  return {
    sql: `SELECT i.id, i.title, i.status, i.author, i.created_at, snippet(issue_fts, 1, '⟦', '⟧', '…', 10) AS snip
       FROM issue_fts JOIN issue i ON i.id = issue_fts.rowid
      WHERE issue_fts MATCH :match ${where} ORDER BY issue_fts.rowid DESC LIMIT :limit`,
    params: { match, limit, ...status },
  };
}

/** User text → an FTS5 query: each word quoted (no operator injection) and matched as a prefix. */
export function ftsQuery(text: string): string {
  return (text.match(/[\p{L}\p{N}_]+/gu) ?? []).map((w) => `"${w}"*`).join(' ');
}

/** The largest id: "about how many issues" without reading the whole table. */
export const MAX_ID = 'SELECT max(id) AS n FROM issue';

export async function maxIssueId(db: Database): Promise<number> {
  const [row] = await db.query<{ n: number | null }>(MAX_ID);
  return row?.n ?? 0;
}

/**
 * The app's writes as mutators, so a device that wrote offline rebases onto the other's pushes instead
 * of diverging: they run again on the new base (an added issue then gets the next free number there).
 */
export function registerIssueMutators(db: Database): void {
  db.mutator('addIssue', async (tx, a: { title: string; body: string; author: string; createdAt: number }) => {
    const r = await tx.exec('INSERT INTO issue(title, body, author, created_at) VALUES (?, ?, ?, ?)', [a.title, a.body, a.author, a.createdAt]);
    return Number(r.lastInsertRowid);
  });
  db.mutator('toggleIssue', async (tx, a: { id: number }) => {
    await tx.exec("UPDATE issue SET status = CASE status WHEN 'open' THEN 'closed' ELSE 'open' END WHERE id = ?", [a.id]);
  });
}

export function addIssue(db: Database, title: string, body: string, author: string): Promise<number> {
  return db.mutate<number>('addIssue', { title, body, author, createdAt: Date.now() });
}

export async function toggleIssue(db: Database, id: number): Promise<void> {
  await db.mutate('toggleIssue', { id });
}

// ── Sample data ───────────────────────────────────────────────────────────────────────────

const AREAS = ['sync', 'search', 'editor', 'offline mode', 'login', 'export', 'settings', 'notifications', 'attachments', 'sidebar', 'history', 'sharing'];
const PROBLEMS = ['crashes', 'hangs', 'loses changes', 'is slow', 'shows stale data', 'fails silently', 'flickers', 'duplicates rows', 'ignores the setting', 'logs out'];
const CONTEXTS = ['on Safari', 'after a reload', 'with two tabs open', 'on a slow network', 'when offline', 'on first launch', 'with a large workspace', 'after an update', 'on mobile', 'behind a proxy'];
const AUTHORS = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara', 'dennis', 'frances', 'edsger', 'radia'];
const WORDS = (
  'page volume commit snapshot remote local bucket frame segment cache index query table row column cursor ' +
  'worker thread lock transaction journal checkpoint replica leader follower network request response retry ' +
  'timeout latency throughput memory disk quota storage browser window document element button input form ' +
  'keyboard mouse scroll render layout paint style font color theme icon image upload download progress ' +
  'error warning message dialog toast banner status badge label filter sort search result match highlight ' +
  'user account session token permission role team project milestone release version branch merge conflict ' +
  'draft comment reply thread mention reaction attachment preview thumbnail zoom print share link copy paste ' +
  'undo redo history revision diff patch backup restore import export archive delete rename move duplicate'
).split(' ');

/** A deterministic pseudo-random generator (mulberry32), so every sample has the same words. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
/** Skewed towards the list's start, as word frequencies are: the last words are rare. */
const pickSkewed = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() ** 3 * xs.length)] as T;

function sentence(r: () => number): string {
  const n = 8 + Math.floor(r() * 10);
  const words = Array.from({ length: n }, () => pickSkewed(r, WORDS));
  const s = words.join(' ');
  return `${s[0]?.toUpperCase()}${s.slice(1)}.`;
}

/** One generated issue; `i` seeds it, so issue i is the same in every sample. */
export function sampleIssue(i: number): { title: string; body: string; status: string; author: string; createdAt: number } {
  const r = rng(i * 7919 + 1);
  const area = pick(r, AREAS);
  const title = `${area[0]?.toUpperCase()}${area.slice(1)} ${pick(r, PROBLEMS)} ${pick(r, CONTEXTS)}`;
  const body = Array.from({ length: 6 + Math.floor(r() * 6) }, () => sentence(r)).join(' ');
  return { title, body, status: r() < 0.3 ? 'closed' : 'open', author: pick(r, AUTHORS), createdAt: Date.UTC(2024, 0, 1) + i * 3_600_000 };
}

/** Rows per INSERT statement: one message to the worker per batch. */
const BATCH = 200;

/**
 * Inserts generated issues until roughly `megabytes` of database (text plus its FTS index), in one
 * transaction: one local commit. Reports progress after each batch.
 */
export async function loadSample(db: Database, megabytes: number, onProgress: (done: number, total: number) => void): Promise<number> {
  // ~1.25 KB of database per issue: the row (~0.9 KB of text), its share of the FTS index and B-tree overhead.
  const total = Math.max(BATCH, Math.round((megabytes * 1024 * 1024) / 1250 / BATCH) * BATCH);
  const first = (await maxIssueId(db)) + 1;
  await db.transaction(async (tx: Transaction) => {
    for (let done = 0; done < total; done += BATCH) {
      const n = Math.min(BATCH, total - done);
      const params: (string | number)[] = [];
      for (let k = 0; k < n; k++) {
        const s = sampleIssue(first + done + k);
        params.push(s.title, s.body, s.status, s.author, s.createdAt);
      }
      await tx.exec(`INSERT INTO issue(title, body, status, author, created_at) VALUES ${Array(n).fill('(?, ?, ?, ?, ?)').join(', ')}`, params);
      onProgress(done + n, total);
    }
  });
  return total;
}
