// Playwright fixtures: `scion` is a page with the scenario worker loaded (see e2e/pages/worker-host.ts).
import { test as base, expect, type Page } from '@playwright/test';
import type { Outcome, ScenarioArgs, ScenarioName, ScenarioResult } from './pages/test-worker.ts';

// Inside page.evaluate the generic name/args link is lost; the typed signatures are on ScionPage.
interface Untyped {
  run(name: string, ...args: unknown[]): Promise<unknown>;
  attempt(name: string, ...args: unknown[]): Promise<unknown>;
}

export const WORKER_PAGE = '/e2e/pages/worker.html';

/** A page running e2e/pages/worker.html; `run` executes a named scenario in its dedicated worker. */
export class ScionPage {
  readonly page: Page;

  constructor(page: Page) {
    this.page = page;
  }

  async open(path: string = WORKER_PAGE): Promise<void> {
    await this.page.goto(path);
    await this.#waitReady();
  }

  /** Reloads the page; the worker restarts, OPFS and IndexedDB of the context are kept. */
  async reload(): Promise<void> {
    await this.page.reload();
    await this.#waitReady();
  }

  run<N extends ScenarioName>(name: N, ...args: ScenarioArgs<N>): Promise<ScenarioResult<N>> {
    return this.page.evaluate(
      ([n, a]) => (window.scionTest as unknown as Untyped).run(n, ...a),
      [name, args] as const,
    ) as Promise<ScenarioResult<N>>;
  }

  attempt<N extends ScenarioName>(name: N, ...args: ScenarioArgs<N>): Promise<Outcome<ScenarioResult<N>>> {
    return this.page.evaluate(
      ([n, a]) => (window.scionTest as unknown as Untyped).attempt(n, ...a),
      [name, args] as const,
    ) as Promise<Outcome<ScenarioResult<N>>>;
  }

  async #waitReady(): Promise<void> {
    await this.page.waitForFunction(() => window.scionTest !== undefined);
    await this.page.evaluate(() => window.scionTest.ready);
  }
}

export const test = base.extend<{ scion: ScionPage }>({
  scion: async ({ page }, use) => {
    // Browser errors (page, worker) would otherwise be invisible in the test output.
    page.on('pageerror', (e) => console.error(`[browser pageerror] ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') console.error(`[browser console.error] ${m.text()}`);
    });
    const scion = new ScionPage(page);
    await scion.open();
    await use(scion);
  },
});

export { expect };
