// The demo page's main flows, driven through its UI: two devices (two Scion workers, separate OPFS
// directories) in one page, sharing the dev stack's bucket. Each flow saves a screenshot.
import { expect, test, type Locator, type Page, type TestInfo } from '@playwright/test';

test.use({ viewport: { width: 1600, height: 1000 } });

/** One device column of the page, addressed by the data-role attributes of its controls. */
function device(page: Page, id: 'a' | 'b') {
  const root = page.locator(`[data-device=${id}]`);
  const role = (name: string): Locator => root.locator(`[data-role=${name}]`);
  const action = role('last-action');
  return {
    root,
    role,
    action,
    error: role('last-error'),
    state: role('sync-state'),
    issues: role('issues'),
    /** Clicks a control and waits until the last action says `done` (a 20 MB push or hydrate takes seconds). */
    async run(control: string, done: string | RegExp): Promise<void> {
      await role(control).click();
      await expect(action).toContainText(done, { timeout: 30_000 });
    },
    async add(title: string): Promise<void> {
      await role('new-title').fill(title);
      await role('add').click();
      await expect(root.locator('[data-role=issues] li', { hasText: title })).toBeVisible();
    },
    async pages(state: 'local' | 'cached' | 'missing' | 'unpushed'): Promise<number> {
      return Number(await role('page-map').getAttribute(`data-${state}`));
    },
  };
}

async function openDemo(page: Page, query = ''): Promise<void> {
  page.on('pageerror', (e) => console.error(`[browser pageerror] ${e.message}`));
  await page.goto(`/demo/${query}`);
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 20_000 });
  // A created the database and pushed it; B is a lazy clone of A's remote volume.
  for (const id of ['a', 'b'] as const) {
    await expect(device(page, id).state).toHaveText('in-sync');
    await expect(device(page, id).issues).toContainText('Search me');
  }
}

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(name);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

test('write offline, go online, push; the other device pulls it', async ({ page }, testInfo) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/demo\/$/);
  await openDemo(page);
  const a = device(page, 'a');
  const b = device(page, 'b');

  await a.role('offline').check();
  await expect(a.root).toHaveClass(/is-offline/);
  await a.add('Written on A while offline');
  await expect(a.state).toHaveText('ahead');
  expect(await a.pages('unpushed')).toBeGreaterThan(0);
  await a.role('push').click();
  await expect(a.error).toContainText('push failed — RemoteUnavailable');
  await expect(a.role('network')).toContainText('offline');
  await snap(page, testInfo, 'offline-write.png');

  await a.role('offline').uncheck();
  await a.run('push', 'as remote LSN 2');
  await expect(a.state).toHaveText('in-sync');
  expect(await a.pages('unpushed')).toBe(0);
  await b.run('pull', 'pulled remote LSN 1 → 2');
  await expect(b.issues).toContainText('Written on A while offline');
  await expect(b.state).toHaveText('in-sync');
  // The pull copied commit records only; showing the new row fetched the frame that holds it: a ranged
  // read (206) — of commit 2 itself, since a one-row push carries its frames in its commit object.
  await expect(b.role('network').locator('tr').filter({ has: page.locator('td', { hasText: /^206$/ }) }).first()).toBeVisible();
  await snap(page, testInfo, 'online-push-pull.png');
});

test('divergence is shown, then resolved by a reset on one side and by a fork on the other', async ({ page }, testInfo) => {
  await openDemo(page);
  const a = device(page, 'a');
  const b = device(page, 'b');

  await a.add('From A');
  await b.add('From B');
  await a.run('push', 'as remote LSN 2');
  await b.run('push', 'diverged (1 ahead, 1 behind)');
  await expect(b.state).toHaveText('diverged');
  await expect(b.role('rebase')).toHaveClass(/primary/);
  await snap(page, testInfo, 'diverged.png');

  // Reset: B takes the remote's side, dropping its unpushed commit.
  await b.run('reset', 'unpushed local commits dropped');
  await expect(b.state).toHaveText('in-sync');
  await expect(b.issues).toContainText('From A');
  await expect(b.issues).not.toContainText('From B');

  // Fork: B keeps its change on a new remote volume, and A follows it there.
  await a.add('A again');
  await b.add('B keeps this');
  await a.run('push', 'as remote LSN 3');
  await b.run('pull', 'diverged');
  await expect(b.state).toHaveText('diverged');
  await b.run('fork', 'now on a new remote volume');
  // The fork's first push references the pages already in the bucket: a few pages, not the database.
  await b.run('push', /as remote LSN \d+ — \d{1,2} pages/);
  await expect(b.state).toHaveText('in-sync');
  await a.run('clone-other', "now on Device B's remote volume");
  await expect(a.issues).toContainText('B keeps this');
  await expect(a.issues).not.toContainText('A again');
  await expect(a.state).toHaveText('in-sync');
  await snap(page, testInfo, 'divergence-resolved.png');
});

test('two devices add issues while apart; a rebase replays the loser\'s on top and both lists converge', async ({ page }, testInfo) => {
  await openDemo(page);
  const a = device(page, 'a');
  const b = device(page, 'b');
  await a.add('Added on A');
  await b.add('Added on B');
  await a.run('push', 'as remote LSN 2');
  await b.run('push', 'diverged (1 ahead, 1 behind)');
  await b.run('rebase', 'rebased onto the remote: 1 transactions replayed, 0 dropped, pushed');
  await expect(b.state).toHaveText('in-sync');
  await a.run('pull', 'pulled remote LSN 2 → 3');
  for (const d of [a, b]) {
    await expect(d.issues).toContainText('Added on A');
    await expect(d.issues).toContainText('Added on B');
  }
  await snap(page, testInfo, 'rebased.png');
});

test('the time-travel slider shows past snapshots read-only, and returns to live', async ({ page }, testInfo) => {
  await openDemo(page);
  const a = device(page, 'a');
  const b = device(page, 'b');
  await a.add('First');
  await a.run('push', 'as remote LSN 2');
  await a.add('Second');
  await a.run('push', 'as remote LSN 3');
  await a.add('Third, not pushed');
  await expect(a.role('time-slider')).toHaveAttribute('max', '4'); // remote 1–3, local 4, live

  await a.role('time-slider').fill('1');
  await expect(a.role('banner')).toContainText('Viewing remote LSN 2');
  await expect(a.issues).toContainText('First');
  await expect(a.issues).not.toContainText('Second');
  await expect(a.role('new-title')).toBeDisabled();
  await expect(a.role('page-map')).toContainText('remote LSN 2 (checkout)');

  // Remote LSNs are the same on every device: B fetches A's commits and reads LSN 3.
  await b.run('pull', 'pulled remote LSN 1 → 3');
  await b.role('time-slider').fill('0');
  await expect(b.role('banner')).toContainText('Viewing remote LSN 1');
  await expect(b.issues).not.toContainText('First');
  await snap(page, testInfo, 'time-travel.png');

  await a.role('time-slider').fill('3');
  await expect(a.role('banner')).toContainText('Viewing local LSN 4');
  await expect(a.issues).toContainText('Third, not pushed');
  await a.role('time-live').click();
  await expect(a.role('banner')).toBeHidden();
  await expect(a.role('new-title')).toBeEnabled();
  await expect(a.issues).toContainText('Third, not pushed');
});

test('lazy reads fetch a few frames; offline they fail with PageNotLocal; hydrate makes every page local', async ({ page }, testInfo) => {
  await openDemo(page);
  const a = device(page, 'a');
  const b = device(page, 'b');
  await a.run('load-sample', 'load sample:');
  await a.run('push', 'as remote LSN 2');
  await b.run('pull', 'pulled remote LSN 1 → 2');
  await expect(b.issues).toContainText('#');

  // A search reads a few frames of the index and the rows; most of the file is never fetched.
  await b.role('search').fill('conflict');
  await expect(b.role('query-info')).toContainText('search “conflict”');
  await expect.poll(() => b.pages('cached')).toBeGreaterThan(0);
  expect(await b.pages('missing')).toBeGreaterThan(await b.pages('cached'));
  await snap(page, testInfo, 'lazy-search.png');

  // Offline, a query that needs pages never fetched fails (the status index was never read).
  await b.role('search').fill('');
  await expect(b.role('query-info')).toContainText('latest issues');
  // Going offline with pages never fetched, the device says what will fail and offers to hydrate first.
  await b.role('offline').click();
  await expect(b.role('offline-guide')).toContainText('were never fetched');
  await expect(b.role('offline')).not.toBeChecked();
  await b.role('offline-anyway').click();
  await expect(b.root).toHaveClass(/is-offline/);
  await b.role('filter').selectOption('closed');
  await expect(b.error).toContainText('list failed — PageNotLocal');
  await expect(b.error).toContainText('press Hydrate before going offline');
  await b.role('hydrate').click();
  await expect(b.error).toContainText('hydrate failed');

  await b.role('offline').uncheck();
  // Hydrate from the guide: it shows progress, then goes offline by itself.
  await b.role('offline').click();
  await b.role('offline-hydrate').click();
  await expect(b.role('progress')).toContainText('hydrate: download');
  await expect(b.root).toHaveClass(/is-offline/, { timeout: 30_000 });
  await expect(b.action).toContainText('offline: the bucket is unreachable');
  await expect.poll(() => b.pages('missing')).toBe(0);
  expect(await b.pages('cached')).toBeGreaterThan(0);

  // Now everything works offline: reads, and a write that touches the index and the FTS tables.
  await b.role('filter').selectOption('all');
  await b.add('Written offline on a hydrated clone');
  await b.role('search').fill('thumbnail');
  await expect(b.role('query-info')).toContainText('no fetch: every page was local');
  await b.role('search').fill('');
  await b.role('filter').selectOption('closed');
  await expect(b.role('query-info')).toContainText('latest closed issues');
  await expect(b.issues.locator('li').first()).toBeVisible();
  await snap(page, testInfo, 'hydrated.png');
});

test.describe('on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true });

  test('at 390 px nothing overflows sideways, every control is on screen and reachable, and writes show up live', async ({ page }, testInfo) => {
    await openDemo(page);
    const a = device(page, 'a');
    const b = device(page, 'b');
    for (const d of [a, b]) await expect(d.role('tab-role')).toHaveText('leader tab');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // Every visible control lies within the screen's width, and a tap at its centre reaches it (nothing covers it).
    const controls = page.locator('main button:visible, main input:visible, main select:visible, header button:visible, header a:visible');
    const n = await controls.count();
    expect(n).toBeGreaterThan(20);
    for (let i = 0; i < n; i++) {
      const control = controls.nth(i);
      await control.scrollIntoViewIfNeeded();
      const box = await control.boundingBox();
      const name = await control.evaluate((e) => e.getAttribute('data-role') ?? e.textContent ?? e.tagName);
      expect(box, name).not.toBeNull();
      expect(box!.x, name).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width, name).toBeLessThanOrEqual(390.5);
      const reached = await control.evaluate((e) => {
        const r = e.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return hit !== null && (hit === e || e.contains(hit) || hit.contains(e) || (hit as HTMLElement).closest('label') === e.closest('label'));
      });
      expect(reached, `${name} is covered`).toBe(true);
    }
    await a.add('Added on a phone');
    await a.role('push').tap();
    await expect(a.action).toContainText('as remote LSN 2', { timeout: 30_000 });
    await b.role('pull').tap();
    // B's list is a live query: the pull alone makes it show the new issue.
    await expect(b.issues).toContainText('Added on a phone');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await snap(page, testInfo, 'phone.png');
  });
});
