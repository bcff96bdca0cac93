import { createHash } from 'node:crypto';
import { deflateSync } from 'fflate';

let installed = false;

/**
 * Two engine primitives complete off the JS thread, at moments no seed controls: WebCrypto's
 * `digest` (the commit hash) and the native `CompressionStream` (push's deflate, on zlib's thread
 * pool). The simulator swaps them for synchronous equivalents (node:crypto's SHA-256, the same bytes;
 * fflate's raw deflate, which every reader decodes), so every continuation runs when the scheduler
 * says and a seed replays exactly. Other digest algorithms and formats go to the originals.
 */
export function installDeterministicPrimitives(): void {
  if (installed) return;
  installed = true;
  const subtle = globalThis.crypto.subtle;
  const digest = subtle.digest.bind(subtle);
  Object.defineProperty(subtle, 'digest', {
    configurable: true,
    value: (algorithm: AlgorithmIdentifier, data: BufferSource): Promise<ArrayBuffer> => {
      const name = typeof algorithm === 'string' ? algorithm : algorithm.name;
      if (name.toUpperCase() !== 'SHA-256') return digest(algorithm, data);
      const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
      const out = createHash('sha256').update(bytes).digest();
      return Promise.resolve(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer);
    },
  });
  const Native = globalThis.CompressionStream;
  class SyncCompressionStream extends TransformStream<Uint8Array, Uint8Array> {
    constructor(format: CompressionFormat) {
      if (format !== 'deflate-raw') return new Native(format) as unknown as SyncCompressionStream;
      const chunks: Uint8Array[] = [];
      super({
        transform: (chunk) => void chunks.push(chunk),
        flush: (controller) => {
          const all = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
          chunks.reduce((at, c) => (all.set(c, at), at + c.byteLength), 0);
          controller.enqueue(deflateSync(all, { level: 6 }));
        },
      });
    }
  }
  globalThis.CompressionStream = SyncCompressionStream as unknown as typeof CompressionStream;
}
