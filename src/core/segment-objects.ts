import type { Commit, SegmentAddress, SegmentRef } from './commit.ts';
import { invalidInput } from './errors.ts';
import { frameRange } from './segment.ts';

/**
 * Where frames [first, last] of a segment are stored: the object and the byte range in it. A segment
 * is one object (its frames back to back), several (`parts`, each a run of whole frames) or bytes
 * inside its commit object (`inline`). The frames must lie in one object (see `frameObject`).
 */
export function frameSpan(seg: SegmentRef, first: number, last: number): { at: SegmentAddress; start: number; end: number } {
  const object = frameObject(seg, first);
  if (frameObject(seg, last).index !== object.index || last < first) throw invalidInput(`Frames ${first}–${last} of segment ${seg.sid} are not in one object.`);
  const base = frameRange(seg.frames, object.firstFrame).start - object.offset;
  return { at: object.at, start: frameRange(seg.frames, first).start - base, end: frameRange(seg.frames, last).end - base };
}

/** The object holding frame `i`: its index among the segment's objects, its address, its first frame, and where that frame starts in it. */
export function frameObject(seg: SegmentRef, i: number): { index: number; at: SegmentAddress; firstFrame: number; offset: number } {
  if (seg.inline) return { index: 0, at: { sid: seg.sid, home: seg.home, inLog: seg.inline.lsn }, firstFrame: 0, offset: seg.inline.offset };
  if (!seg.parts) return { index: 0, at: { sid: seg.sid, home: seg.home }, firstFrame: 0, offset: 0 };
  let firstFrame = 0;
  for (const [index, part] of seg.parts.entries()) {
    if (i < firstFrame + part.frames) return { index, at: { sid: part.sid, home: seg.home }, firstFrame, offset: 0 };
    firstFrame += part.frames;
  }
  throw invalidInput(`Segment ${seg.sid} has no frame ${i}.`);
}

/** The segment objects a commit's segment is stored in (none when its frames are inside the commit object). */
export function segmentObjects(seg: SegmentRef): SegmentAddress[] {
  if (seg.inline) return [];
  return seg.parts ? seg.parts.map((p) => ({ sid: p.sid, home: seg.home })) : [{ sid: seg.sid, home: seg.home }];
}

/** How a reader of `commit` addresses object `at` of its segment: with `via` when it lives under another volume's prefix (a fork's reference). */
export function readVia(commit: Commit, at: SegmentAddress): SegmentAddress {
  return at.home !== undefined && at.home !== commit.vid ? { ...at, via: commit.vid } : at;
}

/** As frameSpan for the segment of `commit`, addressed as its reader reads it (readVia). */
export function frameSpanOf(commit: Commit, first: number, last: number): { at: SegmentAddress; start: number; end: number } {
  const span = frameSpan(commit.segment as SegmentRef, first, last);
  return { ...span, at: readVia(commit, span.at) };
}

/** Every object a reader of `commit` may read its frames from (inline frames: its commit object). */
export function segmentReadsOf(commit: Commit): SegmentAddress[] {
  const seg = commit.segment as SegmentRef;
  if (seg.inline) return [readVia(commit, frameObject(seg, 0).at)];
  return segmentObjects(seg).map((at) => readVia(commit, at));
}
