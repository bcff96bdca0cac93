import { expect, test } from '@playwright/test';

test('the hello-world page commits on OPFS and reads page 1 back at both LSNs, across reloads', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/demo\/$/);
  const out = page.locator('#out');
  await expect(out).toContainText('Reload the page', { timeout: 20_000 });
  await expect(out).toContainText('page 1 at LSN 1: "hello, world');
  await expect(out).toContainText('page 1 at LSN 2: "hello again');
  await page.reload();
  await expect(out).toContainText('Reload the page', { timeout: 20_000 });
  await expect(out).toContainText('page 1 at LSN 3: "hello, world');
  await expect(out).toContainText('page 1 at LSN 4: "hello again');
});
