// A network in front of loopback servers, for the benchmarks: a TCP proxy (bound to 127.0.0.1) that delays every
// byte by half the round-trip time in each direction and queues bytes behind each other at a capped bandwidth.
// All proxies of one `Link` share its capacity, as the bucket, the presign service and the web server share one
// access link in a browser. What it models: propagation delay, serialization at the bottleneck, one RTT of TCP
// handshake per new connection (keep-alive connections pay it once). What it does not: TLS handshakes, slow start,
// loss, a receive window (a proxy buffers what its peer sends as fast as loopback delivers it).
// Being TCP-level, it leaves HTTP untouched: the Host header the client sends is what the server sees, so a
// presigned URL signed for the proxy's address verifies at the bucket behind it.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface NetworkProfile {
  /** Shown in the tables, e.g. `50 ms RTT, 50 Mbit/s`. */
  readonly name: string;
  readonly rttMs: number;
  /** Per direction (the link is symmetric). */
  readonly mbitPerS: number;
}

export const NETWORK_PROFILES: readonly NetworkProfile[] = [
  { name: '50 ms RTT, 50 Mbit/s', rttMs: 50, mbitPerS: 50 },
  { name: '150 ms RTT, 10 Mbit/s', rttMs: 150, mbitPerS: 10 },
];

/** One direction of a link: a byte leaves when the ones before it have (at the link's rate), then travels rtt/2. */
class Pipe {
  #freeAt = 0;
  readonly #bytesPerMs: number;
  readonly #delayMs: number;
  constructor(profile: NetworkProfile) {
    this.#bytesPerMs = (profile.mbitPerS * 1e6) / 8 / 1000;
    this.#delayMs = profile.rttMs / 2;
  }
  /** When `n` bytes handed to the link now arrive at the far end (performance.now() time). */
  arrival(n: number, now = performance.now()): number {
    const start = Math.max(now, this.#freeAt);
    this.#freeAt = start + n / this.#bytesPerMs;
    return this.#freeAt + this.#delayMs;
  }
}

/** A shared access link: `up` carries what clients send, `down` what servers answer. */
export class Link {
  readonly up: Pipe;
  readonly down: Pipe;
  readonly profile: NetworkProfile;
  constructor(profile: NetworkProfile) {
    this.profile = profile;
    this.up = new Pipe(profile);
    this.down = new Pipe(profile);
  }
}

/** Writes chunks to a socket at their arrival times, in order; `end()` ends the socket after the last one. */
class DelayedWriter {
  readonly #queue: { at: number; chunk: Buffer | null }[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly socket: Socket;
  constructor(socket: Socket) {
    this.socket = socket;
  }

  push(at: number, chunk: Buffer | null): void {
    this.#queue.push({ at, chunk });
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer || this.#queue.length === 0) return;
    const wait = Math.max(0, (this.#queue[0] as { at: number }).at - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const now = performance.now();
      while (this.#queue.length && (this.#queue[0] as { at: number }).at <= now + 0.5) {
        const { chunk } = this.#queue.shift() as { chunk: Buffer | null };
        if (this.socket.destroyed) continue;
        if (chunk === null) this.socket.end();
        else this.socket.write(chunk);
      }
      this.#schedule();
    }, wait);
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#queue.length = 0;
  }
}

export interface NetemProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (a free port unless given) and forwards each connection to `upstream` through `link`. */
export async function startNetemProxy(link: Link, upstream: { host: string; port: number }, port = 0): Promise<NetemProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const { rttMs } = link.profile;
    // SYN, SYN-ACK: the first request byte can reach the server one RTT after the client asked to connect.
    const connectedAt = performance.now() + rttMs;
    const server = connect(upstream);
    sockets.add(client).add(server);
    const toServer = new DelayedWriter(server);
    const toClient = new DelayedWriter(client);
    client.on('data', (chunk) => toServer.push(Math.max(connectedAt + rttMs / 2, link.up.arrival(chunk.byteLength)), chunk));
    client.on('end', () => toServer.push(link.up.arrival(0), null));
    server.on('data', (chunk) => toClient.push(link.down.arrival(chunk.byteLength), chunk));
    server.on('end', () => toClient.push(link.down.arrival(0), null));
    const teardown = (): void => {
      toServer.cancel();
      toClient.cancel();
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on('error', teardown).on('close', () => sockets.delete(client));
    server.on('error', teardown).on('close', () => sockets.delete(server));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
