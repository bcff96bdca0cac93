import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isScionError } from './errors.ts';
import { LSN } from './lsn.ts';
import { parsePresignRequest, PRESIGN_MAX_OPS, presignOpKey, type PresignOp, type PresignRequest } from './presign-wire.ts';
import { RemoteFork } from './remote-fork.ts';
import { SharedName } from './remote-name.ts';
import { SegmentId } from './segment-id.ts';
import { expectScionError, seededIds } from './testing.ts';
import { UploadBody } from './upload.ts';
import { VolumeId } from './volume-id.ts';

const anyVid = fc.integer().map((seed) => VolumeId.random(seededIds(seed)));
const anySid = fc.integer().map((seed) => SegmentId.random(seededIds(seed)));
const anyLsn = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }).map((n) => LSN.parse(n));
const anyAfter = fc.option(fc.stringMatching(/^[A-Za-z0-9/_.-]{0,200}$/), { nil: undefined });

const anyUpload = fc.uint8Array({ maxLength: 64 }).map((b) => UploadBody.of(b));
const anyName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/).map((n) => SharedName.parse(n));
const anyOp: fc.Arbitrary<PresignOp> = fc.oneof(
  fc.record({ op: fc.constant('getCommit' as const), vid: anyVid, lsn: anyLsn }),
  fc.record({ op: fc.constant('getCommit' as const), vid: anyVid, lsn: anyLsn, via: anyVid }),
  fc.record({ op: fc.constant('putCommit' as const), vid: anyVid, lsn: anyLsn, upload: anyUpload }),
  fc.record({ op: fc.constant('getLatest' as const), vid: anyVid }),
  fc.record({ op: fc.constant('putLatest' as const), vid: anyVid, upload: anyUpload }),
  fc.record({ op: fc.constantFrom('getSegment' as const, 'deleteSegment' as const), sid: anySid }),
  fc.record({ op: fc.constantFrom('getSegment' as const, 'deleteSegment' as const), sid: anySid, vid: anyVid }),
  fc.record({ op: fc.constant('getSegment' as const), sid: anySid, vid: anyVid, via: anyVid }),
  fc.record({ op: fc.constant('putSegment' as const), vid: anyVid, sid: anySid, upload: anyUpload }),
  fc.record({ op: fc.constant('getFork' as const), vid: anyVid }),
  fc.tuple(anyVid, fc.array(fc.tuple(anyVid, fc.array(anyLsn, { maxLength: 4 })), { minLength: 1, maxLength: 4 })).filter(([v, a]) => !a.some(([x]) => x === v))
    .map(([vid, listed]) => ({ op: 'putFork' as const, ...RemoteFork.of(vid, listed.map(([a]) => a), Object.fromEntries(listed)) })),
  fc.record({ op: fc.constant('getName' as const), name: anyName }),
  fc.record({ op: fc.constant('putName' as const), name: anyName, vid: anyVid }),
  fc.record({ op: fc.constant('listLog' as const), vid: anyVid, after: anyAfter }),
  fc.record({ op: fc.constantFrom('listSegments' as const, 'listVolumes' as const), after: anyAfter }),
);

/** The request as it crosses the network: JSON text, parsed back on the other side. */
const overTheWire = (body: unknown): unknown => JSON.parse(JSON.stringify(body));

/** Parses, and says what happened: the request, or the code of the typed refusal. */
function outcome(body: unknown): PresignRequest | string {
  try {
    return parsePresignRequest(body);
  } catch (e) {
    return isScionError(e) ? e.code : `untyped ${(e as Error).name}: ${(e as Error).message}`;
  }
}

describe('parsePresignRequest', () => {
  it('round-trips any valid batch of ops through JSON', () => {
    fc.assert(
      fc.property(fc.array(anyOp, { minLength: 1, maxLength: 20 }), (ops) => {
        expect(parsePresignRequest(overTheWire({ ops }))).toEqual({ ops });
      }),
      { numRuns: 200 },
    );
  });

  it('accepts 1 to 256 ops and refuses an empty or larger batch', () => {
    const op = { op: 'getSegment', sid: SegmentId.random(seededIds(1)) };
    expect(parsePresignRequest({ ops: Array(PRESIGN_MAX_OPS).fill(op) }).ops).toHaveLength(PRESIGN_MAX_OPS);
    for (const ops of [[], Array(PRESIGN_MAX_OPS + 1).fill(op)]) expectScionError(() => parsePresignRequest({ ops }), 'InvalidInput');
  });

  it('refuses any JSON that is not a valid request with InvalidInput, and what it accepts is canonical', () => {
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record({ ops: fc.array(fc.jsonValue(), { maxLength: 4 }) }),
      fc.record({ ops: fc.array(fc.record({ op: fc.constantFrom('getCommit', 'putCommit', 'getSegment', 'putSegment', 'listLog', 'listVolumes', 'getName', 'putName', 'nope'), name: fc.jsonValue(), vid: fc.jsonValue(), sid: fc.jsonValue(), lsn: fc.jsonValue(), after: fc.jsonValue(), upload: fc.jsonValue() }, { requiredKeys: ['op'] }), { maxLength: 4 }) }),
    );
    fc.assert(
      fc.property(body, (b) => {
        const o = outcome(overTheWire(b ?? null));
        if (typeof o === 'string') expect(o).toBe('InvalidInput');
        // Accepted input means exactly the ops it parses to: they survive another trip unchanged.
        else expect(parsePresignRequest(overTheWire(o))).toEqual(o);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but InvalidInput, whatever value it is handed', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBoxedValues: true, withMap: true, withSet: true, withBigInt: true }), (value) => {
        const o = outcome(value);
        if (typeof o === 'string') expect(o).toBe('InvalidInput');
      }),
      { numRuns: 300 },
    );
    for (const value of [{ ops: [Object.create(null)] }, { ops: [{ op: 'getCommit', vid: Object.create(null), lsn: 1 }] }, { ops: [{ op: 'listLog', vid: VolumeId.random(seededIds(1)), after: Symbol('x') }] }]) {
      expect(outcome(value)).toBe('InvalidInput');
    }
  });

  it('refuses ids and cursors that could steer a key: wrong kinds, bad LSNs, query or path characters', () => {
    const vid = VolumeId.random(seededIds(1));
    const sid = SegmentId.random(seededIds(2));
    const other = VolumeId.random(seededIds(3));
    const bad: unknown[] = [
      { op: 'getCommit', vid: sid, lsn: 1 },
      { op: 'getCommit', vid, lsn: 0 },
      { op: 'getCommit', vid, lsn: -1 },
      { op: 'getCommit', vid, lsn: 1.5 },
      { op: 'getCommit', vid, lsn: Number.MAX_SAFE_INTEGER + 1 },
      { op: 'getCommit', vid, lsn: 'one' },
      // No coercion: only a number is an LSN, only a string an id.
      { op: 'getCommit', vid, lsn: '0x10' },
      { op: 'getCommit', vid, lsn: '16' },
      { op: 'getCommit', vid, lsn: true },
      { op: 'getCommit', vid, lsn: [5] },
      { op: 'getCommit', vid: [vid], lsn: 1 },
      { op: 'getSegment', sid: [sid] },
      { op: 'getSegment', sid, vid: [vid] },
      // A write names exactly the body it will upload.
      { op: 'putCommit', vid, lsn: 1 },
      { op: 'putSegment', sid, upload: UploadBody.of(new Uint8Array(1)) },
      { op: 'putSegment', vid, sid, upload: { ...UploadBody.of(new Uint8Array(1)), length: '1' } },
      { op: 'putSegment', vid, sid, upload: { ...UploadBody.of(new Uint8Array(1)), length: -1 } },
      { op: 'putSegment', vid, sid, upload: { ...UploadBody.of(new Uint8Array(1)), length: 2 ** 40 } },
      { op: 'putSegment', vid, sid, upload: { ...UploadBody.of(new Uint8Array(1)), sha256: 'abc' } },
      { op: 'putSegment', vid, sid, upload: { ...UploadBody.of(new Uint8Array(1)), md5: UploadBody.of(new Uint8Array(1)).sha256 } },
      { op: 'putLatest', vid, upload: [] },
      { op: 'putCommit', vid: `${vid}/..`, lsn: 1 },
      { op: 'getSegment', sid: vid },
      { op: 'getSegment', sid: `${sid}?x-id=DeleteObject` },
      { op: 'deleteSegment', sid: `../${sid}` },
      { op: 'listLog', vid, after: 'volumes/x?list-type=1' },
      { op: 'listLog', vid, after: 'a&prefix=' },
      { op: 'listLog', vid, after: '%2F' },
      { op: 'listLog', vid, after: 'x'.repeat(201) },
      { op: 'listSegments', after: 'segments/ é' },
      { op: 'listVolumes', after: 7 },
      { op: 'getCommit', vid, lsn: 1, via: sid },
      { op: 'putFork', vid, ancestors: [other], inlineCommits: [1] },
      { op: 'putFork', vid, ancestors: [other], inlineCommits: { [other]: 1 } },
      { op: 'putFork', vid, ancestors: [other], inlineCommits: { [other]: [0] } },
      { op: 'putFork', vid, ancestors: [other], inlineCommits: { [other]: ['1'] } },
      // Commits only of an ancestor the record lists.
      { op: 'putFork', vid, ancestors: [other], inlineCommits: { [vid]: [1] } },
      { op: 'putFork', vid, ancestors: [other], inlineCommits: { x: [1] } },
      { op: 'getEverything' },
      { op: 'getcommit', vid, lsn: 1 },
    ];
    for (const op of bad) {
      const e = expectScionError(() => parsePresignRequest({ ops: [{ op: 'getSegment', sid }, op] }), 'InvalidInput');
      expect(e.message, JSON.stringify(op)).toMatch(/^Op 1 /);
    }
  });
});

describe('presignOpKey', () => {
  it('is the same for equal ops and different for different ops (a URL cache key)', () => {
    fc.assert(
      fc.property(anyOp, anyOp, (a, b) => {
        expect(presignOpKey(a)).toBe(presignOpKey(overTheWire(a) as PresignOp));
        // A listing from no cursor and from the empty cursor are the same listing.
        const canonical = (op: PresignOp) => JSON.stringify({ ...op, ...('after' in op || op.op.startsWith('list') ? { after: (op as { after?: string }).after ?? '' } : {}) });
        expect(presignOpKey(a) === presignOpKey(b)).toBe(canonical(a) === canonical(b));
      }),
      { numRuns: 500 },
    );
  });
});
