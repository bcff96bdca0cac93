/** Scion's version, reported by `PRAGMA graft_version`. */
export const SCION_VERSION = '0.1.0';

/**
 * Pragmas the VFS refuses inside SQLite (xFileControl): the 4096-byte page size and no WAL are
 * enforced here. Scion's own graft_* pragmas belong to the worker (worker/pragmas.ts), which runs them
 * before SQLite sees the text; one reaching SQLite was sent around it, and is refused with the way
 * there. Returns why a pragma is refused, or undefined for pragmas SQLite should handle.
 */
export function refusePragma(name: string, value: string | undefined): string | undefined {
  if (name === 'page_size' && value !== undefined && Number(value) !== 4096) {
    return `Scion volumes use 4096-byte pages; page_size=${value} is not supported. Leave the page size alone (new databases get 4096).`;
  }
  if (name === 'journal_mode' && value?.toLowerCase() === 'wal') {
    return 'Scion does not support WAL: the volume commit is the atomic unit. Use journal_mode=MEMORY (Scion sets it for you).';
  }
  if (name.startsWith('graft_')) return `PRAGMA ${name} is Scion's: run it through Scion's exec() or query(), as a statement of its own.`;
  return undefined;
}
