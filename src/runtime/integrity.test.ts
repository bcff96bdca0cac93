import { describe, expect, it } from 'vitest';
import { Commit, isScionError, LatestHint, LSN, PageIdx, RemoteKey, type ErrorCode, type SegmentRef, type VolumeId } from '../core/index.ts';
import { encodeCommitV1 } from '../core/testing.ts';
import { MemoryCatalog, MemoryDirectory, MemoryStore } from '../local/index.ts';
import { MemoryRemote } from '../remote/index.ts';
import { Runtime } from './runtime.ts';

/*
 * A segment is bound to the commit that names it (remote format 2: a SHA-256 per frame in the
 * commit). Whatever happens to the bytes in the bucket — frames swapped, a segment replaced by an
 * older valid one, cut short or deleted — a reader gets Corrupt, never pages of another commit.
 */

async function device(remote: MemoryRemote, file = new MemoryDirectory(), catalog = new MemoryCatalog()) {
  const rt = await Runtime.open({ store: MemoryStore.open(file), catalog, remote });
  return { rt, restart: async () => Runtime.open({ store: MemoryStore.open(file.copy()), catalog, remote }) };
}

const idx = (n: number) => PageIdx.parse(n);
/** Incompressible pages (stored raw), so every full frame of a segment has the same size. */
function noise(seed: number): Uint8Array {
  const p = new Uint8Array(4096);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < p.length; i++) p[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  p[0] = seed & 0xff;
  return p;
}

async function expectCode(p: Promise<unknown> | (() => unknown), code: ErrorCode) {
  const e = await (typeof p === 'function' ? Promise.resolve().then(p) : p).then(() => undefined, (err: unknown) => err);
  expect(isScionError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
}

/** A volume of 128 noise pages (2 frames of equal size) pushed `versions` times, each version rewriting every page. */
async function pushedVolume(versions: number) {
  const remote = new MemoryRemote();
  const a = await device(remote);
  const g = await a.rt.graftOpen();
  for (let v = 0; v < versions; v++) {
    const w = a.rt.graftWriter(g.local);
    for (let i = 1; i <= 128; i++) w.writePage(idx(i), noise(v * 1000 + i));
    w.commit();
    expect(await a.rt.graftPush(g.local)).toMatchObject({ outcome: 'pushed' });
  }
  const segmentOf = (lsn: number): SegmentRef => Commit.decode(remote.objects.get(RemoteKey.commit(g.remote, LSN.parse(lsn)))!.bytes).segment!;
  return { remote, g, segmentOf };
}

async function cloneOf(remote: MemoryRemote, vid: VolumeId) {
  const b = await device(remote);
  const gb = await b.rt.graftClone(vid);
  return { ...b, reader: b.rt.graftReader(gb.local), gb };
}

function replaceObject(remote: MemoryRemote, key: string, bytes: Uint8Array) {
  const old = remote.objects.get(key)!;
  remote.objects.set(key, { ...old, bytes });
}

describe('a segment is bound to its commit', () => {
  it('two swapped frames of equal size are Corrupt, not each other\'s pages', async () => {
    const { remote, g, segmentOf } = await pushedVolume(1);
    const seg = segmentOf(1);
    expect(seg.home).toBe(g.remote);
    expect(seg.frames.map((f) => f.bytes)).toEqual([seg.frames[0]!.bytes, seg.frames[0]!.bytes]);
    const key = RemoteKey.segment(seg);
    const bytes = remote.objects.get(key)!.bytes;
    const n = seg.frames[0]!.bytes;
    const swapped = new Uint8Array(bytes.byteLength);
    swapped.set(bytes.subarray(n, 2 * n), 0);
    swapped.set(bytes.subarray(0, n), n);
    replaceObject(remote, key, swapped);
    const b = await cloneOf(remote, g.remote);
    await expectCode(() => b.reader.readPage(idx(1)), 'Corrupt');
    await expectCode(() => b.reader.readPage(idx(100)), 'Corrupt');
  });

  it('a segment replaced by an older valid one of the same layout is Corrupt, not the old rows', async () => {
    const { remote, g, segmentOf } = await pushedVolume(2);
    const [older, newer] = [segmentOf(1), segmentOf(2)];
    replaceObject(remote, RemoteKey.segment(newer), remote.objects.get(RemoteKey.segment(older))!.bytes);
    const b = await cloneOf(remote, g.remote);
    await expectCode(() => b.reader.readPage(idx(1)), 'Corrupt');
    await expectCode(b.rt.graftHydrate(b.gb.local), 'Corrupt');
  });

  it('a segment cut short before a frame, or deleted, is Corrupt (not PageNotLocal)', async () => {
    const { remote, g, segmentOf } = await pushedVolume(1);
    const seg = segmentOf(1);
    const key = RemoteKey.segment(seg);
    replaceObject(remote, key, remote.objects.get(key)!.bytes.slice(0, seg.frames[0]!.bytes));
    const b = await cloneOf(remote, g.remote);
    expect(b.reader.readPage(idx(1))[0]).toBe(1);
    await expectCode(() => b.reader.readPage(idx(100)), 'Corrupt');
    remote.objects.delete(key);
    const c = await cloneOf(remote, g.remote);
    await expectCode(() => c.reader.readPage(idx(1)), 'Corrupt');
  });
});

describe('a damaged commit object', () => {
  for (const [name, bytes] of [['empty (a torn upload)', new Uint8Array()], ['garbage', new TextEncoder().encode('<html>not a commit</html>')]] as const) {
    it(`${name}: pull and push are Corrupt, the device still opens and reads what it holds`, async () => {
      const { remote, g } = await pushedVolume(1);
      const b = await cloneOf(remote, g.remote);
      expect(b.reader.readPage(idx(5))[0]).toBe(5);
      remote.objects.set(RemoteKey.commit(g.remote, LSN.parse(2)), { bytes, lastModified: Date.now() });
      await expectCode(b.rt.graftPull(b.gb.local), 'Corrupt');
      const w = b.rt.graftWriter(b.gb.local);
      w.writePage(idx(1), noise(7));
      w.commit();
      await expectCode(b.rt.graftPush(b.gb.local), 'Corrupt');
      const reopened = await b.restart();
      const r = reopened.graftReader(b.gb.local);
      expect(r.readPage(idx(1))).toEqual(noise(7));
      expect(r.readPage(idx(5))[0]).toBe(5);
    });
  }
});

describe('a torn commit upload (the bucket kept 0 bytes, the pusher lost the answer)', () => {
  it('the pushing device reopens and reads its data; the next push or pull says Corrupt; other devices read what they hold', async () => {
    const { remote, g } = await pushedVolume(1);
    const file = new MemoryDirectory();
    const catalog = new MemoryCatalog();
    const b = await device(remote, file, catalog);
    const gb = await b.rt.graftClone(g.remote);
    const c = await cloneOf(remote, g.remote);
    const w = b.rt.graftWriter(gb.local);
    w.writePage(idx(2), noise(42));
    w.commit();
    const torn = remote.putCommit.bind(remote);
    remote.putCommit = async (vid, lsn) => {
      remote.putCommit = torn;
      await torn(vid, lsn, new Uint8Array());
      throw Object.assign(new Error('connection reset'), { name: 'ScionError', code: 'RemoteUnavailable' });
    };
    await expectCode(b.rt.graftPush(gb.local), 'RemoteUnavailable');
    expect(b.rt.graftGet(gb.local)?.pending).toBeDefined();
    const reopened = await b.restart();
    expect(reopened.graftGet(gb.local)?.pending).toBeDefined();
    expect(reopened.graftReader(gb.local).readPage(idx(2))).toEqual(noise(42));
    await expectCode(reopened.graftPush(gb.local), 'Corrupt');
    await expectCode(reopened.graftPull(gb.local), 'Corrupt');
    // The way out: move the data to a new remote volume; a new device clones that.
    const moved = await reopened.graftSwitchRemote(gb.local);
    const d = await cloneOf(remote, moved.remote);
    expect(d.reader.readPage(idx(2))).toEqual(noise(42));
    expect(d.reader.readPage(idx(1))[0]).toBe(1);
    expect(c.reader.readPage(idx(1))[0]).toBe(1);
    await expectCode(c.rt.graftPull(c.gb.local), 'Corrupt');
    // A new clone of the damaged log is refused, typed: the way out is a device that holds the data moving it to a new remote.
    await expectCode(cloneOf(remote, g.remote), 'Corrupt');
  });
});

describe('remote format 1', () => {
  it('a volume written by format 1 (shared segments/, no digests) still clones, reads and pulls', async () => {
    const { remote, g, segmentOf } = await pushedVolume(2);
    // Rewrite the bucket as format 1 wrote it.
    for (const lsn of [1, 2]) {
      const key = RemoteKey.commit(g.remote, LSN.parse(lsn));
      const c = Commit.decode(remote.objects.get(key)!.bytes);
      const seg = segmentOf(lsn);
      const v1Key = RemoteKey.segment({ sid: seg.sid });
      remote.objects.set(v1Key, remote.objects.get(RemoteKey.segment(seg))!);
      remote.objects.delete(RemoteKey.segment(seg));
      replaceObject(remote, key, encodeCommitV1({ ...c, segment: { ...seg, home: undefined, frames: seg.frames.map((f) => ({ pages: f.pages, bytes: f.bytes })) } }));
    }
    remote.objects.delete(RemoteKey.latest(g.remote));
    const b = await cloneOf(remote, g.remote);
    expect(b.reader.readPage(idx(1))).toEqual(noise(1001));
    expect(b.reader.readPage(idx(128))).toEqual(noise(1128));
    expect([...remote.objects.keys()].some((k) => k.startsWith('segments/'))).toBe(true);
  });
});

describe('a commit record cannot point its readers elsewhere', () => {
  /** A writer of volume A (a MemoryRemote has no grants: this is what a write grant on A allows) rewrites A's commit 1. */
  async function tamperedCommit(edit: (seg: SegmentRef, other: VolumeId) => SegmentRef, where: 'commit' | 'hint') {
    const a = await pushedVolume(1);
    const b = await pushedVolume(1);
    // Both volumes in one bucket: copy B's objects next to A's.
    for (const [key, obj] of b.remote.objects) a.remote.objects.set(key, obj);
    const key = RemoteKey.commit(a.g.remote, LSN.parse(1));
    const commit = Commit.decode(a.remote.objects.get(key)!.bytes);
    const segment = edit(commit.segment!, b.g.remote);
    const tampered = { ...commit, segment };
    // The record at its key (read when there is no hint), or its copy in the hint's tail.
    if (where === 'commit') {
      replaceObject(a.remote, key, Commit.encode(tampered));
      a.remote.objects.delete(RemoteKey.latest(a.g.remote));
    } else {
      replaceObject(a.remote, RemoteKey.latest(a.g.remote), LatestHint.encode({ vid: a.g.remote, lsn: LSN.parse(1), checkpoint: 0, tail: [tampered] }));
    }
    return a;
  }

  const edits = {
    "naming another volume's segment": (seg: SegmentRef, other: VolumeId): SegmentRef => ({ ...seg, home: other }),
    'of a format-2 segment without frame digests': (seg: SegmentRef): SegmentRef => ({ ...seg, frames: seg.frames.map((f) => ({ pages: f.pages, bytes: f.bytes })) }),
  };
  for (const [name, edit] of Object.entries(edits)) {
    it(`a commit ${name} is Corrupt at clone`, async () => {
      const a = await tamperedCommit(edit, 'commit');
      await expectCode(device(a.remote).then((d) => d.rt.graftClone(a.g.remote)), 'Corrupt');
    });

    it(`such a copy in the hint's tail is ignored: the clone reads the commit at its key`, async () => {
      const a = await tamperedCommit(edit, 'hint');
      const d = await device(a.remote);
      const g = await d.rt.graftClone(a.g.remote);
      expect(d.rt.graftReader(g.local).readPage(idx(1))).toEqual(noise(1));
    });
  }
});
