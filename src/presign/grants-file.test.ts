import { describe, expect, it } from 'vitest';
import { isScionError, VolumeId } from '../core/index.ts';
import { parseGrantsFile } from './grants-file.ts';

describe('parseGrantsFile', () => {
  const vid = VolumeId.random();

  it('maps each token to its grant; write and admin default to false', () => {
    const grants = parseGrantsFile(JSON.stringify({ all: { volumes: '*', write: true, admin: true }, reader: { volumes: [vid] } }));
    expect(grants.all).toEqual({ volumes: '*', write: true, admin: true });
    expect(grants.reader).toEqual({ volumes: new Set([vid]), write: false, admin: false });
  });

  it('a grant of names alone covers no volume id, only what the names point at', () => {
    const grants = parseGrantsFile(JSON.stringify({ team: { names: ['team-notes'], write: true } }));
    expect(grants.team).toEqual({ volumes: new Set(), names: new Set(['team-notes']), write: true, admin: false });
  });

  it.each([
    ['names that are not shared names', '{"t": {"names": [".."]}}', /shared database name/],
    ['names that are not an array', '{"t": {"names": "team"}}', /names must be/],
    ['not JSON', '{', /not JSON/],
    ['an array', '[]', /JSON object/],
    ['no token', '{}', /grants no token/],
    ['a grant that is not an object', '{"t": true}', /token #1 must be an object/],
    ['volumes neither "*" nor ids', '{"t": {"volumes": "all"}}', /volumes must be/],
    ['write that is not a boolean', '{"t": {"volumes": "*", "write": "yes"}}', /write and admin/],
  ])('refuses %s with InvalidInput, never printing a token', (_what, text, message) => {
    let thrown: unknown;
    try {
      parseGrantsFile(text);
    } catch (e) {
      thrown = e;
    }
    expect(isScionError(thrown, 'InvalidInput')).toBe(true);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain('"t"');
  });

  it('refuses a volume id that is not one', () => {
    expect(() => parseGrantsFile('{"t": {"volumes": ["s0"]}}')).toThrow(/VolumeId|volume/i);
  });

  it('refuses a misspelt key instead of granting less than meant', () => {
    expect(() => parseGrantsFile('{"t": {"volumes": "*", "writ": true}}')).toThrow(/unknown keys "writ"/);
  });
});
