// Scion.open({ persist: true }) asks the browser for persistent storage (navigator.storage.persist()).
import { expect, test, type CDPSession, type Page } from '@playwright/test';
import { SqlPage } from './sql-fixtures.ts';

declare global {
  interface Window {
    persistCalls: number;
  }
}

/**
 * Makes the browser grant persistent storage to this page's origin, as it does for an engaged site (CDP
 * `durableStorage`). The grant lasts while the returned session is attached: detaching it drops the override.
 */
async function grantPersistentStorage(page: Page): Promise<CDPSession> {
  const session = await page.context().newCDPSession(page);
  const { targetInfo } = (await session.send('Target.getTargetInfo')) as { targetInfo: { browserContextId?: string } };
  await session.detach();
  const browser = await page.context().browser()?.newBrowserCDPSession();
  if (!browser) throw new Error('BUG: the page has no browser to grant the permission in');
  await browser.send('Browser.grantPermissions', { origin: new URL(page.url()).origin, permissions: ['durableStorage'], browserContextId: targetInfo.browserContextId });
  return browser;
}

test('persist: true asks the browser (the real navigator.storage.persist) once and reports its answer; without it Scion never asks', async ({ page }) => {
  // Counts calls, and answers what the browser answers.
  await page.addInitScript(() => {
    const real = navigator.storage.persist.bind(navigator.storage);
    window.persistCalls = 0;
    navigator.storage.persist = () => {
      window.persistCalls++;
      return real();
    };
  });
  const sql = new SqlPage(page);
  await sql.goto();
  expect(await sql.run('open', 'plain', 'p', { directory: 'persist-plain' })).toMatchObject({ persisted: null });
  expect(await page.evaluate(() => window.persistCalls)).toBe(0);
  const asked = (await sql.run('open', 'asked', 'q', { directory: 'persist-asked', persist: true })) as { persisted: boolean; browserPersisted: boolean };
  expect(await page.evaluate(() => window.persistCalls)).toBe(1);
  // Headless Chromium refuses (no site engagement); a browser that grants it says true. Either way Scion reports the browser's answer and opens.
  expect(typeof asked.persisted).toBe('boolean');
  expect(asked.persisted).toBe(asked.browserPersisted);
  expect(await sql.run('call', 'asked', 'query', 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
});

test('persist: true reports the browser\'s answer: false where it refuses, true where it grants (and the storage is then persisted)', async ({ page }) => {
  const sql = new SqlPage(page);
  await sql.goto();
  // Headless Chromium, with no site engagement, refuses.
  expect(await sql.run('open', 'refused', 'r', { directory: 'persist-refused', persist: true })).toMatchObject({ persisted: false, browserPersisted: false });
  const grant = await grantPersistentStorage(page);
  try {
    expect(await sql.run('open', 'granted', 'g', { directory: 'persist-granted', persist: true })).toMatchObject({ persisted: true, browserPersisted: true });
    expect(await sql.run('call', 'granted', 'query', 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  } finally {
    await grant.detach();
  }
});
