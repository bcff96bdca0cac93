// The worker calls the demo uses to show what sync does: network events, the offline switch, page maps.
import sqlite3InitModule, { type Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { RemoteKey, type LSN, type SegmentAddress, type SegmentId, type VolumeId } from '../src/core/index.ts';
import { MemoryRemote, type Remote, type RemoteRequestEvent } from '../src/remote/index.ts';
import { WorkerApi } from './api.ts';
import { BrowserNetwork } from './network.ts';
import type { NetworkEvent, PageMap, SyncStatusEvent, Wire } from '../src/protocol/index.ts';
import { value } from './testing.ts';

let sqlite3: Sqlite3Static;
beforeAll(async () => {
  sqlite3 = await sqlite3InitModule();
});

const code = async (w: Promise<Wire<unknown>>) => {
  const r = await w;
  return r.ok ? 'ok' : r.error.code;
};

/** A worker API in Node on memory stores, reaching the shared bucket through a view that reports requests as S3Remote does. */
async function device(bucket: MemoryRemote) {
  const network = new BrowserNetwork({});
  const api = new WorkerApi({
    loadSqlite: async () => sqlite3,
    makeRemote: (_, onRequest) => reporting(bucket, onRequest),
    network,
  });
  value(await api.init({ storage: 'memory' }));
  const events: NetworkEvent[] = [];
  value(await api.subscribeNetwork((e) => events.push(e)));
  return { api, events, network };
}

/** The bucket's methods, each call reported by its layout key, as S3Remote reports it. */
function reporting(bucket: MemoryRemote, onRequest: (e: RemoteRequestEvent) => void): Remote {
  const report = (name: string, args: unknown[], result: unknown) => {
    const key = name === 'putSegment' ? RemoteKey.segment({ sid: args[1] as SegmentId, home: args[0] as VolumeId }) : name.includes('Segment') ? RemoteKey.segment(args[0] as SegmentAddress) : name.includes('Commit') ? RemoteKey.commit(args[0] as VolumeId, args[1] as LSN) : String(args[0]);
    const body = (name.startsWith('put') ? args.at(-2) : result) as Uint8Array | undefined;
    onRequest({ method: name.startsWith('put') ? 'PUT' : 'GET', key, status: result === undefined ? 404 : 200, bytes: body?.byteLength ?? 0, ms: 0, sync: name.endsWith('Sync') });
  };
  return new Proxy(bucket, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string' || !/^(get|put)/.test(prop)) return typeof v === 'function' ? v.bind(target) : v;
      return (...args: unknown[]) => {
        const r = (v as (...a: unknown[]) => unknown).apply(target, args);
        if (r instanceof Promise) return r.then((x) => (report(prop, args, x), x));
        report(prop, args, r);
        return r;
      };
    },
  });
}

const count = (map: PageMap) => Object.fromEntries(Object.entries(map.counts).filter(([, n]) => n > 0));

describe('inspection calls', () => {
  it('page maps move from missing to cached as reads fetch frames, and show unpushed writes; network events name each request', async () => {
    const bucket = new MemoryRemote();
    const a = await device(bucket);
    const ha = value(await a.api.open('big')).handle;
    value(await a.api.exec(ha, 'CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)'));
    // Bodies that do not compress away, so the push uploads a segment (a small one travels in its commit).
    value(await a.api.exec(ha, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO t SELECT i, hex(randomblob(100)) FROM n"));
    const before = value(await a.api.pageMap(ha));
    expect(count(before)).toEqual({ unpushed: before.pageCount });
    value(await a.api.push(ha));
    const pushed = value(await a.api.pageMap(ha));
    expect(count(pushed)).toEqual({ local: pushed.pageCount });
    expect(a.events.map((e) => `${e.method} ${e.key.includes('/segments/') ? 'segments' : 'other'}`)).toContain('PUT segments');
    expect(a.events.every((e) => !e.offline && e.status !== 0)).toBe(true);

    const b = await device(bucket);
    const hb = value(await b.api.open('big', { clone: value(await a.api.status(ha)).remote })).handle;
    const cold = value(await b.api.pageMap(hb));
    expect(cold.pageCount).toBe(pushed.pageCount);
    expect(cold.counts.missing).toBeGreaterThan(cold.pageCount / 2);
    expect(cold.legend[cold.states[0] as number]).toBe('cached'); // page 1: in the hot frame a clone fetches
    expect(value(await b.api.query(hb, 'SELECT length(body) AS n FROM t WHERE id = 2999'))).toEqual([{ n: 200 }]);
    const warm = value(await b.api.pageMap(hb));
    expect(warm.counts.cached).toBeGreaterThan(cold.counts.cached);
    expect(warm.counts.missing).toBeLessThan(cold.counts.missing);
    expect(b.events.some((e) => e.method === 'GET' && e.key.includes('/segments/') && e.bytes > 0)).toBe(true);

    value(await b.api.exec(hb, 'UPDATE t SET body = ? WHERE id = 2999', ['y']));
    const written = value(await b.api.pageMap(hb));
    expect(written.counts.unpushed).toBeGreaterThan(0);
    expect(written.lsns[written.states.indexOf(written.legend.indexOf('unpushed'))]).toBe(1); // B's first local commit
  });

  it('setOffline refuses bucket requests inside the worker: unfetched pages fail with PageNotLocal, push with RemoteUnavailable, autosync pauses', async () => {
    const bucket = new MemoryRemote();
    const a = await device(bucket);
    const ha = value(await a.api.open('big')).handle;
    value(await a.api.exec(ha, 'CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL)'));
    value(await a.api.exec(ha, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO t SELECT i, printf('%.200c', 'x') FROM n"));
    value(await a.api.push(ha));

    const b = await device(bucket);
    const hb = value(await b.api.open('big', { clone: value(await a.api.status(ha)).remote })).handle;
    const syncEvents: SyncStatusEvent[] = [];
    value(await b.api.subscribeSyncStatus(hb, (e) => syncEvents.push(e)));
    // Read the last rows while online: an insert at the end then needs no other page.
    value(await b.api.query(hb, 'SELECT * FROM t WHERE id = 3000'));
    value(await b.api.setOffline(true));
    expect(b.network.online).toBe(false);
    expect(await code(b.api.query(hb, 'SELECT count(*) FROM t'))).toBe('PageNotLocal');
    value(await b.api.exec(hb, 'INSERT INTO t VALUES (5000, ?)', ['written offline']));
    expect(await code(b.api.push(hb))).toBe('RemoteUnavailable');
    expect(b.events.at(-1)).toMatchObject({ status: 0, offline: true, bytes: 0 });
    value(await b.api.setAutosync(hb, { intervalMs: 10, afterCommitMs: 10 }));
    expect(syncEvents.at(-1)?.state).toBe('offline');

    value(await b.api.setOffline(false));
    await expect.poll(async () => value(await b.api.status(hb)).state, { timeout: 5_000 }).toBe('in-sync');
    expect(value(await b.api.query(hb, 'SELECT count(*) AS n FROM t'))).toEqual([{ n: 3001 }]);
    value(await b.api.shutdown());
  });
});
