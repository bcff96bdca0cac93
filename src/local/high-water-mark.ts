import { crc32c } from '../core/index.ts';
import type { SyncFile } from './sync-file.ts';

/**
 * The durable high-water mark: which journal is active (its generation) and where its acknowledged
 * records end. It lives in a file of its own, apart from the journal's tail, so a journal cut short
 * or damaged below the mark is detected instead of being mistaken for a torn write.
 *
 * Two 32-byte slots written in turn (sequence number even → slot 0, odd → slot 1), so a torn mark
 * write leaves the previous mark intact. Slot: magic u32 | format u32 | seq u32 | generation u32 |
 * journalEnd u64 | reserved u32 | crc u32 (over the first 28 bytes).
 */
export interface HighWaterMark {
  readonly seq: number;
  readonly generation: number;
  readonly journalEnd: number;
}

const MARK_MAGIC = 0x4b52_4d53; // "SMRK" little-endian
/** 3: checkpoints are Image records. A store of format 2 is read as it is; its next checkpoint writes an image. */
export const STORE_FORMAT = 3;
export const READABLE_FORMATS: readonly number[] = [2, 3];
const SLOT = 32;
/** One mark is written per commit: into this buffer (writes are synchronous), not a new one. */
const slotBuffer = new Uint8Array(SLOT);
const slotView = new DataView(slotBuffer.buffer);

export const HighWaterMark = {
  /**
   * The newest intact mark; undefined if the file holds none (a new store); 'unreadable' if it holds
   * bytes but no intact mark; newerFormat for a mark written by a newer Scion.
   */
  read(file: SyncFile): HighWaterMark | 'unreadable' | { readonly newerFormat: number } | undefined {
    const buf = new Uint8Array(2 * SLOT);
    const n = file.read(buf, { at: 0 });
    let best: HighWaterMark | undefined;
    for (let slot = 0; slot < 2; slot++) {
      if (n < (slot + 1) * SLOT) break;
      const view = new DataView(buf.buffer, slot * SLOT, SLOT);
      if (view.getUint32(0, true) !== MARK_MAGIC || view.getUint32(28, true) !== crc32c(buf.subarray(slot * SLOT, slot * SLOT + 28))) continue;
      const format = view.getUint32(4, true);
      if (!READABLE_FORMATS.includes(format)) return { newerFormat: format };
      const mark = { seq: view.getUint32(8, true), generation: view.getUint32(12, true), journalEnd: Number(view.getBigUint64(16, true)) };
      if (!best || mark.seq > best.seq) best = mark;
    }
    if (!best && buf.subarray(0, n).some((b) => b !== 0)) return 'unreadable';
    return best;
  },

  /** Writes `mark` into its slot and flushes; the other slot keeps the previous mark. */
  write(file: SyncFile, mark: HighWaterMark, format: number = STORE_FORMAT): void {
    const buf = slotBuffer;
    const view = slotView;
    view.setUint32(0, MARK_MAGIC, true);
    view.setUint32(4, format, true);
    view.setUint32(8, mark.seq, true);
    view.setUint32(12, mark.generation, true);
    view.setBigUint64(16, BigInt(mark.journalEnd), true);
    view.setUint32(28, crc32c(buf.subarray(0, 28)), true);
    const written = file.write(buf, { at: (mark.seq % 2) * SLOT });
    if (written !== SLOT) throw new ShortWrite(written, SLOT);
    file.flush();
  },
} as const;

/**
 * OPFS reports a full quota as a short write; callers turn it into QuotaExceeded. Chromium reports a full
 * disk (the OS's "no space") by returning its internal error code -8 as an unsigned count: 4,294,967,288
 * bytes "written", more than were asked for.
 */
export class ShortWrite extends Error {
  constructor(written: number, wanted: number) {
    super(written > wanted
      ? `the disk is full: the browser reported ${written} bytes written of ${wanted}, its code for "no space left on the device"`
      : `wrote ${written} of ${wanted} bytes`);
  }
}
