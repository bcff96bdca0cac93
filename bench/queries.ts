// The queries run against the issue-tracker dataset (bench/dataset.ts). Shared by Node (which computes the
// expected results when it builds the file) and the bench worker (which checks every target returns the same rows).

export type ColdQueryName = 'point' | 'range' | 'listing' | 'fts';

export interface QuerySpec {
  /** Row label in the report. */
  label: string;
  sql: string;
  bind: (string | number)[];
  needsFts5?: boolean;
}

/** Parameters picked by the generator from the data it wrote (so quick and full datasets both have hits). */
export interface QueryParams {
  issueId: number;
  createdFrom: number;
  createdTo: number;
  projectId: number;
  ftsTerms: string;
}

/** The query timed by "open to first query": one point lookup. */
export function firstQuery(p: QueryParams): QuerySpec {
  return { label: 'first query (issue by id)', sql: 'SELECT id, title, status FROM issues WHERE id = ?', bind: [p.issueId] };
}

export function coldQueries(p: QueryParams): Record<ColdQueryName, QuerySpec> {
  return {
    point: {
      label: 'point lookup by key',
      sql: 'SELECT id, project_id, number, title, status, assignee_id, body FROM issues WHERE id = ?',
      bind: [p.issueId],
    },
    // Issues arrive in created_at order, so this range is rowid-contiguous: the case read-ahead is built for.
    range: {
      label: 'indexed range (created_at, 100 rows)',
      sql: 'SELECT id, title, status, created_at FROM issues WHERE created_at BETWEEN ? AND ? ORDER BY created_at',
      bind: [p.createdFrom, p.createdTo],
    },
    // The (project_id, status) index, newest first: 20 rows scattered over the table.
    listing: {
      label: 'index listing (project + status, 20 newest)',
      sql: `SELECT id, number, title, created_at FROM issues WHERE project_id = ? AND status = 'open'
            ORDER BY id DESC LIMIT 20`,
      bind: [p.projectId],
    },
    fts: {
      label: 'full-text search (FTS5, top 20 by rank)',
      sql: `SELECT i.id, i.title FROM issues_fts JOIN issues i ON i.id = issues_fts.rowid
            WHERE issues_fts MATCH ? ORDER BY rank LIMIT 20`,
      bind: [p.ftsTerms],
      needsFts5: true,
    },
  };
}

/** Order-sensitive FNV-1a over the rows' JSON: equal for equal results, cheap to compare across the wire. */
export function fingerprintRows(rows: unknown[][]): string {
  const text = JSON.stringify(rows, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return `${rows.length}:${(h >>> 0).toString(16).padStart(8, '0')}`;
}
