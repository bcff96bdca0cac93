import { MemoryFile, type SyncFile } from './sync-file.ts';

/**
 * The files of one store of format 2, each opened once for the store's lifetime: page slots, two
 * journals (one active, the other the target of the next checkpoint) and the high-water mark.
 */
export interface StoreFiles {
  readonly pages: SyncFile;
  readonly journals: readonly [SyncFile, SyncFile];
  readonly mark: SyncFile;
  /** A store of format 1 (`volumes.log`) found beside them, to migrate; dropped once migrated. */
  readonly legacy?: SyncFile | undefined;
  /** Deletes the format-1 file after its content is safely in format 2. */
  removeLegacy?(): void;
}

/** The names of the files in a store's directory (OPFS) — also what a MemoryDirectory holds. */
export const STORE_FILE_NAMES = { pages: 'pages.v2', journals: ['journal-0.v2', 'journal-1.v2'], mark: 'mark.v2', legacy: 'volumes.log' } as const;

/**
 * A store's directory in memory. Survives closing the store (pass it again to "restart"), and
 * `copy()` freezes its bytes so crash tests can tear and corrupt each file.
 */
export class MemoryDirectory {
  pages: MemoryFile;
  journals: [MemoryFile, MemoryFile];
  mark: MemoryFile;
  legacy: MemoryFile | undefined;

  constructor(init: { pages?: Uint8Array; journals?: readonly [Uint8Array, Uint8Array]; mark?: Uint8Array; legacy?: Uint8Array } = {}) {
    this.pages = new MemoryFile(init.pages);
    this.journals = [new MemoryFile(init.journals?.[0]), new MemoryFile(init.journals?.[1])];
    this.mark = new MemoryFile(init.mark);
    this.legacy = init.legacy ? new MemoryFile(init.legacy) : undefined;
  }

  /** Fresh file objects over the current bytes (a closed store's files cannot be reopened). */
  files(): StoreFiles {
    const copy = this.copy();
    this.pages = copy.pages;
    this.journals = copy.journals;
    this.mark = copy.mark;
    this.legacy = copy.legacy;
    return {
      pages: this.pages, journals: this.journals, mark: this.mark, legacy: this.legacy,
      removeLegacy: () => void (this.legacy = undefined),
    };
  }

  /** An independent directory holding the same bytes. */
  copy(): MemoryDirectory {
    return new MemoryDirectory({
      pages: this.pages.bytes(), journals: [this.journals[0].bytes(), this.journals[1].bytes()], mark: this.mark.bytes(), legacy: this.legacy?.bytes(),
    });
  }

  /** Bytes held in all files, as OPFS usage would count them. */
  get totalBytes(): number {
    return this.pages.getSize() + this.journals[0].getSize() + this.journals[1].getSize() + this.mark.getSize() + (this.legacy?.getSize() ?? 0);
  }
}
