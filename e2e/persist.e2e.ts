// Scion.open({ persist: true }) asks the browser for persistent storage (navigator.storage.persist()).
import { expect, test } from '@playwright/test';
import { SqlPage } from './sql-fixtures.ts';

declare global {
  interface Window {
    persistCalls: number;
  }
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
