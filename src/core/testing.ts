// Test support for core's unit tests (and other folders' tests that need ids). Not exported from index.ts.
import { expect } from 'vitest';
import { ByteWriter, seal, unseal } from './codec.ts';
import type { Commit } from './commit.ts';
import { CommitHash } from './commit-hash.ts';
import { type ErrorCode, isScionError, type ScionError } from './errors.ts';
import type { IdSource } from './gid.ts';
import { SegmentId } from './segment-id.ts';
import { VolumeId } from './volume-id.ts';

/** Runs `fn` and asserts that it throws a ScionError with one of `codes`; returns the error. */
export function expectScionError(fn: () => unknown, ...codes: [ErrorCode, ...ErrorCode[]]): ScionError {
  let thrown: unknown;
  let didThrow = false;
  try {
    fn();
  } catch (e) {
    didThrow = true;
    thrown = e;
  }
  if (!didThrow) expect.fail(`expected a ScionError (${codes.join(' | ')}), but nothing was thrown`);
  const ok = codes.some((code) => isScionError(thrown, code));
  if (!ok) {
    const e = thrown as { name?: unknown; code?: unknown; message?: unknown } | undefined;
    expect.fail(
      `expected a ScionError (${codes.join(' | ')}), got ${String(e?.name)} ${String(e?.code)}: ${String(e?.message ?? thrown)}`,
    );
  }
  return thrown as ScionError;
}

/** A reproducible IdSource: a clock that stays at `startMs` until `tick`ed, and bytes from a seeded PRNG. */
export function seededIds(seed: number, startMs = 1_700_000_000_000): IdSource & { tick(ms?: number): void } {
  let now = startMs;
  let state = seed >>> 0;
  // mulberry32: tiny, seedable, good enough for test bytes.
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    now: () => now,
    random: (bytes) => {
      for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
    },
    tick: (ms = 1) => {
      now += ms;
    },
  };
}

/** A fixed source: time `n` ms, zero random bytes. Ids from it are distinct per `n` and sort by `n`. */
const fixedIds = (n: number): IdSource => ({ now: () => n, random: (bytes) => void bytes.fill(0) });

/** The n-th fake VolumeId: deterministic, and fakeVolumeId(a) < fakeVolumeId(b) when a < b. */
export const fakeVolumeId = (n: number): VolumeId => VolumeId.random(fixedIds(n));

/** The n-th fake SegmentId: deterministic, and fakeSegmentId(a) < fakeSegmentId(b) when a < b. */
export const fakeSegmentId = (n: number): SegmentId => SegmentId.random(fixedIds(n));

/** Unseals `sealed`, lets `edit` change or replace the body, and seals it again with a correct CRC. */
export function reseal(sealed: Uint8Array, edit: (body: Uint8Array) => Uint8Array | void): Uint8Array {
  const body = unseal(sealed, 'test record').slice();
  return seal(edit(body) ?? body);
}

/** A copy of `bytes` with bit `bit` (0 = lowest bit of byte 0) flipped. */
export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3] = (out[bit >> 3] as number) ^ (1 << (bit & 7));
  return out;
}

/** A commit record as remote format 1 wrote it (no segment home, no frame digests), for tests that read old volumes. */
export function encodeCommitV1(c: Commit): Uint8Array {
  const w = new ByteWriter()
    .u32(0x544d_4353)
    .u8(1)
    .u8((c.hash ? 1 : 0) | (c.segment ? 2 : 0))
    .bytes(VolumeId.toBytes(c.vid))
    .varint(c.lsn)
    .varint(c.pageCount);
  if (c.hash) w.bytes(CommitHash.toBytes(c.hash));
  if (c.segment) {
    w.bytes(SegmentId.toBytes(c.segment.sid));
    c.segment.pages.writeTo(w);
    w.varint(c.segment.frames.length);
    for (const f of c.segment.frames) {
      f.pages.writeTo(w);
      w.varint(f.bytes);
    }
    w.varint(c.segment.hotFrames ?? 0);
  }
  return seal(w.finish());
}

/** A fork record as Scion wrote it before listed commits (version 1: the ancestors alone), for tests that read old buckets. */
export function encodeForkV1(vid: VolumeId, ancestors: readonly VolumeId[]): Uint8Array {
  const sorted = [...new Set(ancestors)].sort();
  const w = new ByteWriter().u32(0x4b52_4653).u8(1).bytes(VolumeId.toBytes(vid)).varint(sorted.length);
  for (const a of sorted) w.bytes(VolumeId.toBytes(a));
  return seal(w.finish());
}
