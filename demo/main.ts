// The demo page: two devices (two Scion workers on separate OPFS directories) sharing one bucket.
// Device A creates the database and pushes it; device B starts as a lazy clone of A's remote volume.
import type { Database, Scion } from '../src/client/index.ts';
import { Device, DATABASE, type DemoConfig } from './device.ts';
import { h } from './dom.ts';
import { SCHEMA } from './issues.ts';

const WELCOME: [string, string][] = [
  ['Search me: full-text search runs in SQLite (FTS5)', 'Type a word in the search box; only the index pages it needs are read.'],
  ['Go offline, write, come back online', 'Switch a device offline, add an issue, switch it back and push: the other device pulls it and its list updates by itself. A lazy clone first offers to download the pages it never fetched: offline, a write that needs one fails with PageNotLocal.'],
  ['Load the sample, then watch the other device fetch lazily', 'The sample is one local commit; after a push the other device pulls commit records only, and a search fetches a few frames.'],
];

/** `?sample=5` sizes the sample in MB (default 20). */
const sampleMegabytes = Math.max(1, Number(new URLSearchParams(location.search).get('sample') ?? 20) || 20);

async function main(): Promise<void> {
  const root = document.querySelector('#devices') as HTMLElement;
  const status = document.querySelector('#boot') as HTMLElement;
  const config = (await (await fetch('/scion-config.json')).json()) as DemoConfig;
  const a = new Device({ id: 'a', label: 'Device A', config, sampleMegabytes }, 'Device B');
  const b = new Device({ id: 'b', label: 'Device B', config, sampleMegabytes }, 'Device A');
  a.other = b;
  b.other = a;
  root.replaceChildren(a.element, b.element);
  document.querySelector('#reset-demo')?.addEventListener('click', () => void resetDemo([a, b]));

  status.textContent = 'Starting device A…';
  await a.start(openOrCreate);
  status.textContent = 'Starting device B…';
  await b.start(async (scion) => openOrClone(scion, a.db));
  status.textContent = '';
  document.body.dataset.ready = 'true';
}

/** Device A: the database, created with its schema and a few issues, and pushed so B can clone it. */
async function openOrCreate(scion: Scion): Promise<Database> {
  const db = await scion.open(DATABASE);
  const [table] = await db.query("SELECT 1 AS yes FROM sqlite_schema WHERE name = 'issue'");
  if (!table) {
    await db.transaction(async (tx) => {
      await tx.exec(SCHEMA);
      for (const [i, [title, body]] of WELCOME.entries()) {
        await tx.exec('INSERT INTO issue(title, body, author, created_at) VALUES (?, ?, ?, ?)', [title, body, 'Device A', Date.now() + i]);
      }
    });
    await db.push().catch(() => undefined); // offline at first start: B starts empty and pulls later
  }
  return db;
}

/** Device B: its database if it has one, else a lazy clone of A's remote volume (commit records only). */
async function openOrClone(scion: Scion, other: Database): Promise<Database> {
  const exists = (await scion.tags()).some((t) => t.name === DATABASE);
  if (exists) return scion.open(DATABASE);
  return scion.open(DATABASE, { clone: (await other.status()).remote });
}

/** Ends both workers, deletes their OPFS directories and catalogs, and reloads: a fresh start. */
async function resetDemo(devices: Device[]): Promise<void> {
  if (!confirm('Delete both devices\' local data and start over? (The bucket keeps its objects.)')) return;
  await Promise.all(devices.map((d) => d.close().catch(() => undefined)));
  const root = await navigator.storage.getDirectory();
  for (const d of devices) {
    await root.removeEntry(d.directory, { recursive: true }).catch(() => undefined);
    await new Promise((resolve) => {
      const req = indexedDB.deleteDatabase(d.directory);
      req.onsuccess = req.onerror = req.onblocked = resolve;
    });
  }
  location.reload();
}

main().catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  const hint = /Forbidden|open elsewhere/.test(message) ? ' The demo is probably open in another tab: close it there and reload.' : '';
  document.querySelector('#boot')?.replaceChildren(h('span', { class: 'error-text' }, `The demo could not start: ${message}${hint}`));
});
