// Peers: the read-only HTTP range-read VFS (bench/httpvfs.ts), one page per request or with sql.js-httpvfs
// read heads. Pages are cached for the life of the connection; each openRemote starts from nothing.
import { installHttpVfs, type HttpVfs } from '../httpvfs.ts';
import type { BenchTarget, TargetFactory } from './target.ts';

function createHttpVfsTarget(name: string, readAhead: boolean): TargetFactory {
  return (sqlite3): BenchTarget => {
    let vfs: HttpVfs | undefined;
    return {
      name,
      async openRemote(dataset) {
        vfs ??= installHttpVfs(sqlite3, { name: readAhead ? 'bench-http-readahead' : 'bench-http', readAhead });
        vfs.resetTraffic();
        performance.mark('vfs installed');
        const db = new sqlite3.oo1.DB({ filename: dataset.url, flags: 'r', vfs: vfs.name });
        performance.mark('db opened');
        return db;
      },
      // Synchronous XHRs, one at a time: every request is a sequential round trip.
      traffic: () => {
        const t = vfs?.traffic() ?? { requests: 0, bytes: 0, spans: [] };
        return { ...t, roundTrips: t.requests };
      },
    };
  };
}

export const createHttpVfsPageTarget = createHttpVfsTarget('http range VFS, 1 page/request', false);
export const createHttpVfsReadAheadTarget = createHttpVfsTarget('http range VFS + read-ahead', true);
