// Peer: sqlite-wasm's in-memory database. Nothing persists, so it has no open-existing or remote rows.
import type { TargetFactory } from './target.ts';

export const createMemoryTarget: TargetFactory = (sqlite3) => ({
  name: ':memory:',
  open: async () => new sqlite3.oo1.DB(':memory:'),
});
