// The app itself: an offline-first issue tracker with full-text search. Every query reports how long
// it took and what it fetched, so laziness shows next to the result.
import type { Database } from '../src/client/index.ts';
import { fill, formatBytes, formatCount, formatTime, h } from './dom.ts';
import { addIssue, hasSchema, listIssues, loadSample, maxIssueId, searchIssues, toggleIssue, type Issue, type StatusFilter } from './issues.ts';

/** What the panel needs from its device. */
export interface AppHost {
  readonly label: string;
  readonly sampleMegabytes: number;
  /** The database shown: the live one, or a read-only checkout. */
  view(): Database;
  /** The live database (writes go here). */
  live(): Database;
  /** Runs a query and never throws: an error becomes the device's "last error" (result undefined). */
  run<T>(label: string, fn: () => Promise<T>): Promise<T | undefined>;
  /** As run, for a user's action: its result text becomes the device's "last action". */
  act(label: string, fn: () => Promise<string>): Promise<string | undefined>;
  /** Bytes and frames fetched from the bucket by this device so far. */
  fetched(): Promise<{ bytes: number; frames: number }>;
}

export class AppPanel {
  readonly element: HTMLElement;
  readonly #host: AppHost;
  readonly #search = h('input', { type: 'search', placeholder: 'Search issues (full text)…', 'data-role': 'search', 'aria-label': 'Search' });
  readonly #filter = h('select', { 'data-role': 'filter', 'aria-label': 'Status' }, h('option', { value: 'all' }, 'All'), h('option', { value: 'open' }, 'Open'), h('option', { value: 'closed' }, 'Closed'));
  readonly #sample: HTMLButtonElement;
  readonly #title = h('input', { type: 'text', placeholder: 'New issue title', 'data-role': 'new-title', 'aria-label': 'Title' });
  readonly #body = h('input', { type: 'text', placeholder: 'Details (optional)', 'data-role': 'new-body', 'aria-label': 'Details' });
  readonly #add = h('button', { type: 'submit', class: 'primary', 'data-role': 'add' }, 'Add');
  readonly #banner = h('div', { class: 'banner', hidden: true, 'data-role': 'banner' });
  readonly #list = h('ul', { class: 'issues', 'data-role': 'issues' });
  readonly #info = h('div', { class: 'query-info muted small', 'data-role': 'query-info' });
  readonly #count = h('span', { class: 'muted' });
  #running = false;
  #again = false;
  #debounce: ReturnType<typeof setTimeout> | undefined;

  constructor(host: AppHost) {
    this.#host = host;
    this.#sample = h('button', { 'data-role': 'load-sample', title: 'Generate issues in one transaction: one local commit' }, `Load ${host.sampleMegabytes} MB sample`);
    const form = h('form', { class: 'new-issue' }, this.#title, this.#body, this.#add);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.#addIssue();
    });
    this.#search.addEventListener('input', () => {
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => this.refresh(), 200);
    });
    this.#filter.addEventListener('change', () => this.refresh());
    this.#sample.addEventListener('click', () => void this.#loadSample());
    this.element = h('section', { class: 'panel app', 'data-role': 'app' },
      h('div', { class: 'panel-head' }, h('h3', {}, 'Issues ', this.#count), this.#sample),
      h('div', { class: 'toolbar' }, this.#search, this.#filter),
      form,
      this.#banner,
      this.#list,
      this.#info,
    );
  }

  /** Re-runs the current list or search (coalesced: one query at a time, the latest wins). */
  refresh(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    void this.#query().finally(() => {
      this.#running = false;
      if (this.#again) {
        this.#again = false;
        this.refresh();
      }
    });
  }

  async #query(): Promise<void> {
    const db = this.#host.view();
    const readOnly = db.readOnly;
    this.#title.disabled = this.#body.disabled = this.#add.disabled = this.#sample.disabled = readOnly;
    const text = this.#search.value.trim();
    const filter = this.#filter.value as StatusFilter;
    const before = await this.#host.fetched();
    const started = performance.now();
    const result = await this.#host.run(text ? 'search' : 'list', async () => {
      if (!(await hasSchema(db))) return 'no-schema' as const;
      const issues = text ? await searchIssues(db, text, filter) : await listIssues(db, filter);
      return { issues, max: await maxIssueId(db) };
    });
    const ms = performance.now() - started;
    const after = await this.#host.fetched();
    this.#showBanner(db);
    this.element.dataset.failed = String(result === undefined);
    if (result === undefined) {
      fill(this.#info, h('span', { class: 'error-text' }, 'The query failed (see the last error): a page it needs is not held locally and the bucket is unreachable.'));
      return;
    }
    if (result === 'no-schema') {
      fill(this.#list);
      fill(this.#count);
      fill(this.#info, 'The database has no issues table yet: pull, or clone the other device\'s volume.');
      return;
    }
    fill(this.#count, `· ${formatCount(result.max)} total`);
    fill(this.#list, ...result.issues.map((issue) => this.#row(issue, readOnly)));
    if (result.issues.length === 0) this.#list.append(h('li', { class: 'empty muted' }, text ? 'No match.' : 'No issues.'));
    const frames = after.frames - before.frames;
    const fetched = frames > 0 ? `fetched ${frames} frame${frames === 1 ? '' : 's'} (${formatBytes(after.bytes - before.bytes)}) from the bucket` : 'no fetch: every page was local';
    fill(this.#info, `${text ? `search “${text}”` : `latest ${filter === 'all' ? '' : `${filter} `}issues`} · ${result.issues.length} rows in ${ms.toFixed(0)} ms · ${fetched}`);
  }

  #showBanner(db: Database): void {
    const checkout = db.checkoutOf;
    this.#banner.hidden = !checkout;
    this.element.classList.toggle('read-only', db.readOnly);
    if (checkout) fill(this.#banner, `Viewing ${checkout.volume} LSN ${checkout.lsn} — a read-only snapshot of the past. Move the slider to “live” to edit.`);
  }

  #row(issue: Issue, readOnly: boolean): HTMLLIElement {
    const status = h('button', {
      class: `status status-${issue.status}`,
      title: readOnly ? issue.status : `Mark as ${issue.status === 'open' ? 'closed' : 'open'}`,
      disabled: readOnly,
      onclick: () => void this.#host.act('toggle', async () => {
        await toggleIssue(this.#host.live(), issue.id);
        return `#${issue.id} is ${issue.status === 'open' ? 'closed' : 'open'} now (one local commit)`;
      }),
    }, issue.status);
    return h('li', { 'data-id': issue.id },
      h('div', { class: 'issue-main' },
        h('span', { class: 'issue-id muted' }, `#${issue.id}`),
        h('span', { class: 'issue-title' }, issue.title),
        status,
      ),
      issue.snip ? h('div', { class: 'snip' }, ...highlight(issue.snip)) : null,
      h('div', { class: 'issue-meta muted small' }, `${issue.author} · ${formatTime(issue.created_at)} ${new Date(issue.created_at).toISOString().slice(0, 10)}`),
    );
  }

  async #addIssue(): Promise<void> {
    const title = this.#title.value.trim();
    if (!title) return this.#title.focus();
    const done = await this.#host.act('add issue', async () => `added #${await addIssue(this.#host.live(), title, this.#body.value.trim(), this.#host.label)} (one local commit)`);
    if (done === undefined) return;
    this.#title.value = this.#body.value = '';
  }

  async #loadSample(): Promise<void> {
    this.#sample.disabled = true;
    const label = this.#sample.textContent;
    await this.#host.act('load sample', async () => {
      const started = performance.now();
      const n = await loadSample(this.#host.live(), this.#host.sampleMegabytes, (done, total) => {
        this.#sample.textContent = `Inserting ${formatCount(done)} / ${formatCount(total)}…`;
      });
      return `${formatCount(n)} issues in ${((performance.now() - started) / 1000).toFixed(1)} s, as one local commit`;
    });
    this.#sample.textContent = label;
    this.#sample.disabled = false;
  }
}

/** "a ⟦hit⟧ b" → text and <mark> nodes (no HTML parsing of data). */
function highlight(snip: string): (string | HTMLElement)[] {
  return snip.split(/(⟦[^⟧]*⟧)/).map((part) => (part.startsWith('⟦') ? h('mark', {}, part.slice(1, -1)) : part));
}
