import { expect, test } from '@playwright/test';

test('the hello-world page commits on OPFS and reads page 1 back at both LSNs, across reloads', async ({ page }) => {
  await page.goto('/demo/hello.html');
  const out = page.locator('#local');
  await expect(out).toContainText('Reload the page', { timeout: 20_000 });
  await expect(out).toContainText('page 1 at LSN 1: "hello, world');
  await expect(out).toContainText('page 1 at LSN 2: "hello again');
  await page.reload();
  await expect(out).toContainText('Reload the page', { timeout: 20_000 });
  await expect(out).toContainText('page 1 at LSN 3: "hello, world');
  await expect(out).toContainText('page 1 at LSN 4: "hello again');
});

test('two devices share a volume through the bucket; a lazy synchronous read fetches one frame', async ({ page }) => {
  await page.goto('/demo/hello.html');
  const out = page.locator('#sync');
  await expect(out).toContainText('Done.', { timeout: 30_000 });
  await expect(out).toContainText('A pushed 200 pages');
  await expect(out).toContainText('B cloned it: 200 pages visible, 0 frames fetched');
  await expect(out).toContainText('B reads page 150: "page 150, written by device A"');
  await expect(out).toContainText('B fetched 1 frame (64 pages');
  await expect(out).toContainText('"outcome":"pulled"');
  await expect(out).toContainText('B reads page 1: "page 1, rewritten by device A"');
});
