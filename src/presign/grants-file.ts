import { invalidInput, SharedName, VolumeId } from '../core/index.ts';
import type { Grant } from './grant.ts';

/**
 * Parses a tokens file for `bearerTokens`: a JSON object from bearer token to grant,
 * `{ "<token>": { "volumes": "*" | ["<volume id>", …], "names": ["<shared name>", …], "write": true, "admin": false } }`.
 * `names` defaults to none, `volumes` to none when `names` is given, `write` and `admin` to false. Throws InvalidInput naming the token entry that is wrong.
 */
export function parseGrantsFile(text: string): Record<string, Grant> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalidInput(`The tokens file is not JSON: ${e instanceof Error ? e.message : String(e)}.`);
  }
  if (!isObject(json)) throw invalidInput('The tokens file must be a JSON object from token to grant.');
  const grants: Record<string, Grant> = {};
  for (const [token, value] of Object.entries(json)) {
    const at = `The grant of token #${Object.keys(grants).length + 1}`; // never print a token
    if (!isObject(value)) throw invalidInput(`${at} must be an object { volumes, write, admin }.`);
    // A misspelt key ("writ") would silently grant less, or a reader believe it grants more.
    const unknown = Object.keys(value).filter((k) => !GRANT_KEYS.has(k));
    if (unknown.length > 0) throw invalidInput(`${at} has unknown keys ${unknown.map((k) => JSON.stringify(k)).join(', ')}; a grant has only volumes, names, write and admin.`);
    const { names, write = false, admin = false } = value;
    const volumes = value.volumes ?? (names === undefined ? undefined : []);
    if (typeof write !== 'boolean' || typeof admin !== 'boolean') throw invalidInput(`${at}: write and admin must be true or false.`);
    if (volumes !== '*' && !(Array.isArray(volumes) && volumes.every((v) => typeof v === 'string'))) {
      throw invalidInput(`${at}: volumes must be "*" or an array of volume ids.`);
    }
    if (names !== undefined && !(Array.isArray(names) && names.every((n) => typeof n === 'string'))) throw invalidInput(`${at}: names must be an array of shared database names.`);
    grants[token] = {
      volumes: volumes === '*' ? '*' : new Set(volumes.map((v: string) => VolumeId.parse(v))),
      ...(names ? { names: new Set(names.map((n: string) => SharedName.parse(n))) } : {}),
      write,
      admin,
    };
  }
  if (Object.keys(grants).length === 0) throw invalidInput('The tokens file grants no token.');
  return grants;
}

const GRANT_KEYS = new Set(['volumes', 'names', 'write', 'admin']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
