// Plain Node (no TypeScript, no bundler) imports the engine and the presign handler from the installed
// package and uses them: a commit read back from a memory store, and one signed URL from a served handler.
import { LSN, PageIdx, Snapshot, VolumeId } from 'scion-db/core';
import { MemoryCatalog, MemoryStore } from 'scion-db/local';
import { Runtime } from 'scion-db/runtime';
import { bearerTokens, createPresignHandler } from 'scion-db/presign';
import { servePresign } from 'scion-db/presign/node';

// Every other entry loads in Node too (the client and the VFS only do work in a browser and a worker).
for (const entry of ['scion-db', 'scion-db/remote', 'scion-db/vfs', 'scion-db/presign/deno', 'scion-db/presign/workers']) await import(entry);

const rt = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog() });
const graft = await rt.tagOpen('hello');
const writer = rt.graftWriter(graft.local);
writer.writePage(PageIdx.parse(1), new TextEncoder().encode('hello from node'.padEnd(4096, '\0')));
const lsn = Snapshot.head(writer.commit().snapshot).lsn;
const page = rt.readPage(rt.volumeCheckout(graft.local, LSN.parse(lsn)), PageIdx.parse(1));
const text = new TextDecoder().decode(page.subarray(0, page.indexOf(0)));
rt.close();

const handler = createPresignHandler({
  bucket: { endpoint: 'http://127.0.0.1:9', bucket: 'notes', region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's' },
  authorize: bearerTokens({ t: { volumes: '*', write: false, admin: false } }),
});
const server = await servePresign(handler, { port: 0 });
const res = await fetch(`${server.url}/presign`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', Authorization: 'Bearer t' },
  body: JSON.stringify({ ops: [{ op: 'getCommit', vid: VolumeId.random(), lsn: 1 }] }),
});
const body = await res.json();
await server.close();
process.stdout.write(`${JSON.stringify({ text, status: res.status, url: body.urls?.[0]?.url?.slice(0, 25) })}\n`);
