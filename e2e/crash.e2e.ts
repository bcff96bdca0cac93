// Crashes: the DB worker is terminated in the middle of a large commit, and in the middle of a push
// (its commit PUT held by the test, after the segment upload and the pending commit are recorded).
// A new worker on the same OPFS directory must find the last acknowledged commit (a commit in flight
// all there or all absent, integrity_check ok) and resolve the push (RecoverPendingCommit at open):
// one remote commit at that LSN, nothing lost, nothing twice — also for a second device cloning it.
// Page: e2e/pages/crash.html.
import { expect, test, type Browser, type BrowserContext, type CDPSession, type Page, type Route } from '@playwright/test';
import type { Outcome } from './pages/crash-page.ts';

type Api = Window['scionCrash'];

class CrashPage {
  readonly page: Page;

  private constructor(page: Page) {
    this.page = page;
  }

  static async open(context: BrowserContext): Promise<CrashPage> {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error(`[browser pageerror] ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') console.error(`[browser console.error] ${m.text()}`);
    });
    await page.goto('/e2e/pages/crash.html');
    await page.waitForFunction(() => window.scionCrash !== undefined);
    return new CrashPage(page);
  }

  call<M extends keyof Api>(method: M, ...args: Parameters<Api[M]>): Promise<Awaited<ReturnType<Api[M]>>> {
    return this.page.evaluate(([m, a]) => (window.scionCrash[m] as (...x: unknown[]) => unknown)(...a), [method, args] as const) as Promise<Awaited<ReturnType<Api[M]>>>;
  }

  async run<M extends keyof Api>(method: M, ...args: Parameters<Api[M]>): Promise<Awaited<ReturnType<Api[M]>> extends Outcome<infer T> ? T : never> {
    const o = (await this.call(method, ...args)) as Outcome<unknown>;
    if (!o.ok) throw new Error(`${method}: ${o.error.code ?? 'Error'}: ${o.error.message}`);
    return o.value as never;
  }

  /** Rows per batch (through the batch index: cheap on a large table). */
  async batches(): Promise<Record<string, number>> {
    const rows = (await this.run('query', 'SELECT batch, count(*) AS n FROM t GROUP BY batch')) as { batch: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.batch, r.n]));
  }

  /** No row is stored twice. */
  async noDuplicates(): Promise<void> {
    expect(await this.run('query', 'SELECT count(*) - count(DISTINCT uid) AS duplicates FROM t')).toEqual([{ duplicates: 0 }]);
  }

  async integrity(): Promise<void> {
    expect(await this.run('query', 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  }
}

const SCHEMA = 'CREATE TABLE t(seq INTEGER PRIMARY KEY, batch TEXT NOT NULL, uid TEXT NOT NULL, body TEXT NOT NULL); CREATE INDEX t_batch ON t(batch)';

/**
 * Stops a DB worker's JavaScript at once, through the DevTools protocol. `worker.terminate()` alone does
 * not interrupt a running task: Chromium lets it finish for up to 2 s (kForcibleTerminationDelay), so a
 * commit of a few hundred ms always completes. Runtime.terminateExecution interrupts it mid-statement,
 * as a crash would; terminate() then ends the (idle) worker.
 */
class WorkerKiller {
  readonly #cdp: CDPSession;
  readonly #seen = new Set<string>();
  #session: string | undefined;

  private constructor(cdp: CDPSession) {
    this.#cdp = cdp;
  }

  static async start(browser: Browser): Promise<WorkerKiller> {
    const killer = new WorkerKiller(await browser.newBrowserCDPSession());
    for (const t of await killer.#dbWorkers()) killer.#seen.add(t.targetId);
    return killer;
  }

  /** Attaches to the DB worker started since the last call. */
  async arm(): Promise<void> {
    let fresh: { targetId: string }[] = [];
    await expect.poll(async () => (fresh = (await this.#dbWorkers()).filter((t) => !this.#seen.has(t.targetId))).length).toBeGreaterThan(0);
    const target = fresh.at(-1) as { targetId: string };
    for (const t of fresh) this.#seen.add(t.targetId);
    this.#session = (await this.#cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false })).sessionId;
  }

  async kill(): Promise<void> {
    const message = JSON.stringify({ id: 1, method: 'Runtime.terminateExecution' });
    await this.#cdp.send('Target.sendMessageToTarget', { sessionId: this.#session as string, message });
  }

  async #dbWorkers() {
    const { targetInfos } = await this.#cdp.send('Target.getTargets');
    return targetInfos.filter((t) => t.type === 'worker' && t.url.includes('/worker/db-worker.ts'));
  }
}

test('killing the worker during large commits: each commit is all there or all absent, acknowledged ones stay', async ({ browser }) => {
  const context = await browser.newContext();
  const killer = await WorkerKiller.start(browser);
  const p = await CrashPage.open(context);
  const dir = 'crash-commit';
  await p.run('open', dir, 'main');
  await p.run('exec', SCHEMA);
  const ROWS = 8000; // ~3.4 MB of row data per commit
  const acked: Record<string, number> = {};
  for (const batch of ['ack1', 'ack2']) {
    await p.run('commitBatch', batch, ROWS);
    acked[batch] = ROWS;
  }
  const commitMs = await p.run('commitBatch', 'probe', ROWS);
  acked.probe = ROWS;
  // Kill at moments spread over the COMMIT: as it starts, inside it, after it.
  const delays = [0, ...[0.2, 0.4, 0.6, 0.8].map((f) => Math.round(f * commitMs)), commitMs + 50];
  const outcomes: string[] = [];
  for (const [k, delay] of delays.entries()) {
    const batch = `crash${k}`;
    await killer.arm();
    await p.run('startCommit', batch, ROWS);
    await new Promise((r) => setTimeout(r, delay));
    await killer.kill();
    const { acknowledged } = await p.call('terminate');
    const reopened = await p.run('open', dir, 'main');
    const batches = await p.batches();
    const landed = batches[batch] ?? 0;
    expect([0, ROWS], `${batch}: all or nothing`).toContain(landed);
    if (acknowledged) expect(landed, `${batch} was acknowledged`).toBe(ROWS);
    for (const [b, n] of Object.entries(acked)) expect(batches[b], `acknowledged ${b}`).toBe(n);
    if (landed) acked[batch] = ROWS;
    outcomes.push(`${delay} ms: ${landed ? 'committed' : 'absent'}${acknowledged ? ' (acknowledged)' : ''}; reopened in ${reopened.ms} ms (${reopened.attempts} attempt(s))`);
  }
  console.log(`COMMIT of ${ROWS} rows takes ${commitMs} ms; worker killed after:\n  ${outcomes.join('\n  ')}`);
  // The database still takes writes after all of that.
  await p.run('commitBatch', 'after', 10);
  expect((await p.batches()).after).toBe(10);
  // One full check at the end covers every crash (damage would persist).
  await p.integrity();
  await p.noDuplicates();
  await context.close();
});

/** Holds the next commit PUT to the bucket (`volumes/{vid}/log/{lsn}`): `landed` lets it reach the bucket and holds only the answer. */
async function holdCommitPut(context: BrowserContext, variant: 'landed' | 'absent') {
  let held!: () => void;
  const isHeld = new Promise<void>((resolve) => (held = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const keys: string[] = [];
  const matcher = (url: URL) => /\/volumes\/[0-9a-z]{26}\/log\/[0-9a-f]{16}$/.test(url.pathname);
  const handler = async (route: Route) => {
    if (route.request().method() !== 'PUT') return route.continue();
    keys.push(new URL(route.request().url()).pathname);
    if (variant === 'landed') {
      const response = await route.fetch();
      expect(response.status()).toBe(200);
      held();
      await released;
      await route.fulfill({ response }).catch(() => undefined);
    } else {
      held();
      await released;
      await route.abort().catch(() => undefined);
    }
  };
  await context.route(matcher, handler);
  return { isHeld, release, keys, stop: () => context.unroute(matcher, handler) };
}

for (const variant of ['landed', 'absent'] as const) {
  test(`terminating the worker during a push (commit PUT ${variant === 'landed' ? 'stored, answer lost' : 'never sent'}): the reopened worker recovers it; a second device sees every row once`, async ({ browser }) => {
    const context = await browser.newContext();
    const p = await CrashPage.open(context);
    const dir = `crash-push-${variant}`;
    await p.run('open', dir, 'main', { remote: true });
    await p.run('exec', SCHEMA);
    await p.run('commitBatch', 'base', 500);
    expect(await p.run('push')).toMatchObject({ outcome: 'pushed', remoteLsn: 1 });
    await p.run('commitBatch', 'pending', 700);
    const before = (await p.run('status')) as { localLsn: number; remote: string };

    const hold = await holdCommitPut(context, variant);
    await p.call('startPush');
    await hold.isHeld;
    await p.call('terminate');
    hold.release();
    await hold.stop();
    expect(hold.keys).toEqual([expect.stringMatching(/\/log\/0{15}2$/)]);
    // The crash came after the pending commit was recorded, before its outcome was known.
    expect(await p.run('pendingInCatalog', dir)).toEqual([{ local: before.localLsn, remote: 2 }]);

    // Reopen: Runtime.open runs RecoverPendingCommit.
    await p.run('open', dir, 'main', { remote: true });
    const status = (await p.run('status')) as unknown as Record<string, unknown>;
    expect(status.pendingPush).toBeUndefined();
    // A terminated worker is not stopped at once: its S3 client may still retry the aborted PUT after the
    // route is gone, and then the commit did land. Recovery must tell which happened; both are correct.
    if (variant === 'landed' || status.state === 'in-sync') {
      expect(status).toMatchObject({ state: 'in-sync', remoteLsn: 2, ahead: 0, localWatermark: before.localLsn });
    } else {
      expect(status).toMatchObject({ state: 'ahead', remoteLsn: 1, ahead: 1 });
      expect(await p.run('push')).toMatchObject({ outcome: 'pushed', remoteLsn: 2 });
    }
    expect(await p.run('push')).toEqual({ outcome: 'up-to-date' });
    expect(await p.batches()).toEqual({ base: 500, pending: 700 });
    await p.noDuplicates();
    await p.integrity();

    // A second device clones the remote volume: exactly two remote commits, every row once.
    const other = await browser.newContext();
    const q = await CrashPage.open(other);
    await q.run('open', 'device-2', 'main', { remote: true, clone: before.remote });
    expect(await q.run('fetch')).toEqual({ remoteLatest: 2 });
    expect(await q.batches()).toEqual({ base: 500, pending: 700 });
    await q.noDuplicates();
    await q.integrity();
    await other.close();
    await context.close();
  });
}
