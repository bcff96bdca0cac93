import type { WorkerConfig } from '../protocol/index.ts';

/**
 * `remote.presignUrl` as the worker needs it: absolute. A relative URL ('/presign') is resolved against
 * `base` — the page's URL, as a `fetch('/presign')` on the page would — since the worker's own URL is
 * that of its script. Without a base (Node) or for an absolute URL the config is returned as given.
 */
export function withAbsolutePresignUrl(config: WorkerConfig, base: string | undefined = globalThis.location?.href): WorkerConfig {
  const presignUrl = config.remote?.presignUrl;
  if (!config.remote || typeof presignUrl !== 'string' || base === undefined || /^[a-z][a-z0-9+.-]*:/i.test(presignUrl)) return config;
  return { ...config, remote: { ...config.remote, presignUrl: new URL(presignUrl, base).href } };
}
