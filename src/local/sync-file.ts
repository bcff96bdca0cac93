/**
 * The blocking file API the log store needs: exactly the shape of OPFS's FileSystemSyncAccessHandle,
 * so a handle is passed as is, and a memory file serves tests and ephemeral stores.
 */
export interface SyncFile {
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

/** A growable in-memory SyncFile. `bytes()` exposes its content so tests can tear or corrupt it. */
export class MemoryFile implements SyncFile {
  #buf: Uint8Array;
  #size: number;
  #closed = false;

  constructor(initial?: Uint8Array) {
    this.#buf = initial ? initial.slice() : new Uint8Array(1 << 16);
    this.#size = initial ? initial.byteLength : 0;
  }

  read(buffer: Uint8Array, { at }: { at: number }): number {
    this.#checkOpen();
    const n = Math.max(0, Math.min(buffer.byteLength, this.#size - at));
    buffer.set(this.#buf.subarray(at, at + n));
    return n;
  }

  write(buffer: Uint8Array, { at }: { at: number }): number {
    this.#checkOpen();
    this.#grow(at + buffer.byteLength);
    this.#buf.set(buffer, at);
    this.#size = Math.max(this.#size, at + buffer.byteLength);
    return buffer.byteLength;
  }

  truncate(size: number): void {
    this.#checkOpen();
    this.#grow(size);
    if (size < this.#size) this.#buf.fill(0, size, this.#size);
    this.#size = size;
  }

  getSize(): number {
    return this.#size;
  }

  flush(): void {
    this.#checkOpen();
  }

  close(): void {
    this.#closed = true;
  }

  /** A copy of the file's content. */
  bytes(): Uint8Array {
    return this.#buf.slice(0, this.#size);
  }

  #grow(size: number): void {
    if (size <= this.#buf.byteLength) return;
    let cap = Math.max(this.#buf.byteLength * 2, 4096); // an empty initial buffer must still grow
    while (cap < size) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#size));
    this.#buf = next;
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('BUG: memory file used after close');
  }
}
