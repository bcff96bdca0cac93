import type { Database, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { Tag, type Snapshot } from '../core/index.ts';
import type { ScionVfs } from './scion-vfs.ts';

/**
 * Opens a connection on an existing tag (create it with runtime.tagOpen first: that is async and
 * xOpen is not). Sets journal_mode=MEMORY and, for an empty database, page_size=4096 before its first
 * write. With `snapshot`, the connection is read-only and pinned to it (checkout).
 */
export function openScionDb(sqlite3: Sqlite3Static, vfs: ScionVfs, tag: string, options: { snapshot?: Snapshot } = {}): Database {
  return vfs.run(() => {
    if (options.snapshot) {
      const db = new sqlite3.oo1.DB({ filename: vfs.pinSnapshot(options.snapshot), flags: 'r', vfs: vfs.name });
      return db;
    }
    const name = Tag.parse(tag);
    const graft = vfs.runtime.mustGetTag(name);
    const db = new sqlite3.oo1.DB({ filename: name, flags: 'c', vfs: vfs.name });
    db.exec('PRAGMA journal_mode=MEMORY');
    if (vfs.runtime.graftSnapshot(graft).pageCount === 0) db.exec('PRAGMA page_size=4096');
    return db;
  });
}
