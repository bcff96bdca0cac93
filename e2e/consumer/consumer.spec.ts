import { expect, test, type Page } from '@playwright/test';
import { PORTS } from './paths.ts';

// The app (app/src/app.ts) writes a row, reads it back and pushes; a second browser context (a second
// device, with storage of its own) clones the pushed volume and reads the row. Each reports JSON in #out.
const modes = [
  ['vite dev', `http://127.0.0.1:${PORTS.dev}/`],
  ['vite build', `http://127.0.0.1:${PORTS.build}/`],
  ['esbuild', `http://127.0.0.1:${PORTS.build}/esbuild/index.html`],
  ['webpack 5', `http://127.0.0.1:${PORTS.build}/webpack/index.html`],
] as const;

/** Opens the app in `page` and returns what it reported. */
async function runApp(page: Page, url: string): Promise<Record<string, unknown>> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await expect(page.locator('#out')).not.toHaveText('running', { timeout: 30_000 });
  const result = JSON.parse((await page.locator('#out').textContent()) ?? '{}') as Record<string, unknown>;
  expect(result, JSON.stringify(result)).toMatchObject({ ok: true });
  expect(errors).toEqual([]);
  return result;
}

for (const [mode, url] of modes) {
  test(`a fresh app on the installed tarball (${mode}) writes and pushes; another browser context clones and reads it`, async ({ page, browser }) => {
    const dir = `consumer-${mode.replace(' ', '-')}-${Date.now()}`;
    const written = await runApp(page, `${url}?dir=${dir}`);
    expect(written.local).toEqual([{ id: 1, body: 'written by a consumer app' }]);
    expect(written.remote).toMatch(/^v/);
    const otherDevice = await browser.newContext(); // its own OPFS and IndexedDB
    try {
      const cloned = await runApp(await otherDevice.newPage(), `${url}?dir=${dir}&clone=${String(written.remote)}`);
      expect(cloned.cloned).toEqual(written.local);
    } finally {
      await otherDevice.close();
    }
  });
}

test('a worker that cannot load fails with a ScionError that says so', async ({ page }) => {
  await page.goto(`http://127.0.0.1:${PORTS.build}/?dir=consumer-missing-${Date.now()}&worker=/no-such-worker.js`);
  await expect(page.locator('#out')).not.toHaveText('running', { timeout: 30_000 });
  const result = JSON.parse((await page.locator('#out').textContent()) ?? '{}');
  expect(result).toMatchObject({ ok: false, code: 'Internal' });
  expect(result.message).toContain('worker script did not load');
});

test('a workerUrl that is not the worker fails with a ScionError naming the URL and what the server sent', async ({ page }) => {
  await page.goto(`http://127.0.0.1:${PORTS.build}/?dir=consumer-404-${Date.now()}&workerUrl=/no-such-worker.js`);
  await expect(page.locator('#out')).not.toHaveText('running', { timeout: 30_000 });
  const result = JSON.parse((await page.locator('#out').textContent()) ?? '{}');
  expect(result).toMatchObject({ ok: false, code: 'Internal' });
  // vite preview answers a missing file with the app's index.html.
  expect(result.message).toContain(`worker script http://127.0.0.1:${PORTS.build}/no-such-worker.js did not load: the server answered 200 with text/html`);
});
