// What a user writes: open a database, write, read back, push it; with ?clone=<volume id> (another
// device: a second browser context) clone that volume and read it (its pages come from the bucket).
// The page reports JSON in #out for the test.
// main.ts (Vite) and main-esbuild.ts differ only in where the DB worker comes from.
import { isScionError, Scion, type ScionOptions } from 'scion-db';

type Note = { id: number; body: string }; // an interface would not satisfy Row (no index signature)

const out = document.querySelector('#out') as HTMLElement;
const params = new URLSearchParams(location.search);

async function run(options: ScionOptions): Promise<unknown> {
  // ?worker=URL, ?workerUrl=URL: the app passes a worker of its own, or its URL (the tests pass ones that cannot load).
  const worker = params.get('worker');
  const workerUrl = params.get('workerUrl');
  const scion = await Scion.open({
    directory: params.get('dir') ?? 'consumer',
    multiTab: false,
    remote: { presignUrl: '/presign', token: 'consumer-token' },
    ...(worker ? { worker: new Worker(worker, { type: 'module' }) } : {}),
    ...(workerUrl ? { workerUrl } : {}),
    ...options,
  });
  try {
    const clone = params.get('clone');
    if (clone) {
      const copy = await scion.open('notes-copy', { clone });
      return { ok: true, cloned: await copy.query<Note>('SELECT id, body FROM note ORDER BY id') };
    }
    const db = await scion.open('notes');
    await db.exec('CREATE TABLE IF NOT EXISTS note(id INTEGER PRIMARY KEY, body TEXT)');
    await db.exec('INSERT INTO note(body) VALUES (?)', ['written by a consumer app']);
    const local = await db.query<Note>('SELECT id, body FROM note ORDER BY id');
    await db.push();
    return { ok: true, local, remote: (await db.status()).remote };
  } finally {
    await scion.close();
  }
}

/** Runs the app and writes its outcome to #out. */
export function main(options: ScionOptions = {}): void {
  run(options).then(
    (result) => (out.textContent = JSON.stringify(result)),
    (e: unknown) => (out.textContent = JSON.stringify({ ok: false, code: isScionError(e) ? e.code : undefined, message: String(e) })),
  );
}
