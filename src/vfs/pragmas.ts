import type { Runtime } from '../runtime/index.ts';
import type { VolumeFile } from './volume-file.ts';

/** Scion's version, reported by `PRAGMA graft_version`. */
export const SCION_VERSION = '0.1.0';

const ASYNC_PRAGMAS = new Set(['graft_push', 'graft_pull', 'graft_fetch', 'graft_hydrate', 'graft_fork', 'graft_clone', 'graft_checkout']);

/**
 * Pragmas the VFS answers inside SQLite (xFileControl is synchronous): the 4096-byte page size and
 * no WAL are enforced here, and the read-only graft_* pragmas answer with JSON. The asynchronous
 * graft_* pragmas (push, pull, …) are run by Scion's worker before SQLite sees them; reaching here
 * means they were sent to SQLite directly. Returns undefined for pragmas SQLite should handle.
 */
export function answerPragma(runtime: Runtime, file: VolumeFile, name: string, value: string | undefined): { ok: boolean; text?: string } | undefined {
  if (name === 'page_size' && value !== undefined && Number(value) !== 4096) {
    return { ok: false, text: `Scion volumes use 4096-byte pages; page_size=${value} is not supported. Leave the page size alone (new databases get 4096).` };
  }
  if (name === 'journal_mode' && value?.toLowerCase() === 'wal') {
    return { ok: false, text: 'Scion does not support WAL: the volume commit is the atomic unit. Use journal_mode=MEMORY (Scion sets it for you).' };
  }
  if (!name.startsWith('graft_')) return undefined;
  if (ASYNC_PRAGMAS.has(name)) {
    return { ok: false, text: `PRAGMA ${name} is asynchronous: run it through Scion's exec() as a statement of its own.` };
  }
  const graft = file.tag && runtime.tagGet(file.tag);
  switch (name) {
    case 'graft_version':
      return { ok: true, text: SCION_VERSION };
    case 'graft_status':
      return { ok: true, text: JSON.stringify(graft ? runtime.graftStatus(graft) : null) };
    case 'graft_info':
      return { ok: true, text: JSON.stringify({ tag: file.tag ?? null, graft: graft ? runtime.graftGet(graft) : null, snapshot: file.snapshot() }) };
    case 'graft_tags':
      return { ok: true, text: JSON.stringify(runtime.tagList()) };
    default:
      return { ok: false, text: `Unknown pragma ${name}. Scion's pragmas: graft_status, graft_info, graft_tags, graft_version, ${[...ASYNC_PRAGMAS].join(', ')}.` };
  }
}
