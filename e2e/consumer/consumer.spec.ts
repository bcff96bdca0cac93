import { expect, test } from '@playwright/test';
import { PORTS } from './paths.ts';

// The app (app/src/main.ts) writes a row, reads it back, pushes, clones the pushed volume into a second
// database and reads the clone, then reports JSON in #out.
const modes = [
  ['vite dev', `http://127.0.0.1:${PORTS.dev}/`],
  ['vite build', `http://127.0.0.1:${PORTS.build}/`],
  ['esbuild', `http://127.0.0.1:${PORTS.build}/esbuild/index.html`],
  ['webpack 5', `http://127.0.0.1:${PORTS.build}/webpack/index.html`],
] as const;
for (const [mode, url] of modes) {
  test(`a fresh app on the installed tarball (${mode}) writes, pushes and reads a clone`, async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${url}?dir=consumer-${mode.replace(' ', '-')}-${Date.now()}`);
    await expect(page.locator('#out')).not.toHaveText('running', { timeout: 30_000 });
    const result = JSON.parse((await page.locator('#out').textContent()) ?? '{}');
    expect(result, JSON.stringify(result)).toMatchObject({ ok: true });
    expect(result.local).toEqual([{ id: 1, body: 'written by a consumer app' }]);
    expect(result.cloned).toEqual(result.local);
    expect(result.remote).toMatch(/^v/);
    expect(errors).toEqual([]);
  });
}

test('a worker that cannot load fails with a ScionError that says so', async ({ page }) => {
  await page.goto(`http://127.0.0.1:${PORTS.build}/?dir=consumer-missing-${Date.now()}&worker=/no-such-worker.js`);
  await expect(page.locator('#out')).not.toHaveText('running', { timeout: 30_000 });
  const result = JSON.parse((await page.locator('#out').textContent()) ?? '{}');
  expect(result).toMatchObject({ ok: false, code: 'Internal' });
  expect(result.message).toContain('worker script did not load');
});
