/**
 * Which frames of a push to deflate. Deflating costs the pushing thread CPU and saves bytes on the
 * link; which one runs out first decides. From what the push measured so far — the thread's time per
 * raw byte of a deflated and of a stored frame, the deflated frames' ratio, the uploads' rate — it
 * stores the share of frames that makes the thread and the link finish together: none on a link
 * slower than deflate (a push there is as short as its compressed bytes), most on loopback.
 * Either codec makes a valid frame (its CRC and digest are of what it holds; the commit hash is of
 * the pages), so a wrong guess costs time, never correctness.
 */
export type FrameCodec = 'deflate' | 'store';

/** What the choice needs to know: times per byte (in one unit, any) and the deflated size's share. */
export interface PushRates {
  /** Thread time per raw byte of a deflated frame, and of a stored one. */
  readonly deflateCpu: number;
  readonly storeCpu: number;
  /** Deflated bytes per raw byte (≤ 1). */
  readonly ratio: number;
  /** Link time per uploaded byte. */
  readonly link: number;
}

/**
 * The share of raw bytes to store (0–1): the time of a push is the larger of its thread time and its
 * link time, both linear in the share, so the best share is where they cross — or an end, if they do not.
 */
export function storedShare({ deflateCpu, storeCpu, ratio, link }: PushRates): number {
  const cpuGain = deflateCpu - storeCpu; // thread time saved per raw byte stored instead
  const linkCost = (1 - ratio) * link; // link time added per raw byte stored instead
  const deflatedGap = deflateCpu - ratio * link; // > 0: all deflated, the thread is the bottleneck
  if (deflatedGap <= 0 || cpuGain <= 0) return 0;
  return Math.min(1, deflatedGap / (cpuGain + linkCost));
}

/** Uploaded bytes before the choice trusts its link rate (one part of a large push). */
const MIN_LINK_BYTES = 1024 * 1024;
/** Deflated raw bytes before it trusts the deflate cost (four frames). */
const MIN_DEFLATED_BYTES = 1024 * 1024;

/** What a segment stream tells the choice and asks it (CodecChoice; tests pass their own). */
export interface CodecChooser {
  choose(rawBytes: number): FrameCodec;
  built(codec: FrameCodec, rawBytes: number, wireBytes: number, ms: number): void;
  uploadStarted(): void;
  uploadFinished(bytes: number): void;
}

/**
 * One push's choice: `choose` per frame, in order; `built` when a frame is done, with the thread time
 * it took (the time the builder was not waiting on uploads); `uploadStarted`/`uploadFinished` around
 * each part. Deflates everything until it has seen a part land and a few frames deflate.
 */
export class CodecChoice implements CodecChooser {
  readonly #now: () => number;
  readonly #built = { deflate: { raw: 0, wire: 0, ms: 0 }, store: { raw: 0, wire: 0, ms: 0 } };
  #chosenRaw = 0;
  #storedRaw = 0;
  #uploading = 0;
  #uploadedBytes = 0;
  #linkMs = 0;
  #lastEvent = 0;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Stores a frame while the raw bytes stored so far are short of the share of all chosen so far. */
  choose(rawBytes: number): FrameCodec {
    const share = this.share();
    this.#chosenRaw += rawBytes;
    if (this.#storedRaw + rawBytes > share * this.#chosenRaw) return 'deflate';
    this.#storedRaw += rawBytes;
    return 'store';
  }

  built(codec: FrameCodec, rawBytes: number, wireBytes: number, ms: number): void {
    const b = this.#built[codec];
    b.raw += rawBytes;
    b.wire += wireBytes;
    b.ms += ms;
  }

  uploadStarted(): void {
    this.#tick();
    this.#uploading++;
  }

  uploadFinished(bytes: number): void {
    this.#tick();
    this.#uploading--;
    this.#uploadedBytes += bytes;
  }

  /** The share of the push's raw bytes to store, by what it measured so far (0 until both rates are known). */
  share(): number {
    const { deflate, store } = this.#built;
    if (this.#uploadedBytes < MIN_LINK_BYTES || deflate.raw < MIN_DEFLATED_BYTES || this.#linkMs <= 0) return 0;
    return storedShare({
      deflateCpu: deflate.ms / deflate.raw,
      // Not measured before the first stored frame: nothing but copies and a CRC, so about free.
      storeCpu: store.raw > 0 ? store.ms / store.raw : 0,
      ratio: Math.min(1, deflate.wire / deflate.raw),
      link: this.#linkMs / this.#uploadedBytes,
    });
  }

  /** Link time is the time at least one upload was in flight (parts overlap). */
  #tick(): void {
    const now = this.#now();
    if (this.#uploading > 0) this.#linkMs += now - this.#lastEvent;
    this.#lastEvent = now;
  }
}
