/** The subset of the Deno namespace this shim uses; this repository has no Deno types. */
interface DenoServe {
  serve(options: { port: number; hostname: string }, handler: (req: Request) => Promise<Response>): { finished: Promise<void>; shutdown(): Promise<void> };
}

/** Serves a presign handler with `Deno.serve` (Deno only). Equivalent to calling `Deno.serve` yourself. */
export function servePresign(handler: (req: Request) => Promise<Response>, options: { port: number; host?: string | undefined }): { finished: Promise<void>; shutdown(): Promise<void> } {
  const deno = (globalThis as { Deno?: DenoServe }).Deno;
  if (!deno) throw new Error('servePresign from presign/deno.ts runs on Deno only; on Node use presign/node.ts.');
  return deno.serve({ port: options.port, hostname: options.host ?? '127.0.0.1' }, handler);
}
