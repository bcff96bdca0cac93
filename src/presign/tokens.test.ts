import { describe, expect, it } from 'vitest';
import { fakeVolumeId } from '../core/testing.ts';
import { bearerTokens, type Grant } from './index.ts';

const READ: Grant = { volumes: new Set([fakeVolumeId(1)]), write: false, admin: false };
const ADMIN: Grant = { volumes: '*', write: true, admin: true };
const authorize = bearerTokens({ 'tok-read': READ, 'tok-admin-longer': ADMIN });
const withAuth = (value?: string): Request => new Request('http://x/presign', value === undefined ? {} : { headers: { Authorization: value } });

describe('bearerTokens', () => {
  it('maps a known bearer token to its grant', async () => {
    expect(await authorize(withAuth('Bearer tok-read'))).toBe(READ);
    expect(await authorize(withAuth('bearer tok-admin-longer'))).toBe(ADMIN);
  });

  it('answers undefined for a missing, malformed or unknown credential', async () => {
    for (const value of [undefined, '', 'Bearer', 'Bearer ', 'Basic dG9rLXJlYWQ=', 'tok-read', 'Bearer tok-rea', 'Bearer tok-read2', 'Bearer tok read']) {
      expect(await authorize(withAuth(value)), String(value)).toBeUndefined();
    }
  });

  it('refuses empty or non-ASCII tokens in its configuration', () => {
    expect(() => bearerTokens({ '': READ })).toThrow(expect.objectContaining({ code: 'InvalidInput' }));
    expect(() => bearerTokens({ 'with space': READ })).toThrow(expect.objectContaining({ code: 'InvalidInput' }));
  });
});
