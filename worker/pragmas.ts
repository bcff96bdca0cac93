// The graft_* pragmas, run by the worker before SQLite sees them: one statement per call, results
// as rows of plain columns, with JSON text where a value is structured.
import { ScionError } from '../src/core/index.ts';
import { SCION_VERSION } from '../src/vfs/index.ts';
import { pendingIntents } from './pending-intents.ts';
import type { Row } from '../src/protocol/index.ts';
import type { CheckoutVolume } from '../src/protocol/index.ts';
import type { Connection, Session } from './session.ts';
import type { PragmaCall } from './sql-text.ts';

const orNull = (v: string | number | undefined): string | number | null => v ?? null;
const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

export async function runPragma(session: Session, conn: Connection, call: PragmaCall): Promise<Row[]> {
  switch (call.name) {
    case 'graft_version':
      return [{ scion: SCION_VERSION, sqlite: session.sqlite3.version.libVersion }];
    case 'graft_status':
      return [statusRow(session, conn)];
    case 'graft_info': {
      const s = session.status(conn);
      const snapshot = conn.checkout?.snapshot ?? session.runtime.graftSnapshot(s.local);
      return [{
        name: conn.name, graft: s.local, remote: s.remote, page_count: snapshot.pageCount, size_bytes: snapshot.pageCount * 4096,
        pages_missing: session.runtime.snapshotMissingPages(snapshot).size, snapshot: json(snapshot),
        checkout: json(conn.checkout && { volume: conn.checkout.volume, lsn: conn.checkout.lsn }),
      }];
    }
    case 'graft_intents':
      return pendingIntents(session, conn);
    case 'graft_tags':
      return session.tags().map((t) => ({ name: t.name, graft: t.graft, remote: t.remote, state: t.state }));
    case 'graft_fetch':
      return [{ remote_latest: orNull((await session.fetch(conn)).remoteLatest) }];
    case 'graft_pull': {
      const r = await session.pull(conn);
      return [{
        outcome: r.outcome, from_lsn: r.outcome === 'pulled' ? orNull(r.from) : null, to_lsn: r.outcome === 'pulled' ? r.to : null,
        ahead: r.outcome === 'diverged' ? r.ahead : null, behind: r.outcome === 'diverged' ? r.behind : null, ways_out: r.outcome === 'diverged' ? json(r.waysOut) : null,
      }];
    }
    case 'graft_push': {
      const r = await session.push(conn);
      return [{
        outcome: r.outcome, remote_lsn: r.outcome === 'pushed' ? r.remoteLsn : null, local_lsn: r.outcome === 'pushed' ? r.localLsn : null,
        pages: r.outcome === 'pushed' ? r.pages : null, bytes: r.outcome === 'pushed' ? r.bytes : null,
        ahead: r.outcome === 'diverged' ? r.ahead : null, behind: r.outcome === 'diverged' ? r.behind : null, ways_out: r.outcome === 'diverged' ? json(r.waysOut) : null,
      }];
    }
    case 'graft_hydrate': {
      const p = await session.hydrate(conn);
      return [{ frames_done: p.framesDone, frames_total: p.framesTotal, bytes: p.bytes }];
    }
    case 'graft_fork': {
      const f = await session.fork(conn, call.arg === undefined ? {} : { name: call.arg });
      return [{ name: f.name, graft: f.graft, remote: f.remote, previous: f.previous }];
    }
    case 'graft_clone':
      await session.clone(conn, call.arg);
      return [statusRow(session, conn)];
    case 'graft_checkout': {
      await session.pin(conn, parseCheckoutArg(call.arg));
      const snapshot = conn.checkout?.snapshot ?? session.runtime.graftSnapshot(session.runtime.mustGetTag(conn.name));
      return [{ volume: conn.checkout?.volume ?? null, lsn: conn.checkout?.lsn ?? null, page_count: snapshot.pageCount }];
    }
  }
}

function statusRow(session: Session, conn: Connection): Row {
  const s = session.status(conn);
  return {
    name: s.name, local: s.local, remote: s.remote, state: s.state, local_lsn: orNull(s.localLsn), local_watermark: orNull(s.localWatermark),
    remote_lsn: orNull(s.remoteLsn), remote_latest: orNull(s.remoteLatest), ahead: s.ahead, behind: s.behind,
    pending_push: json(s.pendingPush), page_count: s.pageCount,
  };
}

/** `'5'` or `'local:5'`, `'remote:5'`, or `'latest'` (back to the newest snapshot, writable). */
function parseCheckoutArg(arg: string | undefined): { lsn: number; volume: CheckoutVolume } | undefined {
  if (arg === undefined) throw new ScionError('InvalidInput', "graft_checkout needs an LSN: PRAGMA graft_checkout('5'), ('remote:5') or ('latest').");
  if (arg.toLowerCase() === 'latest') return undefined;
  const m = /^(?:(local|remote):)?(\d+)$/i.exec(arg.trim());
  if (!m) throw new ScionError('InvalidInput', `graft_checkout: not an LSN: ${JSON.stringify(arg)}. Use '5', 'local:5', 'remote:5' or 'latest'.`);
  return { lsn: Number(m[2]), volume: ((m[1] ?? 'local').toLowerCase()) as CheckoutVolume };
}
