import { describe, expect, it } from 'vitest';
import { CodecChoice, storedShare } from './codec-choice.ts';

const MiB = 1024 * 1024;

describe('storedShare: the share of raw bytes a push stores', () => {
  it('is 0 where the link is slower than deflate: every frame deflated', () => {
    // Deflate at 50 MB/s, a third of the size; the link at 6 MB/s (50 Mbit/s).
    expect(storedShare({ deflateCpu: 1 / 50, storeCpu: 1 / 500, ratio: 0.33, link: 1 / 6 })).toBe(0);
  });

  it('is where thread and link time cross when the link is faster than deflate', () => {
    const rates = { deflateCpu: 1 / 20, storeCpu: 1 / 200, ratio: 0.35, link: 1 / 40 };
    const f = storedShare(rates);
    expect(f).toBeGreaterThan(0.5);
    expect(f).toBeLessThan(1);
    const cpu = (1 - f) * rates.deflateCpu + f * rates.storeCpu;
    const link = ((1 - f) * rates.ratio + f) * rates.link;
    expect(cpu).toBeCloseTo(link, 10);
  });

  it('is 1 when even stored frames leave the link waiting on the thread', () => {
    expect(storedShare({ deflateCpu: 1 / 20, storeCpu: 1 / 50, ratio: 0.35, link: 1 / 1000 })).toBe(1);
  });

  it('is 0 when storing would not save thread time', () => {
    expect(storedShare({ deflateCpu: 1 / 20, storeCpu: 1 / 10, ratio: 0.35, link: 1 / 1000 })).toBe(0);
  });
});

describe('CodecChoice', () => {
  const frame = 256 * 1024;
  /** A clock the test moves. */
  const clock = () => {
    let t = 0;
    return { now: () => t, advance: (ms: number) => void (t += ms) };
  };

  it('deflates until a part has landed and a few frames have deflated', () => {
    const c = clock();
    const choice = new CodecChoice(c.now);
    for (let i = 0; i < 8; i++) {
      expect(choice.choose(frame)).toBe('deflate');
      choice.built('deflate', frame, frame / 3, 100);
    }
    expect(choice.share()).toBe(0);
    choice.uploadStarted();
    c.advance(1);
    choice.uploadFinished(2 * MiB);
    expect(choice.share()).toBeGreaterThan(0);
  });

  it('on a fast link stores most frames after that; on a slow one deflates them all', () => {
    const storedOf = (linkMsPerPart: number) => {
      const c = clock();
      const choice = new CodecChoice(c.now);
      let stored = 0;
      for (let i = 0; i < 200; i++) {
        const codec = choice.choose(frame);
        if (codec === 'store') stored++;
        choice.built(codec, frame, codec === 'store' ? frame : frame / 3, codec === 'store' ? 1 : 10);
        if (i % 8 === 7) {
          choice.uploadStarted();
          c.advance(linkMsPerPart);
          choice.uploadFinished(2 * MiB);
        }
      }
      return stored / 200;
    };
    // Deflate: 10 ms per 256 KiB frame (~26 MB/s). Loopback: 2 MiB in 5 ms. 50 Mbit/s: 2 MiB in 335 ms.
    expect(storedOf(5)).toBeGreaterThan(0.5);
    expect(storedOf(335)).toBe(0);
  });

  it('counts overlapping uploads once: link time is the time any upload was in flight', () => {
    const c = clock();
    const deflated = (choice: CodecChoice) => {
      for (let i = 0; i < 8; i++) choice.built('deflate', frame, frame / 3, 10);
      return choice;
    };
    const overlapped = deflated(new CodecChoice(c.now));
    overlapped.uploadStarted();
    overlapped.uploadStarted();
    c.advance(10);
    overlapped.uploadFinished(MiB);
    overlapped.uploadFinished(MiB);
    const serial = deflated(new CodecChoice(c.now));
    for (let i = 0; i < 2; i++) {
      serial.uploadStarted();
      c.advance(10);
      serial.uploadFinished(MiB);
    }
    expect(overlapped.share()).toBeGreaterThan(serial.share());
  });
});
