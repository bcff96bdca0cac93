import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { invalidInput, ScionError, SharedName, VolumeId } from '../core/index.ts';
import type { Grant } from './grant.ts';

export interface JwtGrantsOptions {
  /**
   * How tokens are verified: an HS256 shared secret, a JWKS endpoint (fetched and cached by jose,
   * e.g. your identity provider's `/.well-known/jwks.json`), or a key set you hold.
   */
  key: { readonly secret: string | Uint8Array } | { readonly jwksUrl: string | URL } | { readonly jwks: JSONWebKeySet };
  /**
   * Required `iss` and `aud`. Mandatory with a key set (`jwksUrl`, `jwks`): an identity provider signs
   * tokens for many services with the same keys, so without them a token minted for another service
   * would be accepted. Optional with a secret only this service and its token issuer share.
   */
  issuer?: string | undefined;
  audience?: string | undefined;
  /** Accepted algorithms. Default HS256 for a secret; RS256, ES256 and EdDSA for a key set. */
  algorithms?: readonly string[] | undefined;
  /** Maps the verified claims to a Grant (undefined: 401). Default: `defaultJwtGrant`. */
  grantOf?: ((claims: JWTPayload) => Grant | undefined) | undefined;
}

const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+) *$/i;

/**
 * The default claims → Grant mapping: `vol` lists the volume ids the user may use (or is `"*"`),
 * `names` (optional) lists shared database names, and the space-separated `scope` may hold `scion:write` (push to them) and `scion:admin` (GC).
 * A verified token with malformed claims throws Forbidden (403), naming the claim.
 */
export function defaultJwtGrant(claims: JWTPayload): Grant {
  const scopes = new Set(typeof claims.scope === 'string' ? claims.scope.split(' ') : []);
  const { vol, names } = claims;
  const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
  try {
    if (names !== undefined && !isStrings(names)) throw invalidInput('"names" must be an array of shared database names');
    let volumes: Grant['volumes'];
    if (vol === '*') volumes = '*';
    else if (isStrings(vol)) volumes = new Set(vol.map((v) => VolumeId.parse(v)));
    else if (vol === undefined && names !== undefined) volumes = new Set();
    else throw invalidInput('"vol" must be "*" or an array of volume ids');
    return { volumes, ...(names ? { names: new Set(names.map((n) => SharedName.parse(n))) } : {}), write: scopes.has('scion:write'), admin: scopes.has('scion:admin') };
  } catch (e) {
    throw new ScionError('Forbidden', `The access token's claims are not a Scion grant: ${(e as Error).message}.`);
  }
}

/**
 * An `authorize` for JSON Web Tokens (jose): `Authorization: Bearer <jwt>` verified against `key`
 * (signature, `exp`/`nbf`, and `iss`/`aud` when given) and mapped to a Grant. A missing, invalid or
 * expired token answers 401. Throws InvalidInput at creation for an empty secret.
 * @example
 * authorize: jwtGrants({ key: { jwksUrl: 'https://id.example/.well-known/jwks.json' }, issuer: 'https://id.example', audience: 'scion' })
 */
export function jwtGrants(options: JwtGrantsOptions): (req: Request) => Promise<Grant | undefined> {
  const { key } = options;
  let getKey: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if ('secret' in key) {
    getKey = typeof key.secret === 'string' ? new TextEncoder().encode(key.secret) : key.secret;
    if (getKey.byteLength < 32) throw invalidInput('An HS256 secret must be at least 32 bytes.');
    algorithms = [...(options.algorithms ?? ['HS256'])];
  } else {
    if (options.issuer === undefined || options.audience === undefined) {
      throw invalidInput('jwtGrants with a key set needs both `issuer` and `audience`: the same keys sign tokens for other services of that identity provider.');
    }
    getKey = 'jwksUrl' in key ? createRemoteJWKSet(new URL(key.jwksUrl)) : createLocalJWKSet(key.jwks);
    algorithms = [...(options.algorithms ?? ['RS256', 'ES256', 'EdDSA'])];
  }
  const grantOf = options.grantOf ?? defaultJwtGrant;

  return async (req) => {
    const token = BEARER.exec(req.headers.get('Authorization') ?? '')?.[1];
    if (token === undefined) return undefined;
    let claims: JWTPayload;
    try {
      const verify = {
        algorithms,
        ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
        ...(options.audience !== undefined ? { audience: options.audience } : {}),
      };
      claims = (typeof getKey === 'function' ? await jwtVerify(token, getKey, verify) : await jwtVerify(token, getKey, verify)).payload;
    } catch (e) {
      if ('jwksUrl' in key && keySetUnreachable(e)) {
        throw new ScionError('RemoteUnavailable', 'The presign service could not fetch the identity provider\'s key set (JWKS) to verify the token; retry later.');
      }
      // Bad signature, expired, wrong issuer or audience, unknown key: not authenticated.
      return undefined;
    }
    return grantOf(claims);
  };
}

/** The remote key set did not answer (network error, timeout, non-200, not JSON), as opposed to a token it refutes. */
function keySetUnreachable(e: unknown): boolean {
  if (!(e instanceof errors.JOSEError)) return true;
  return e instanceof errors.JWKSTimeout || e.code === errors.JOSEError.code;
}
