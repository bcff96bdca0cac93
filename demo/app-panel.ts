// The app itself: an offline-first issue tracker with full-text search. Its list is a live query
// (db.watch): it updates itself after a commit in this device, a pull or a clone, and reports what each
// delivery fetched, so laziness shows next to the result.
import type { Database } from '../src/client/index.ts';
import { fill, formatBytes, formatCount, formatTime, h } from './dom.ts';
import { addIssue, issuesQuery, loadSample, MAX_ID, SCHEMA_PROBE, toggleIssue, type Issue, type StatusFilter } from './issues.ts';

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
  /** Reports a failure as the device's "last error". */
  fail(label: string, e: unknown): void;
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
  /** Stops the live queries of the view shown now. */
  #stop: () => void = () => undefined;
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

  /**
   * Watches what the panel shows (the view, the search text and the filter): called when one of them
   * changes. The watch then updates the list by itself, after any commit that touches the issues.
   */
  refresh(): void {
    this.#stop();
    const db = this.#host.view();
    const readOnly = db.readOnly;
    this.#title.disabled = this.#body.disabled = this.#add.disabled = this.#sample.disabled = readOnly;
    this.#showBanner(db);
    const text = this.#search.value.trim();
    const filter = this.#filter.value as StatusFilter;
    const label = text ? 'search' : 'list';
    const stops: (() => void)[] = [];
    this.#stop = () => stops.splice(0).forEach((stop) => stop());
    const failed = (e: unknown) => {
      this.#host.fail(label, e);
      this.element.dataset.failed = 'true';
      fill(this.#info, h('span', { class: 'error-text' }, 'The query failed (see the last error): a page it needs is not held locally and the bucket is unreachable. Go online, or hydrate before going offline.'));
    };
    // A fresh clone of an empty remote has no table yet: wait for one (a pull or a clone brings it).
    stops.push(db.watch<{ yes: number }>(SCHEMA_PROBE, [], (probe) => {
      stops.splice(1).forEach((stop) => stop());
      if (probe.length === 0) {
        fill(this.#list);
        fill(this.#count);
        fill(this.#info, 'The database has no issues table yet: pull, or clone the other device\'s volume.');
        return;
      }
      const query = issuesQuery(text, filter);
      if (!query) {
        fill(this.#list, h('li', { class: 'empty muted' }, 'No match.'));
        return;
      }
      stops.push(db.watch<{ n: number | null }>(MAX_ID, [], (rows) => fill(this.#count, `· ${formatCount(rows[0]?.n ?? 0)} total`), { onError: failed }));
      const started = performance.now();
      let ms: number | undefined;
      let before = this.#host.fetched();
      stops.push(db.watch<Issue>(query.sql, query.params, (issues) => {
        // The first delivery is the query's own run; later ones are live updates after a change.
        const took = ms === undefined ? (ms = performance.now() - started) : undefined;
        const counted = before;
        before = this.#host.fetched();
        void Promise.all([counted, before]).then(([a, b]) => this.#render(issues, { text, filter, readOnly, ms: took, frames: b.frames - a.frames, bytes: b.bytes - a.bytes }));
      }, { onError: failed }));
    }, { onError: failed }));
  }

  #render(issues: Issue[], v: { text: string; filter: StatusFilter; readOnly: boolean; ms: number | undefined; frames: number; bytes: number }): void {
    this.element.dataset.failed = 'false';
    fill(this.#list, ...issues.map((issue) => this.#row(issue, v.readOnly)));
    if (issues.length === 0) this.#list.append(h('li', { class: 'empty muted' }, v.text ? 'No match.' : 'No issues.'));
    const fetched = v.frames > 0 ? `fetched ${v.frames} frame${v.frames === 1 ? '' : 's'} (${formatBytes(v.bytes)}) from the bucket` : 'no fetch: every page was local';
    const what = v.text ? `search “${v.text}”` : `latest ${v.filter === 'all' ? '' : `${v.filter} `}issues`;
    const when = v.ms === undefined ? `updated live at ${formatTime(Date.now())}` : `in ${v.ms.toFixed(0)} ms`;
    fill(this.#info, `${what} · ${issues.length} rows ${when} · watching for changes · ${fetched}`);
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
