import type { Remote } from '../remote/index.ts';
import type { ReadStats } from '../protocol/index.ts';

/**
 * `remote` with every bucket request counted into `stats`: requests, bytes downloaded (frames,
 * commit records, hints) and bytes uploaded, whichever job made them (reads, push, pull, hydrate,
 * recovery). Listings and deletes (GC) count as requests only.
 */
export function countingRemote(remote: Remote, stats: ReadStats): Remote {
  const down = <T extends Uint8Array | undefined>(bytes: T): T => {
    stats.bytesFetched += bytes?.byteLength ?? 0;
    return bytes;
  };
  const up = (bytes: Uint8Array): void => {
    stats.requests++;
    stats.bytesUploaded += bytes.byteLength;
  };
  return {
    getCommit: async (vid, lsn, options) => (stats.requests++, down(await remote.getCommit(vid, lsn, options))),
    putCommit: (vid, lsn, bytes, options) => (up(bytes), remote.putCommit(vid, lsn, bytes, options)),
    getLatest: async (vid, options) => (stats.requests++, down(await remote.getLatest(vid, options))),
    putLatest: (vid, bytes, options) => (up(bytes), remote.putLatest(vid, bytes, options)),
    putSegment: (vid, sid, bytes, options) => (up(bytes), remote.putSegment(vid, sid, bytes, options)),
    getName: async (name, options) => (stats.requests++, down(await remote.getName(name, options))),
    putName: (name, vid, bytes, options) => (up(bytes), remote.putName(name, vid, bytes, options)),
    getSegmentRange: async (at, range, options) => (stats.requests++, down(await remote.getSegmentRange(at, range, options))),
    getSegmentRangeSync: (at, range) => (stats.requests++, down(remote.getSegmentRangeSync(at, range))),
    prepare: async (requests, options) => remote.prepare?.(requests, options),
    list: (prefix, options) => (stats.requests++, remote.list(prefix, options)),
    deleteSegment: (at, options) => (stats.requests++, remote.deleteSegment(at, options)),
  };
}
