import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** Serves a fetch-style handler on node:http. Resolves once listening; `url` has the bound port (port 0 picks one). */
export async function servePresign(
  handler: (req: Request) => Promise<Response>,
  options: { port: number; host?: string | undefined },
): Promise<{ url: string; close(): Promise<void> }> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => void respond(handler, req, res));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port, host, resolve));
  const { port } = server.address() as { port: number };
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const close = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.close((e) => (e ? reject(e) : resolve()));
      server.closeAllConnections(); // keep-alive clients would otherwise hold close() open
    });
  return { url, close };
}

async function respond(handler: (req: Request) => Promise<Response>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    // The body stays a stream so the handler's size limit applies before it is buffered.
    const body = hasBody ? (Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>) : null;
    const response = await handler(new Request(new URL(req.url ?? '/', 'http://localhost'), { method: req.method ?? 'GET', headers, body, duplex: 'half' } as RequestInit));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch {
    // The handler answers its own errors; this is a request node could not convert.
    if (!res.headersSent) res.writeHead(400).end();
    else res.destroy();
  }
}
