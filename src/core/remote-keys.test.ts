import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LSN } from './lsn.ts';
import { RemoteKey, type ParsedKey } from './remote-keys.ts';
import { SegmentId } from './segment-id.ts';
import { expectScionError, seededIds } from './testing.ts';
import { VolumeId } from './volume-id.ts';

const anyVid = fc.integer().map((seed) => VolumeId.random(seededIds(seed, 1_600_000_000_000 + Math.abs(seed % 1_000_000))));
const anySid = fc.integer().map((seed) => SegmentId.random(seededIds(seed, 1_600_000_000_000 + Math.abs(seed % 1_000_000))));
const anyLsn = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })).map((n) => LSN.parse(n));

/** The key the layout builds for what a key parsed to. */
const rebuild = (p: ParsedKey): string => {
  switch (p.kind) {
    case 'commit':
      return RemoteKey.commit(p.vid, p.lsn);
    case 'latest':
      return RemoteKey.latest(p.vid);
    case 'fork':
      return RemoteKey.fork(p.vid);
    case 'compacted':
      return RemoteKey.compacted(p.vid);
    case 'name':
      return RemoteKey.name(p.name);
    case 'segment':
      return RemoteKey.segment(p);
  }
};

describe('RemoteKey', () => {
  it('parses every commit key it builds back to the same volume and LSN', () => {
    fc.assert(
      fc.property(anyVid, anyLsn, (vid, lsn) => {
        const key = RemoteKey.commit(vid, lsn);
        expect(key.startsWith(RemoteKey.logPrefix(vid))).toBe(true);
        expect(key.startsWith(RemoteKey.VOLUMES_PREFIX)).toBe(true);
        expect(RemoteKey.parse(key)).toEqual({ kind: 'commit', vid, lsn });
      }),
    );
  });

  it('parses every segment key it builds back to the same segment: format 2 under its volume, format 1 shared', () => {
    fc.assert(
      fc.property(anySid, anyVid, (sid, home) => {
        const key = RemoteKey.segment({ sid, home });
        expect(key).toBe(`volumes/${home}/segments/${sid}`);
        expect(RemoteKey.parse(key)).toEqual({ kind: 'segment', sid, home });
        const v1 = RemoteKey.segment({ sid });
        expect(v1.startsWith(RemoteKey.SEGMENTS_PREFIX)).toBe(true);
        expect(RemoteKey.parse(v1)).toEqual({ kind: 'segment', sid });
      }),
    );
  });

  it('parses the latest hint and fork record keys of a volume', () => {
    fc.assert(
      fc.property(anyVid, (vid) => {
        expect(RemoteKey.parse(RemoteKey.latest(vid))).toEqual({ kind: 'latest', vid });
        expect(RemoteKey.parse(RemoteKey.fork(vid))).toEqual({ kind: 'fork', vid });
      }),
    );
  });

  it('commit keys of one volume sort in LSN order (listings come back in log order)', () => {
    fc.assert(
      fc.property(anyVid, anyLsn, anyLsn, (vid, a, b) => {
        const [ka, kb] = [RemoteKey.commit(vid, a), RemoteKey.commit(vid, b)];
        expect(Math.sign(ka < kb ? -1 : ka > kb ? 1 : 0)).toBe(Math.sign(a - b));
      }),
    );
  });

  it('distinct volumes never share a log prefix, so one volume listing never includes another', () => {
    fc.assert(
      fc.property(anyVid, anyVid, anyLsn, (a, b, lsn) => {
        fc.pre(a !== b);
        expect(RemoteKey.commit(b, lsn).startsWith(RemoteKey.logPrefix(a))).toBe(false);
      }),
    );
  });

  it('refuses every string that is not exactly a key of the layout, with InvalidInput', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        let parsed: unknown;
        try {
          parsed = RemoteKey.parse(text);
        } catch {
          expectScionError(() => RemoteKey.parse(text), 'InvalidInput');
          return;
        }
        // Whatever parsed is a key the layout builds, byte for byte.
        expect(rebuild(parsed as ParsedKey)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses keys with path tricks, other prefixes, wrong kinds and out-of-range LSNs', () => {
    const vid = VolumeId.random(seededIds(1));
    const sid = SegmentId.random(seededIds(2));
    const commit = RemoteKey.commit(vid, LSN.parse(7));
    const bad = [
      '',
      `/${commit}`,
      `${commit}/`,
      `x/${commit}`,
      `${commit}x`,
      commit.toUpperCase(),
      commit.replace('/log/', '/log/../log/'),
      commit.replace('/log/', '%2Flog%2F'),
      commit.replace('volumes/', 'volumes//'),
      `volumes/${vid}/log/../../segments/${sid}`,
      `volumes/${vid}/log/${'0'.repeat(16)}`, // LSN 0
      `volumes/${vid}/log/${'f'.repeat(16)}`, // beyond a safe integer
      `volumes/${vid}/log/${'0'.repeat(15)}`, // not fixed width
      `volumes/${sid}/log/0000000000000001`, // a segment id where a volume id belongs
      `segments/${vid}`,
      `volumes/${vid}/segments/${vid}`, // a volume id where a segment id belongs
      `volumes/${sid}/segments/${sid}`,
      `volumes/${vid}/segments/../../segments/${sid}`,
      `volumes/${vid}/latest/`,
      `volumes/${vid}/latest/x`,
      `segments/${sid}/x`,
      `segments/../${sid}`,
      `other-bucket/segments/${sid}`,
      `segments\\${sid}`,
    ];
    for (const key of bad) expectScionError(() => RemoteKey.parse(key), 'InvalidInput');
  });

  it('refuses every single-character change of a valid key, or parses it as exactly the key it became', () => {
    const home = VolumeId.random(seededIds(5));
    const keys = [RemoteKey.commit(VolumeId.random(seededIds(3)), LSN.parse(42)), RemoteKey.segment({ sid: SegmentId.random(seededIds(4)) }), RemoteKey.segment({ sid: SegmentId.random(seededIds(4)), home }), RemoteKey.latest(home), RemoteKey.fork(home)];
    const chars = ['/', '.', '%', '0', 'f', 'g', 'A', ' ', '\u0000', 'é'];
    for (const key of keys) {
      for (let i = 0; i < key.length; i++) {
        for (const c of chars) {
          const changed = key.slice(0, i) + c + key.slice(i + 1);
          let rebuilt: string | undefined;
          try {
            rebuilt = rebuild(RemoteKey.parse(changed));
          } catch (e) {
            expectScionError(() => {
              throw e;
            }, 'InvalidInput');
            continue;
          }
          expect(rebuilt).toBe(changed);
        }
      }
    }
  });
});
