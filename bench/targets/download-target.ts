// Peer: download the whole database file, then query it in memory (sqlite3_deserialize). One request; the
// bytes are the file's size. The reference for the cold-read rows.
import type { TargetFactory, Traffic } from './target.ts';

export const createDownloadTarget: TargetFactory = (sqlite3) => {
  const { capi, wasm } = sqlite3;
  let traffic: Traffic = { requests: 0, bytes: 0 };
  return {
    name: 'download whole file',
    async openRemote(dataset) {
      const started = performance.now();
      const response = await fetch(dataset.url);
      if (!response.ok) throw new Error(`GET ${dataset.url}: HTTP ${response.status}`);
      const bytes = new Uint8Array(await response.arrayBuffer());
      traffic = { requests: 1, roundTrips: 1, bytes: bytes.byteLength, waitMs: performance.now() - started };
      const db = new sqlite3.oo1.DB(':memory:');
      const pData = wasm.allocFromTypedArray(bytes);
      // FREEONCLOSE hands the buffer to SQLite; RESIZEABLE keeps the copy writable, as a downloaded file would be.
      const rc = capi.sqlite3_deserialize(db.pointer as number, 'main', pData, bytes.byteLength, bytes.byteLength,
        capi.SQLITE_DESERIALIZE_FREEONCLOSE | capi.SQLITE_DESERIALIZE_RESIZEABLE);
      if (rc !== 0) {
        db.close();
        throw new Error(`sqlite3_deserialize: ${capi.sqlite3_js_rc_str(rc)}`);
      }
      return db;
    },
    traffic: () => traffic,
  };
};
