import { describe, expect, it } from 'vitest';
import { withAbsolutePresignUrl } from './presign-url.ts';

describe('withAbsolutePresignUrl', () => {
  const page = 'https://app.example/notes/index.html?x=1';

  it('resolves a relative presignUrl against the page, as fetch would', () => {
    expect(withAbsolutePresignUrl({ remote: { presignUrl: '/presign', token: 't' } }, page).remote).toEqual({ presignUrl: 'https://app.example/presign', token: 't' });
    expect(withAbsolutePresignUrl({ remote: { presignUrl: 'api/presign', token: 't' } }, page).remote?.presignUrl).toBe('https://app.example/notes/api/presign');
  });

  it('keeps an absolute URL, a config without remote, and any URL where there is no page', () => {
    const absolute = { remote: { presignUrl: 'http://127.0.0.1:8787/presign', token: 't' } };
    expect(withAbsolutePresignUrl(absolute, page)).toBe(absolute);
    const local = { storage: 'memory' as const };
    expect(withAbsolutePresignUrl(local, page)).toBe(local);
    const relative = { remote: { presignUrl: '/presign', token: 't' } };
    expect(withAbsolutePresignUrl(relative, undefined)).toBe(relative); // the worker then refuses it with InvalidInput
  });
});
