// Playwright helpers for e2e/pages/sql.html: typed calls into `window.scionSql` (Scion's client API on
// the page). `run*` throws on failure; `attempt` returns the outcome so a test can check an error code.
import type { Browser, BrowserContext, Page } from '@playwright/test';
import type { ScionSqlApi, SqlOutcome } from './pages/sql-page.ts';

export const SQL_PAGE = '/e2e/pages/sql.html';

type Method = keyof ScionSqlApi;
type Value<M extends Method> = Awaited<ReturnType<ScionSqlApi[M]>> extends SqlOutcome<infer T> ? T : never;

export class SqlPage {
  readonly page: Page;

  constructor(page: Page) {
    this.page = page;
    page.on('pageerror', (e) => console.error(`[browser pageerror] ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') console.error(`[browser console.error] ${m.text()}`);
    });
  }

  /** A page of its own browser context (its own OPFS and IndexedDB: another "device"). */
  static async device(browser: Browser): Promise<{ context: BrowserContext; sql: SqlPage }> {
    const context = await browser.newContext();
    const sql = new SqlPage(await context.newPage());
    await sql.goto();
    return { context, sql };
  }

  async goto(): Promise<void> {
    await this.page.goto(SQL_PAGE);
    await this.page.waitForFunction(() => window.scionSql !== undefined);
  }

  attempt<M extends Method>(method: M, ...args: Parameters<ScionSqlApi[M]>): Promise<SqlOutcome<Value<M>>> {
    return this.page.evaluate(
      ([m, a]) => (window.scionSql[m] as (...x: unknown[]) => Promise<unknown>)(...a),
      [method, args] as const,
    ) as Promise<SqlOutcome<Value<M>>>;
  }

  async run<M extends Method>(method: M, ...args: Parameters<ScionSqlApi[M]>): Promise<Value<M>> {
    const o = await this.attempt(method, ...args);
    if (!o.ok) throw new Error(`${method}(${JSON.stringify(args).slice(0, 200)}): ${o.error.code ?? o.error.name}: ${o.error.message}`);
    return o.value;
  }

  /** A method of the label's Database. */
  db<T = unknown>(label: string, method: string, ...args: unknown[]): Promise<T> {
    return this.run('call', label, method, ...args) as Promise<T>;
  }

  async count(label: string, table = 't'): Promise<number> {
    const rows = await this.db<{ n: number }[]>(label, 'query', `SELECT count(*) AS n FROM ${table}`);
    return rows[0]?.n as number;
  }
}
