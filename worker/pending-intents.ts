// PRAGMA graft_intents: the transactions a rebase would replay — the rows of the intent table the local
// commits added over their sync point (the table and its columns are written by the client,
// src/client/intents.ts). Read-only; no network.
import type { Database } from '@sqlite.org/sqlite-wasm';
import { ScionError } from '../src/core/index.ts';
import { openScionDb } from '../src/vfs/index.ts';
import type { Row } from '../src/protocol/index.ts';
import type { Connection, Session } from './session.ts';

const SELECT_INTENTS = 'SELECT id, seq, mutator, args, statements FROM _scion_intent ORDER BY seq';

/** One row per pending intent: `id, seq, kind ('mutator' | 'sql'), mutator, args (JSON), statements (JSON)`. */
export function pendingIntents(session: Session, conn: Connection): Row[] {
  if (conn.checkout) throw new ScionError('InvalidInput', 'graft_intents lists what the database itself would replay; run it on the database, not a checkout.');
  const graft = session.runtime.mustGetGraft(session.runtime.mustGetTag(conn.name));
  return session.vfs.run(() => {
    const local = readIntents(conn.db);
    const pushed = new Set<unknown>();
    if (graft.sync) {
      const base = openScionDb(session.sqlite3, session.vfs, conn.name, { snapshot: session.runtime.volumeCheckout(graft.remote, graft.sync.remote) });
      try {
        for (const r of readIntents(base)) pushed.add(r['id']);
      } finally {
        base.close();
      }
    }
    return local.filter((r) => !pushed.has(r['id'])).map((r) => ({
      id: r['id'] ?? null, seq: r['seq'] ?? null, kind: typeof r['mutator'] === 'string' ? 'mutator' : 'sql', mutator: r['mutator'] ?? null,
      args: r['args'] ?? null, statements: typeof r['mutator'] === 'string' ? null : (r['statements'] ?? null),
    }));
  });
}

function readIntents(db: Database): Row[] {
  try {
    return db.exec({ sql: SELECT_INTENTS, rowMode: 'object', returnValue: 'resultRows' }) as Row[];
  } catch (e) {
    // Nothing was ever recorded in this database.
    if (e instanceof Error && e.message.includes('no such table: _scion_intent')) return [];
    throw e;
  }
}
