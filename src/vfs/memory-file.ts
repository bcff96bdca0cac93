/** A file SQLite needs besides the database (journal, temp, statement journal): bytes in memory. */
export class MemoryFile {
  #data = new Uint8Array(0);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Copies into `dest`; returns the bytes read (short at the end of the file). */
  read(dest: Uint8Array, offset: number): number {
    const n = Math.max(0, Math.min(dest.byteLength, this.#size - offset));
    dest.set(this.#data.subarray(offset, offset + n));
    return n;
  }

  write(src: Uint8Array, offset: number): void {
    const end = offset + src.byteLength;
    if (end > this.#data.byteLength) {
      const next = new Uint8Array(Math.max(end, this.#data.byteLength * 2, 4096));
      next.set(this.#data.subarray(0, this.#size));
      this.#data = next;
    }
    this.#data.set(src, offset);
    this.#size = Math.max(this.#size, end);
  }

  truncate(size: number): void {
    if (size < this.#size) this.#data.fill(0, size, this.#size);
    else if (size > this.#data.byteLength) this.write(new Uint8Array(0), size);
    this.#size = size;
  }
}
