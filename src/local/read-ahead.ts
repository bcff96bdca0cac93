import { PAGE_SIZE } from '../core/index.ts';
import type { SyncFile } from './sync-file.ts';

/** Slots read by one call once reads go forward slot by slot (256 KiB). */
const READ_AHEAD_SLOTS = 64;

/**
 * Reads 4 KiB slots of the page file, one call per run of consecutive slots while reads move slot by
 * slot, forward (a scan) or backward (SQLite's integrity checks walk each B-tree page's children
 * last to first, so quick_check of an import reads a freshly written file downward): each read of an
 * OPFS sync access handle has a fixed cost (hundreds of µs in headless Chromium on a busy machine), so
 * a check of 50,000 pages was 50,000 calls. A jump reads just
 * the slot asked for. The store calls `invalidate` before anything writes or cuts the file, so a slot
 * is never served from bytes older than the file's.
 */
export class SlotReadAhead {
  #run = new Uint8Array(0);
  #first = 0;
  #count = 0;
  #last = -2;

  /** Fills `target` with slot `slot` of `file` (`slotCount` slots in use); false if the file is shorter. */
  read(file: SyncFile, slot: number, slotCount: number, target: Uint8Array): boolean {
    const step = slot - this.#last;
    this.#last = slot;
    if (slot >= this.#first && slot < this.#first + this.#count) {
      const at = (slot - this.#first) * PAGE_SIZE;
      target.set(this.#run.subarray(at, at + PAGE_SIZE));
      return true;
    }
    // Forward: this slot and the ones after it; backward: the ones before it and this one.
    const first = step === 1 ? slot : step === -1 ? Math.max(0, slot - READ_AHEAD_SLOTS + 1) : slot;
    const count = step === 1 ? Math.min(READ_AHEAD_SLOTS, slotCount - slot) : step === -1 ? slot - first + 1 : 1;
    if (count <= 1) return file.read(target, { at: slot * PAGE_SIZE }) === PAGE_SIZE;
    if (this.#run.byteLength < READ_AHEAD_SLOTS * PAGE_SIZE) this.#run = new Uint8Array(READ_AHEAD_SLOTS * PAGE_SIZE);
    const n = file.read(this.#run.subarray(0, count * PAGE_SIZE), { at: first * PAGE_SIZE });
    this.#first = first;
    this.#count = Math.floor(n / PAGE_SIZE);
    if (slot >= first + this.#count) return false;
    const at = (slot - first) * PAGE_SIZE;
    target.set(this.#run.subarray(at, at + PAGE_SIZE));
    return true;
  }

  /** Forgets the bytes read ahead: the file is about to change. */
  invalidate(): void {
    this.#count = 0;
  }
}
