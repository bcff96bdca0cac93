/** Size of the probe file, one SQLite page. */
export const PROBE_SIZE = 4096;

export interface OpfsProbeOptions {
  /** File name in the OPFS root; default `probe.bin`. */
  file?: string;
  /** Seed of the byte pattern written; default 1. */
  seed?: number;
  /** false: only read the existing file (throws NotFoundError if it is missing); default true. */
  write?: boolean;
}

export interface OpfsProbeResult {
  file: string;
  /** File size after the flush, in bytes. */
  size: number;
  /** Bytes written (0 when `write` is false) and read back. */
  written: number;
  read: number;
  /** The bytes read from offset 0, as numbers so they cross page.evaluate unchanged. */
  bytes: number[];
}

/** The bytes `opfsProbe` writes for a seed; shared with the Node side of the tests. */
export function probePattern(seed: number): number[] {
  return Array.from({ length: PROBE_SIZE }, (_, i) => (i * 31 + seed) & 0xff);
}

/**
 * Writes a 4 KiB pattern to an OPFS file through a FileSystemSyncAccessHandle, flushes, reads it back.
 * Dedicated worker only: sync access handles do not exist on the main thread.
 */
export async function opfsProbe(options: OpfsProbeOptions = {}): Promise<OpfsProbeResult> {
  const { file = 'probe.bin', seed = 1, write = true } = options;
  const root = await navigator.storage.getDirectory();
  const handle = await root.getFileHandle(file, { create: write });
  const access = await handle.createSyncAccessHandle();
  try {
    let written = 0;
    if (write) {
      access.truncate(0);
      written = access.write(Uint8Array.from(probePattern(seed)), { at: 0 });
      access.flush();
    }
    const buf = new Uint8Array(PROBE_SIZE);
    const read = access.read(buf, { at: 0 });
    return { file, size: access.getSize(), written, read, bytes: Array.from(buf.subarray(0, read)) };
  } finally {
    access.close();
  }
}
