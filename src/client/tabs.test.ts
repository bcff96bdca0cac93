// Multi-tab coordination in one process: each "tab" is a Scion instance with its own locks owner and
// channels on an in-process bus; a tab's worker is a WorkerApi behind a MessageChannel over one shared
// memory "disk" (MemoryDirectory + MemoryCatalog), held exclusively like an OPFS directory. Killing a tab
// drops its channels, locks and worker at once, as closing a browser tab does.
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerApi } from '../../worker/api.ts';
import { BrowserNetwork } from '../../worker/network.ts';
import { ScionError } from '../core/index.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../local/index.ts';
import { MemoryRemote, type Remote } from '../remote/index.ts';
import { HeldRemote } from '../remote/testing.ts';
import { Scion, type ChangeEvent, type Database, type Progress, type Transaction } from './index.ts';
import type { HostHooks } from './tab-host.ts';
import type { Channel, Locks, ToHost } from './tab-protocol.ts';
import type { TabDeps } from './tabs.ts';
import { abortAtRequest, rejection } from './testing.ts';

const sqlite3 = await sqlite3InitModule();

/** Web Locks in one process, with owners that can die. */
class FakeLocks {
  readonly #held = new Map<string, { owner: string; release: () => void }>();
  readonly #queues = new Map<string, { owner: string; grant: () => void }[]>();

  forOwner(owner: string): Locks {
    return { request: (name, options, callback) => this.#request(owner, name, options, callback) };
  }

  kill(owner: string): void {
    for (const q of this.#queues.values()) for (let i = q.length - 1; i >= 0; i--) if (q[i]?.owner === owner) q.splice(i, 1);
    for (const held of [...this.#held.values()]) if (held.owner === owner) held.release();
  }

  #request<T>(owner: string, name: string, options: LockOptions, callback: (lock: Lock | null) => Promise<T> | T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const grant = () => {
        const release = () => {
          if (this.#held.get(name)?.release !== release) return;
          this.#held.delete(name);
          this.#queues.get(name)?.shift()?.grant();
        };
        this.#held.set(name, { owner, release });
        Promise.resolve()
          .then(() => callback({ name, mode: 'exclusive' } as Lock))
          .then((v) => (release(), resolve(v)), (e: unknown) => (release(), reject(e)));
      };
      const queue = this.#queues.get(name) ?? [];
      this.#queues.set(name, queue);
      if (!this.#held.has(name) && queue.length === 0) return grant();
      const entry = { owner, grant };
      queue.push(entry);
      options.signal?.addEventListener('abort', () => {
        const i = queue.indexOf(entry);
        if (i >= 0) queue.splice(i, 1);
        reject(new DOMException('aborted', 'AbortError'));
      });
    });
  }
}

/** BroadcastChannel in one process: structured clones, delivered later, in order, to the other open channels of the name. */
class FakeBus {
  readonly #channels = new Map<string, Set<FakeChannel>>();

  channel(name: string, owner: string): Channel {
    const ch = new FakeChannel(this, name, owner);
    const set = this.#channels.get(name) ?? new Set();
    set.add(ch);
    this.#channels.set(name, set);
    return ch;
  }

  others(ch: FakeChannel): FakeChannel[] {
    return [...(this.#channels.get(ch.name) ?? [])].filter((o) => o !== ch);
  }

  remove(ch: FakeChannel): void {
    this.#channels.get(ch.name)?.delete(ch);
  }

  kill(owner: string): void {
    for (const set of this.#channels.values()) for (const ch of [...set]) if (ch.owner === owner) ch.close();
  }
}

class FakeChannel implements Channel {
  onmessage: ((ev: MessageEvent) => void) | null = null;
  closed = false;
  readonly bus: FakeBus;
  readonly name: string;
  readonly owner: string;

  constructor(bus: FakeBus, name: string, owner: string) {
    this.bus = bus;
    this.name = name;
    this.owner = owner;
  }

  postMessage(message: unknown): void {
    if (this.closed) return;
    const data = structuredClone(message);
    for (const other of this.bus.others(this)) {
      setTimeout(() => {
        if (!other.closed) other.onmessage?.({ data } as MessageEvent);
      }, 0);
    }
  }

  close(): void {
    this.closed = true;
    this.bus.remove(this);
  }
}

/** The origin: one lock manager, one bus, one "disk" that one worker at a time may open. */
class Origin {
  readonly locks = new FakeLocks();
  readonly bus = new FakeBus();
  readonly file = new MemoryDirectory();
  readonly catalog = new MemoryCatalog();
  readonly storage = new Map<string, string>();
  holder: string | undefined;
  storeOpens = 0;
  readonly tabs: Tab[] = [];
  /** The bucket this origin's workers sync with (none unless given). */
  readonly remote: Remote | undefined;

  constructor(remote?: Remote) {
    this.remote = remote;
  }

  async tab(hooks?: HostHooks): Promise<Tab> {
    const owner = `tab${this.tabs.length + 1}`;
    const ports: MessagePort[] = [];
    const deps: TabDeps = {
      locks: this.locks.forOwner(owner),
      channel: (name) => this.bus.channel(name, owner),
      storage: { getItem: (k) => this.storage.get(k) ?? null, setItem: (k, v) => void this.storage.set(k, v) },
      storeRetry: { firstMs: 5, maxMs: 20, giveUpMs: 5000 },
      helloMs: 20,
      hooks,
      startWorker: () => {
        const { port1, port2 } = new MessageChannel();
        ports.push(port1, port2);
        Comlink.expose(new WorkerApi({
          loadSqlite: async () => sqlite3,
          openStores: async () => {
            if (this.holder !== undefined) throw new ScionError('Forbidden', `held by ${this.holder}`);
            this.holder = owner;
            this.storeOpens++;
            const store = MemoryStore.open(this.file);
            // A clean shutdown releases the "directory" at once (the file stays open for the next store).
            store.closeSync = () => {
              if (this.holder === owner) this.holder = undefined;
            };
            return { store, catalog: this.catalog };
          },
          makeRemote: () => this.remote,
          network: new BrowserNetwork({}),
        }), port1);
        return port2;
      },
    };
    const tab: Tab = { owner, scion: undefined as unknown as Scion, dead: false, kill: () => undefined };
    tab.kill = () => {
      tab.dead = true;
      this.bus.kill(owner);
      this.locks.kill(owner);
      for (const p of ports) p.close();
      // The old worker's handle goes a little after the tab (as OPFS handles do).
      if (this.holder === owner) setTimeout(() => (this.holder = undefined), 30);
    };
    this.tabs.push(tab);
    tab.scion = await Scion.open({ storage: 'memory' }, deps);
    return tab;
  }

  async dispose(): Promise<void> {
    for (const t of this.tabs) {
      if (t.dead) void t.scion.close(); // its worker is gone: close only stops its timers
      else await t.scion.close();
    }
  }
}

interface Tab {
  owner: string;
  scion: Scion;
  dead: boolean;
  kill(): void;
}

const origins: Origin[] = [];
function origin(remote?: Remote): Origin {
  const o = new Origin(remote);
  origins.push(o);
  return o;
}

/** A tab of `o` that, once armed, dies instead of sending its answer to the first request `match` picks: the answer is lost with it. */
async function dyingTab(o: Origin, match: (request: ToHost) => boolean): Promise<{ tab: Tab; arm(): void }> {
  let armed = false;
  const box: { tab?: Tab } = {};
  box.tab = await o.tab({
    dropReply: (_tab, _m, request) => {
      if (!armed || !request || !match(request) || !box.tab) return false;
      armed = false;
      box.tab.kill();
      return true;
    },
  });
  return { tab: box.tab, arm: () => void (armed = true) };
}

afterEach(async () => {
  for (const o of origins.splice(0)) await o.dispose();
});

/** Two tabs of one origin, the first leading, each with a connection on "main" holding table t. */
async function leaderAndFollower() {
  const o = origin();
  const a = await o.tab();
  const b = await o.tab();
  const da = await a.scion.open('main');
  await da.exec('CREATE TABLE t(seq INTEGER PRIMARY KEY, uid TEXT NOT NULL)');
  const db = await b.scion.open('main');
  return { o, a, b, da, db };
}

async function rows(db: Database): Promise<string[]> {
  return (await db.query<{ uid: string }>('SELECT uid FROM t ORDER BY seq')).map((r) => r.uid);
}


function until(check: () => boolean, ms = 5000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - started > ms) return reject(new Error('timed out'));
      setTimeout(tick, 2);
    };
    tick();
  });
}

describe('tabs', () => {
  it('the first tab leads, the next follows; writes from both are seen by both, and onChange fires in both', async () => {
    const o = origin();
    const a = await o.tab();
    const b = await o.tab();
    expect([a.scion.role, b.scion.role]).toEqual(['leader', 'follower']);
    expect(b.scion.info).toEqual(a.scion.info);
    const da = await a.scion.open('main');
    const db = await b.scion.open('main');
    const seen: Record<string, ChangeEvent[]> = { a: [], b: [] };
    da.onChange((e) => seen.a?.push(e));
    db.onChange((e) => seen.b?.push(e));
    await db.exec('CREATE TABLE t(seq INTEGER PRIMARY KEY, uid TEXT NOT NULL)');
    for (let i = 0; i < 10; i++) {
      await da.exec('INSERT INTO t(uid) VALUES (?)', [`a${i}`]);
      expect(await db.exec('INSERT INTO t(uid) VALUES (?)', [`b${i}`])).toMatchObject({ changes: 1, lastInsertRowid: 2 * i + 2 });
    }
    expect(await rows(da)).toEqual(await rows(db));
    expect((await rows(db)).length).toBe(20);
    await until(() => (seen.a?.length ?? 0) >= 21 && (seen.b?.length ?? 0) >= 21);
    expect(seen.a?.at(-1)).toMatchObject({ reason: 'commit', lsn: 21 });
    expect(seen.b?.at(-1)).toMatchObject({ reason: 'commit', lsn: 21 });
    // Errors keep their codes across the tabs; a follower's transaction is atomic and rolls back on throw.
    expect(await rejection(db.exec('INSERT INTO t(seq, uid) VALUES (1, ?)', ['dup']))).toMatchObject({ code: 'InvalidInput', details: { sqlite: 'SQLITE_CONSTRAINT_PRIMARYKEY' } });
    await expect(db.transaction(async (tx) => {
      await tx.exec("INSERT INTO t(uid) VALUES ('never')");
      throw new Error('no');
    })).rejects.toThrow('no');
    expect(await db.transaction(async (tx) => {
      await tx.exec("INSERT INTO t(uid) VALUES ('tx1')");
      await tx.exec("INSERT INTO t(uid) VALUES ('tx2')");
      return tx.query('SELECT count(*) AS n FROM t');
    })).toEqual([{ n: 22 }]);
    expect(await rows(da)).not.toContain('never');
    expect((await b.scion.tags()).map((t) => t.name)).toEqual(['main']);
  });

  it('a tab that leads from the start calls its worker directly, also once a second tab is served', async () => {
    const replies: string[] = [];
    let follower: string | undefined;
    const o = origin();
    const a = await o.tab({
      dropReply: (tab, m) => {
        if (m.t === 'reply') replies.push(tab);
        if (m.t === 'welcome') follower = tab;
        return false;
      },
    });
    const da = await a.scion.open('main');
    await da.exec('CREATE TABLE t(seq INTEGER PRIMARY KEY, uid TEXT NOT NULL)');
    await da.exec("INSERT INTO t(uid) VALUES ('alone')");
    expect(await rows(da)).toEqual(['alone']);
    expect(replies).toEqual([]); // no message made: every call went straight to the worker
    const b = await o.tab();
    const db = await b.scion.open('main');
    await db.exec("INSERT INTO t(uid) VALUES ('follower')");
    await da.exec("INSERT INTO t(uid) VALUES ('together')");
    expect(follower).toBeDefined();
    expect(replies.filter((tab) => tab !== follower)).toEqual([]); // the leader's calls made no message either
    expect(replies.length).toBeGreaterThan(0);
    expect(await rows(db)).toEqual(['alone', 'follower', 'together']);
  });

  it('a follower inside a transaction the app opened itself (an opaque text): its writes run in that transaction, untracked', async () => {
    const { da, db } = await leaderAndFollower();
    await db.exec("BEGIN; INSERT INTO t(uid) VALUES ('opened')");
    await db.exec("INSERT INTO t(uid) VALUES ('inside')");
    expect(await rows(da)).toEqual([]);
    await db.exec('COMMIT');
    expect(await rows(da)).toEqual(['opened', 'inside']);
  });

  it('a follower\'s autocommit write waits for nothing but the leader\'s own writes: both stream without ConcurrentWrite', async () => {
    const { da, db } = await leaderAndFollower();
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      writes.push(da.exec('INSERT INTO t(uid) VALUES (?)', [`a${i}`]));
      writes.push(db.exec('INSERT INTO t(uid) VALUES (?)', [`b${i}`]));
    }
    await Promise.all(writes);
    expect((await rows(db)).length).toBe(80);
  });

  it('when the leader tab dies, the follower takes over: writes under way complete exactly once, and later ones go on', async () => {
    const { o, a, b, db } = await leaderAndFollower();
    const roles: string[] = [];
    b.scion.onRoleChange((r) => roles.push(r));
    const acked: string[] = [];
    const writer = (async () => {
      for (let i = 0; i < 60; i++) {
        await db.exec('INSERT INTO t(uid) VALUES (?)', [`b${i}`]);
        acked.push(`b${i}`);
      }
    })();
    await until(() => acked.length >= 20);
    a.kill();
    await writer;
    expect(roles).toEqual(['leader']);
    expect(b.scion.role).toBe('leader');
    const all = await rows(db);
    expect(all).toEqual(acked);
    expect(o.storeOpens).toBe(2);
  });

  it('an answer lost after COMMIT ran: the next leader finds the graft past the start LSN, so the write counts once', async () => {
    const o = origin();
    // The leader dies right after committing a follower's row, before it answers.
    const { tab: a, arm } = await dyingTab(o, (request) => request.t === 'end');
    const b = await o.tab();
    const db = await b.scion.open('main');
    await db.exec('CREATE TABLE t(seq INTEGER PRIMARY KEY, uid TEXT NOT NULL)');
    await db.exec("INSERT INTO t(uid) VALUES ('first')");
    arm(); // the next answer of a COMMIT (an exec with changes 0) is lost
    expect(await db.exec("INSERT INTO t(uid) VALUES ('second')")).toMatchObject({ changes: 1, lastInsertRowid: 2 });
    expect(a.dead).toBe(true);
    expect(await rows(db)).toEqual(['first', 'second']);
  });

  it('an answer lost before COMMIT was sent: the write runs again on the next leader, once', async () => {
    const o = origin();
    // The begin+statement answer is lost: COMMIT was never sent.
    const { arm } = await dyingTab(o, (request) => request.t === 'begin' && request.first !== undefined);
    const b = await o.tab();
    const db = await b.scion.open('main');
    await db.exec('CREATE TABLE t(seq INTEGER PRIMARY KEY, uid TEXT NOT NULL)');
    arm();
    expect(await db.exec("INSERT INTO t(uid) VALUES ('once')")).toMatchObject({ changes: 1 });
    expect(await rows(db)).toEqual(['once']);
  });

  it('a follower\'s transaction open when the leader dies is replayed on the next leader and commits once', async () => {
    const o = origin();
    const a = await o.tab();
    const b = await o.tab();
    const c = await o.tab(); // stays a follower: its transaction crosses to b over the channel
    const dc = await c.scion.open('main');
    await dc.exec('CREATE TABLE t(seq INTEGER PRIMARY KEY, uid TEXT NOT NULL)');
    const result = await dc.transaction(async (tx) => {
      await tx.exec("INSERT INTO t(uid) VALUES ('t1')");
      const before = await tx.query<{ n: number }>('SELECT count(*) AS n FROM t');
      a.kill();
      await tx.exec("INSERT INTO t(uid) VALUES ('t2')"); // waits for b, which replays t1 and the count first
      await tx.exec("INSERT INTO t(uid) VALUES ('t3')");
      return before;
    });
    expect(result).toEqual([{ n: 1 }]);
    expect(b.scion.role).toBe('leader');
    expect(await rows(dc)).toEqual(['t1', 't2', 't3']);
    const db = await b.scion.open('main');
    expect(await rows(db)).toEqual(['t1', 't2', 't3']);
  });

  it('a COMMIT whose answer is lost with its leader is judged by the next one: committed, not replayed', async () => {
    const o = origin();
    const { tab: a, arm } = await dyingTab(o, (request) => request.t === 'end');
    const b = await o.tab();
    const c = await o.tab();
    const dc = await c.scion.open('main');
    await dc.exec('CREATE TABLE t(seq INTEGER PRIMARY KEY, uid TEXT NOT NULL)');
    await dc.transaction(async (tx) => {
      await tx.exec("INSERT INTO t(uid) VALUES ('x1')");
      await tx.exec("INSERT INTO t(uid) VALUES ('x2')");
      arm(); // COMMIT runs on a, its answer is dropped and a dies
    });
    expect(a.dead).toBe(true);
    expect(b.scion.role).toBe('leader');
    expect(await rows(dc)).toEqual(['x1', 'x2']);
  });

  it('a replayed transaction whose reads answer differently is rolled back with ConcurrentWrite', async () => {
    const o = origin();
    const a = await o.tab();
    const b = await o.tab(); // next leader: writes as soon as it leads, before c's replay
    const c = await o.tab();
    const db = await b.scion.open('main');
    await db.exec('CREATE TABLE t(seq INTEGER PRIMARY KEY, uid TEXT NOT NULL)');
    b.scion.onRoleChange(() => void db.exec("INSERT INTO t(uid) VALUES ('by b')"));
    const dc = await c.scion.open('main');
    const err = await rejection(dc.transaction(async (tx) => {
      await tx.query('SELECT count(*) AS n FROM t');
      a.kill();
      await until(() => b.scion.role === 'leader');
      await new Promise((r) => setTimeout(r, 20));
      await tx.exec("INSERT INTO t(uid) VALUES ('by c')");
    }));
    expect(err).toMatchObject({ code: 'ConcurrentWrite', details: { replayed: false } });
    expect(await rows(dc)).toEqual(['by b']);
    // The connection is usable again.
    await dc.exec("INSERT INTO t(uid) VALUES ('by c, again')");
    expect(await rows(db)).toEqual(['by b', 'by c, again']);
  });

  it('a claim the next leader cannot judge (it died too) is an error with outcome "unknown", never a guess', async () => {
    const o = origin();
    const a = await dyingTab(o, (request) => request.t === 'end');
    // b answers c's claim about a: lost, b dies too.
    const b = await dyingTab(o, (request) => request.t === 'resolve');
    const c = await o.tab();
    const d = await o.tab();
    const dc = await c.scion.open('main');
    await dc.exec('CREATE TABLE t(seq INTEGER PRIMARY KEY, uid TEXT NOT NULL)');
    a.arm();
    b.arm();
    const err = await rejection(dc.exec("INSERT INTO t(uid) VALUES ('maybe')"));
    expect(err).toMatchObject({ code: 'OutcomeUnknown' });
    expect(c.scion.role).toBe('leader');
    expect(d.scion.role).toBe('follower');
    expect(await rows(dc)).toEqual(['maybe']); // it had committed: the error said "check", not "retry"
  });

  it('writers wait across tabs: the leader\'s write waits for a follower\'s open transaction, in turn, and runs after it commits', async () => {
    const { a, da, db } = await leaderAndFollower();
    const second = await a.scion.open('main');
    await db.exec('BEGIN IMMEDIATE');
    await db.exec("INSERT INTO t(uid) VALUES ('follower')");
    const first = da.exec("INSERT INTO t(uid) VALUES ('leader 1')");
    await new Promise((r) => setTimeout(r, 20));
    const next = second.exec("INSERT INTO t(uid) VALUES ('leader 2')");
    await new Promise((r) => setTimeout(r, 50));
    expect(await rows(da)).toEqual([]); // both wait: nothing is committed yet
    await db.exec('COMMIT');
    await Promise.all([first, next]);
    expect(await rows(da)).toEqual(['follower', 'leader 1', 'leader 2']);
  });

  it('a follower\'s autocommit write waits for the leader\'s open transaction, which goes on meanwhile', async () => {
    const { da, db } = await leaderAndFollower();
    const started = performance.now();
    let followerWrite: Promise<unknown> | undefined;
    await da.transaction(async (tx) => {
      await tx.exec("INSERT INTO t(uid) VALUES ('leader 1')");
      followerWrite = db.exec("INSERT INTO t(uid) VALUES ('follower')");
      await new Promise((r) => setTimeout(r, 30));
      await tx.exec("INSERT INTO t(uid) VALUES ('leader 2')");
    });
    await followerWrite;
    // Not a busy timeout's worth: the leader's statements did not queue behind the waiting write.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await rows(da)).toEqual(['leader 1', 'leader 2', 'follower']);
  });

  it('a follower that dies inside a transaction: the leader rolls it back and writes go on', async () => {
    const o = origin();
    const a = await o.tab();
    const b = await o.tab();
    const da = await a.scion.open('main', { busyTimeoutMs: 0 });
    await da.exec('CREATE TABLE t(seq INTEGER PRIMARY KEY, uid TEXT NOT NULL)');
    const db = await b.scion.open('main');
    await db.exec('BEGIN IMMEDIATE');
    await db.exec("INSERT INTO t(uid) VALUES ('lost')");
    expect(await rejection(da.exec("INSERT INTO t(uid) VALUES ('blocked')"))).toMatchObject({ code: 'ConcurrentWrite' });
    b.kill();
    await new Promise((r) => setTimeout(r, 50));
    await da.exec("INSERT INTO t(uid) VALUES ('after')");
    expect(await rows(da)).toEqual(['after']);
  });

  it('close: a follower\'s connections close on the leader; the leader\'s close hands over to the next tab', async () => {
    const o = origin();
    const a = await o.tab();
    const b = await o.tab();
    const c = await o.tab();
    const dc = await c.scion.open('main');
    await dc.exec('CREATE TABLE t(seq INTEGER PRIMARY KEY, uid TEXT NOT NULL)');
    await b.scion.close();
    expect(b.scion.isClosed).toBe(true);
    const writes = [dc.exec("INSERT INTO t(uid) VALUES ('1')"), a.scion.close(), dc.exec("INSERT INTO t(uid) VALUES ('2')")];
    await Promise.all(writes);
    expect(c.scion.role).toBe('leader');
    expect(await rows(dc)).toEqual(['1', '2']);
    expect((await rejection(b.scion.tags())).code).toBe('Closed');
  });

  it('a follower tab rebases through the leader: its mutators replay on a scratch database the leader holds', async () => {
    const remote = new MemoryRemote();
    const other = origin(remote);
    const elsewhere = await (await other.tab()).scion.open('bank');
    await elsewhere.exec('CREATE TABLE t(seq INTEGER PRIMARY KEY, uid TEXT NOT NULL)');
    await elsewhere.push();
    const { remote: vid } = await elsewhere.status();
    const o = origin(remote);
    const leader = await o.tab();
    const follower = await o.tab();
    expect(follower.scion.role).toBe('follower');
    await (await leader.scion.open('bank', { clone: vid })).close();
    const db = await follower.scion.open('bank');
    const add = (tx: Transaction, { uid }: { uid: string }) => tx.exec('INSERT INTO t(uid) VALUES (?)', [uid]);
    db.mutator('add', add);
    elsewhere.mutator('add', add);
    await elsewhere.mutate('add', { uid: 'elsewhere' });
    await elsewhere.push();
    await db.mutate('add', { uid: 'follower 1' });
    await db.mutate('add', { uid: 'follower 2' });
    expect(await db.push()).toMatchObject({ outcome: 'diverged' });
    expect(await db.rebase()).toEqual({ outcome: 'rebased', replayed: 2, dropped: 0, pushed: true });
    expect(await rows(db)).toEqual(['elsewhere', 'follower 1', 'follower 2']);
    await elsewhere.pull();
    expect(await rows(elsewhere)).toEqual(['elsewhere', 'follower 1', 'follower 2']);
    expect((await follower.scion.tags()).map((t) => [t.name, t.state])).toEqual([['bank', 'in-sync']]);
  });

  it('a follower\'s push reports progress and stops on its AbortSignal through the leader', async () => {
    const held = new HeldRemote(new MemoryRemote());
    const o = origin(held);
    const leader = await o.tab();
    const follower = await o.tab();
    expect(follower.scion.role).toBe('follower');
    const db = await follower.scion.open('main');
    await db.exec("CREATE TABLE t(seq INTEGER PRIMARY KEY, uid TEXT NOT NULL); INSERT INTO t(uid) VALUES ('one')");
    // A one-row push carries its frames in the commit object: its one bucket request is the commit PUT.
    expect(await abortAtRequest(held, 'putCommit', (signal) => db.push({ signal }))).toMatchObject({ code: 'Interrupted', details: { operation: 'push' } });
    expect(await db.status()).toMatchObject({ state: 'ahead' });
    const events: Progress[] = [];
    expect(await db.push({ onProgress: (p) => events.push(p) })).toMatchObject({ outcome: 'pushed', remoteLsn: 1 });
    expect(events.at(-1)?.phase).toBe('done');
    expect(events.map((e) => e.phase)).toContain('upload');
    expect(await rows(await leader.scion.open('main'))).toEqual(['one']);
  });
});
