/**
 * The one backoff rule: retry number `attempt` (0-based) waits `firstMs·2^attempt`, capped at `maxMs`,
 * less a random share of up to `jitter` of it (1: full jitter, anywhere in [0, cap]; 0: none).
 * `random` is uniform in [0, 1].
 */
export function backoffMs(policy: { readonly firstMs: number; readonly maxMs: number; readonly jitter: number }, attempt: number, random: number): number {
  const cap = Math.min(policy.maxMs, policy.firstMs * 2 ** Math.min(30, attempt));
  return Math.floor(cap * (1 - policy.jitter + policy.jitter * random));
}
