import { createPresignHandler, type PresignOptions } from './handler.ts';

/**
 * A Cloudflare Workers module entry: `export default createWorkerEntry((env) => ({ bucket: bucketConfigFromEnv(env), authorize }))`.
 * The handler is built once per `env` object (bindings and secrets), not per request.
 */
export function createWorkerEntry<Env extends object>(makeOptions: (env: Env) => PresignOptions): { fetch(req: Request, env: Env): Promise<Response> } {
  const handlers = new WeakMap<Env, (req: Request) => Promise<Response>>();
  return {
    fetch(req, env) {
      let handler = handlers.get(env);
      if (handler === undefined) handlers.set(env, (handler = createPresignHandler(makeOptions(env))));
      return handler(req);
    },
  };
}
