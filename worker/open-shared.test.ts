// Opening databases shared by name, through the worker API in Node (memory stores, one in-memory
// bucket): what each device gets for new and existing local databases, online and offline.
import sqlite3InitModule, { type Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { RemoteKey, SharedName, type ErrorCode } from '../src/core/index.ts';
import { MemoryRemote } from '../src/remote/index.ts';
import { WorkerApi } from './api.ts';
import { BrowserNetwork } from './network.ts';
import type { DatabaseStatus, Row, Wire } from '../src/protocol/index.ts';
import { value } from './testing.ts';

let sqlite3: Sqlite3Static;
beforeAll(async () => {
  sqlite3 = await sqlite3InitModule();
});

const codeOf = async (w: Promise<Wire<unknown>>): Promise<ErrorCode | 'ok'> => {
  const r = await w;
  return r.ok ? 'ok' : r.error.code;
};

async function device(remote: MemoryRemote) {
  const api = new WorkerApi({ loadSqlite: async () => sqlite3, makeRemote: () => remote, network: new BrowserNetwork({}) });
  value(await api.init({ storage: 'memory' }));
  return {
    api,
    open: async (name: string, options = {}) => value(await api.open(name, options)).handle,
    exec: async (h: number, sql: string) => value(await api.exec(h, sql)),
    query: async (h: number, sql: string) => value(await api.query(h, sql)) as Row[],
    status: async (h: number) => value(await api.status(h)) as DatabaseStatus,
  };
}

describe('scion.open(name, { shared: true })', () => {
  it('the first device creates the name; the next ones clone its volume, also before anything was pushed', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const ha = await a.open('notes', { shared: true });
    const { remote: vid } = await a.status(ha);
    expect(remote.objects.has(RemoteKey.name(SharedName.parse('notes')))).toBe(true);
    // Nothing pushed yet: a second device gets an empty database on the same volume.
    const b = await device(remote);
    const hb = await b.open('notes', { shared: true });
    expect(await b.status(hb)).toMatchObject({ remote: vid, pageCount: 0 });
    await a.exec(ha, 'CREATE TABLE note (body TEXT); INSERT INTO note VALUES (\'hello\')');
    expect(value(await a.api.push(ha))).toMatchObject({ outcome: 'pushed' });
    value(await b.api.pull(hb));
    expect(await b.query(hb, 'SELECT body FROM note')).toEqual([{ body: 'hello' }]);
    // A third device clones what was pushed.
    const c = await device(remote);
    const hc = await c.open('notes', { shared: true });
    expect(await c.query(hc, 'SELECT body FROM note')).toEqual([{ body: 'hello' }]);
  });

  it('an existing local database on another volume is GraftRemoteMismatch; a free name publishes it', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    await a.open('notes', { shared: true });
    const b = await device(remote);
    const hb = await b.open('notes'); // a local database of that name, not the shared one
    await b.exec(hb, 'CREATE TABLE mine (x)');
    expect(await codeOf(b.api.open('notes', { shared: true }))).toBe('GraftRemoteMismatch');
    expect(await b.query(hb, 'SELECT count(*) AS n FROM mine')).toEqual([{ n: 0 }]);
    // Publishing: the name "diary" is free, so opening the existing database shared creates it for its volume.
    const hd = await b.open('diary');
    const { remote: diary } = await b.status(hd);
    await b.open('diary', { shared: true });
    const c = await device(remote);
    expect(await c.status(await c.open('diary', { shared: true }))).toMatchObject({ remote: diary });
  });

  it('offline: an existing database opens as it is, a new one fails with RemoteUnavailable and creates nothing', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const ha = await a.open('notes', { shared: true });
    remote.setOnline(false);
    expect(await a.status(await a.open('notes', { shared: true }))).toMatchObject({ remote: (await a.status(ha)).remote });
    expect(await codeOf(a.api.open('other', { shared: true }))).toBe('RemoteUnavailable');
    expect(value(await a.api.tags()).map((t) => t.name)).toEqual(['notes']);
  });

  it('refuses shared with clone, names that cannot be shared, and create: false for a name nobody created', async () => {
    const remote = new MemoryRemote();
    const a = await device(remote);
    const ha = await a.open('notes', { shared: true });
    expect(await codeOf(a.api.open('x', { shared: true, clone: (await a.status(ha)).remote }))).toBe('InvalidInput');
    expect(await codeOf(a.api.open('.hidden', { shared: true }))).toBe('InvalidInput');
    expect(await codeOf(a.api.open('nobody', { shared: true, create: false }))).toBe('TagNotFound');
    expect(remote.objects.has(RemoteKey.name(SharedName.parse('nobody')))).toBe(false);
  });
});
