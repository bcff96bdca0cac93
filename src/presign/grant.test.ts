import { describe, expect, it } from 'vitest';
import { LSN, RemoteFork, SharedName, type PresignOp, type VolumeId } from '../core/index.ts';
import { encodeForkV1, fakeVolumeId } from '../core/testing.ts';
import { checkGrant, type Grant, type NameDirectory } from './grant.ts';

/** A bucket's names, fork records and logs, as the service reads them. */
class MemoryDirectory implements NameDirectory {
  readonly names = new Map<SharedName, VolumeId>();
  readonly forks = new Map<VolumeId, RemoteFork>();
  readonly logs = new Map<VolumeId, Set<LSN>>();

  commit(vid: VolumeId, ...lsns: number[]): void {
    const log = this.logs.get(vid) ?? new Set<LSN>();
    for (const n of lsns) log.add(LSN.parse(n));
    this.logs.set(vid, log);
  }

  async volumeOf(name: SharedName) { return this.names.get(name); }
  async isUnused(vid: VolumeId) { return (this.logs.get(vid)?.size ?? 0) === 0; }
  async forkOf(vid: VolumeId) { return this.forks.get(vid); }
  async hasCommit(vid: VolumeId, lsn: LSN) { return this.logs.get(vid)?.has(lsn) === true; }
}

const [A, B, C, D, E] = [1, 2, 3, 4, 5].map(fakeVolumeId) as [VolumeId, VolumeId, VolumeId, VolumeId, VolumeId];
const lsns = (...n: number[]) => n.map((x) => LSN.parse(x));
const grantOf = (volumes: VolumeId[], more: Partial<Grant> = {}): Grant => ({ volumes: new Set(volumes), write: false, admin: false, ...more });
const readVia = (vid: VolumeId, lsn: number, via: VolumeId): PresignOp => ({ op: 'getCommit', vid, lsn: LSN.parse(lsn), via });

async function refusal(grant: Grant, op: PresignOp, directory: NameDirectory): Promise<string | undefined> {
  try {
    await checkGrant(grant, [op], directory);
    return undefined;
  } catch (e) {
    expect(e).toMatchObject({ code: 'Forbidden' });
    return (e as Error).message;
  }
}

/** A (commits 1–3) forked as B, whose first push named A's commits 1 and 3 (A overwrote 2's pages before the fork). */
function forkedDirectory(): MemoryDirectory {
  const dir = new MemoryDirectory();
  dir.commit(A, 1, 2, 3, 4);
  dir.forks.set(B, RemoteFork.of(B, [A], { [A]: lsns(1, 3) }));
  dir.commit(B, 1, 2, 3);
  return dir;
}

describe('reading an ancestor commit through a fork', () => {
  it('allows exactly the LSNs the fork record lists: not an earlier commit it does not name, not a later one', async () => {
    const dir = forkedDirectory();
    const reader = grantOf([B]);
    expect(await refusal(reader, readVia(A, 1, B), dir)).toBeUndefined();
    expect(await refusal(reader, readVia(A, 3, B), dir)).toBeUndefined();
    for (const lsn of [2, 4]) {
      expect(await refusal(reader, readVia(A, lsn, B), dir)).toContain(`the fork record of ${B} lets its readers read only the commits 1, 3 of its ancestor ${A}, not LSN ${lsn}`);
    }
    expect(await refusal(reader, { op: 'getCommit', vid: A, lsn: LSN.parse(1) }, dir)).toContain(`volume ${A} is not granted`);
  });

  it('says what to do when the record names none of the ancestor commits, and for a version 1 record', async () => {
    const dir = forkedDirectory();
    dir.forks.set(C, RemoteFork.of(C, [A]));
    const none = await refusal(grantOf([C]), readVia(A, 1, C), dir);
    expect(none).toContain(`the fork record of ${C} names none of the commits of its ancestor ${A}`);
    expect(none).toContain(`grant ${A} to this reader, or have ${A} push with inlineMaxBytes: 0`);
    dir.forks.set(D, RemoteFork.decode(encodeForkV1(D, [A]), D));
    expect(await refusal(grantOf([D]), readVia(A, 1, D), dir)).toContain('version 1');
  });

  it('refuses a via that is not granted, or whose record does not list the ancestor', async () => {
    const dir = forkedDirectory();
    dir.forks.set(C, RemoteFork.of(C, [E], { [E]: lsns(1) }));
    expect(await refusal(grantOf([C]), readVia(A, 1, B), dir)).toContain(`volume ${A} is not granted, nor an ancestor of the granted fork ${B}`);
    expect(await refusal(grantOf([C]), readVia(A, 1, C), dir)).toContain(`nor an ancestor of the granted fork ${C}`);
  });
});

describe('putFork with listed commits', () => {
  const writer = (volumes: VolumeId[]) => grantOf(volumes, { write: true });
  const putFork = (vid: VolumeId, ancestors: VolumeId[], inlineCommits: Record<VolumeId, LSN[]>): PresignOp => ({ op: 'putFork', ...RemoteFork.of(vid, ancestors, inlineCommits) });

  it('with the ancestor granted, needs each listed commit to exist', async () => {
    const dir = forkedDirectory();
    expect(await refusal(writer([A, C]), putFork(C, [A], { [A]: lsns(2, 4) }), dir)).toBeUndefined();
    expect(await refusal(writer([A, C]), putFork(C, [A], { [A]: lsns(4, 5) }), dir)).toContain(`the log of ${A} holds no commit at LSN 5; name a commit that exists`);
  });

  it('for a fork of a fork, needs the set to be within the other record\'s set for that ancestor', async () => {
    const dir = forkedDirectory();
    const grandchild = writer([B, C]);
    expect(await refusal(grandchild, putFork(C, [A, B], { [A]: lsns(3) }), dir)).toBeUndefined();
    expect(await refusal(grandchild, putFork(C, [A, B], { [A]: lsns(2, 3) }), dir)).toContain(`the fork lists LSN 2 of ${A}, which is not granted; through ${B} only its commits 1, 3 are readable`);
  });

  it('refuses a set checked through a volume the caller is not granted, or through a record not listing that ancestor', async () => {
    const dir = forkedDirectory();
    // B lists A, but the caller may not read B.
    expect(await refusal(writer([C]), putFork(C, [A, B], { [A]: lsns(1) }), dir)).toContain(`the fork's ancestor ${A} is not granted`);
    // D is granted and a fork, but of E only: it lists no commit of A.
    dir.forks.set(D, RemoteFork.of(D, [A, E], { [E]: lsns(1) }));
    expect(await refusal(writer([C, D]), putFork(C, [A, D, E], { [A]: lsns(1) }), dir)).toContain(`the fork lists commits of ${A}, which is not granted, and no fork record of its other ancestors lists any of its commits`);
  });

  it('refuses a writer of only the fork volume', async () => {
    const dir = forkedDirectory();
    expect(await refusal(writer([C]), putFork(C, [A], { [A]: lsns(1) }), dir)).toContain(`the fork's ancestor ${A} is not granted`);
    expect(await refusal(writer([C]), putFork(C, [A], {}), dir)).toContain(`the fork's ancestor ${A} is not granted`);
  });
});

describe('putName', () => {
  const name = SharedName.parse('team-db');
  const namer = grantOf([], { names: new Set([name]), write: true });

  it('may point at a fresh volume, not at one with commits', async () => {
    const dir = forkedDirectory();
    expect(await refusal(namer, { op: 'putName', name, vid: E }, dir)).toBeUndefined();
    expect(await refusal(namer, { op: 'putName', name, vid: A }, dir)).toContain(`volume ${A} already has commits and is not granted`);
  });

  it('may not point at a volume with a fork record but no commits (a fork whose first push failed)', async () => {
    const dir = forkedDirectory();
    dir.forks.set(C, RemoteFork.of(C, [A], { [A]: lsns(1) }));
    expect(await dir.isUnused(C)).toBe(true);
    expect(await refusal(namer, { op: 'putName', name, vid: C }, dir)).toContain(`volume ${C} has a fork record (it is a fork of other volumes) and is not granted`);
    // Had the name pointed there, its holders would read A through C.
    dir.names.set(name, C);
    expect(await refusal(grantOf([], { names: new Set([name]) }), readVia(A, 1, C), dir)).toBeUndefined();
  });
});
