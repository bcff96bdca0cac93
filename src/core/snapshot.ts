import { invalidInput } from './errors.ts';
import { LSN } from './lsn.ts';
import { PageCount } from './page-idx.ts';
import { VolumeId } from './volume-id.ts';

/** The commits `start..=end` of one volume's log. */
export interface LsnRange {
  readonly vid: VolumeId;
  readonly start: LSN;
  readonly end: LSN;
}

/**
 * A consistent, immutable view of a volume: the newest version of each page found along `path`
 * (newest range first), limited to `pageCount` pages. Plain data: safe to send between threads as JSON.
 */
export interface Snapshot {
  readonly pageCount: PageCount;
  readonly path: readonly LsnRange[];
}

export const Snapshot = {
  EMPTY: { pageCount: PageCount.ZERO, path: [] } as Snapshot,

  /** The newest commit in the snapshot, or undefined for the empty snapshot. */
  head: (s: Snapshot): { vid: VolumeId; lsn: LSN } | undefined => {
    const first = s.path[0];
    return first && { vid: first.vid, lsn: first.end };
  },

  isEmpty: (s: Snapshot): boolean => s.path.length === 0,

  equals(a: Snapshot, b: Snapshot): boolean {
    return (
      a.pageCount === b.pageCount &&
      a.path.length === b.path.length &&
      a.path.every((r, i) => {
        const o = b.path[i];
        return o !== undefined && r.vid === o.vid && r.start === o.start && r.end === o.end;
      })
    );
  },

  /** Short human form for logs: `v1a2b…[3..=7] → v9f8e…[1..=2] (12 pages)`. */
  format(s: Snapshot): string {
    if (s.path.length === 0) return 'empty';
    const ranges = s.path.map((r) => `${r.vid.slice(0, 8)}…[${r.start}..=${r.end}]`).join(' → ');
    return `${ranges} (${s.pageCount} pages)`;
  },

  /** Validates a snapshot that crossed a boundary (JSON, a worker message). Throws InvalidInput. */
  parse(input: unknown): Snapshot {
    const o = input as { pageCount?: unknown; path?: unknown } | null;
    if (typeof o !== 'object' || o === null || !Array.isArray(o.path) || typeof o.pageCount !== 'number') {
      throw invalidInput('Not a snapshot: expected { pageCount, path: [{ vid, start, end }] }.');
    }
    const path = o.path.map((r: { vid?: unknown; start?: unknown; end?: unknown }) => {
      const range = { vid: VolumeId.parse(r?.vid as string), start: LSN.parse(typeof r?.start === 'number' ? r.start : NaN), end: LSN.parse(typeof r?.end === 'number' ? r.end : NaN) };
      if (range.end < range.start) throw invalidInput(`Not a snapshot: range ${range.start}..=${range.end} is backwards.`);
      return range;
    });
    return { pageCount: PageCount.parse(o.pageCount), path };
  },
} as const;
