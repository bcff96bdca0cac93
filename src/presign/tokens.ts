import { invalidInput } from '../core/index.ts';
import type { Grant } from './grant.ts';

const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;
const encoder = new TextEncoder();
const sha256 = async (text: string): Promise<Uint8Array> => new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));

/**
 * An `authorize` for static tokens: `Authorization: Bearer <token>` → that token's Grant, anything
 * else → undefined (401). Tokens are compared as SHA-256 digests, every one and in full, so timing
 * reveals neither a token's length nor how much of it matched. Throws InvalidInput for an empty token.
 */
export function bearerTokens(tokens: Readonly<Record<string, Grant>>): (req: Request) => Promise<Grant | undefined> {
  const entries = Object.entries(tokens);
  for (const [token] of entries) if (!/^[\x21-\x7e]+$/.test(token)) throw invalidInput('A bearer token must be 1 or more printable ASCII characters.');
  const digests = Promise.all(entries.map(async ([token, grant]) => ({ digest: await sha256(token), grant })));

  return async (req) => {
    const presented = BEARER.exec(req.headers.get('Authorization') ?? '')?.[1];
    if (presented === undefined) return undefined;
    const digest = await sha256(presented);
    let found: Grant | undefined;
    for (const entry of await digests) {
      let diff = 0;
      for (let i = 0; i < digest.length; i++) diff |= (digest[i] as number) ^ (entry.digest[i] as number);
      if (diff === 0) found = entry.grant;
    }
    return found;
  };
}
