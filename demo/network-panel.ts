// The device's requests to the bucket, newest first, with running totals: bytes fetched against the
// database's size is the number that shows laziness.
import type { NetworkEvent } from '../src/client/index.ts';
import { fill, formatBytes, formatCount, formatTime, h, shortId } from './dom.ts';

const MAX_ROWS = 150;

export class NetworkPanel {
  readonly element: HTMLElement;
  readonly #totals = h('div', { class: 'totals', 'data-role': 'network-totals' });
  readonly #rows = h('tbody');
  #fetched = 0;
  #sent = 0;
  #requests = 0;
  #refused = 0;
  #databaseBytes = 0;

  constructor() {
    this.element = h('section', { class: 'panel network', 'data-role': 'network' },
      h('div', { class: 'panel-head' },
        h('h3', {}, 'Network'),
        h('button', { class: 'small ghost', onclick: () => this.clear() }, 'Clear'),
      ),
      this.#totals,
      h('div', { class: 'log-wrap' },
        h('table', { class: 'log' },
          h('thead', {}, h('tr', {}, h('th', {}, 'time'), h('th', {}, ''), h('th', {}, 'object'), h('th', { class: 'num' }, 'status'), h('th', { class: 'num' }, 'bytes'), h('th', { class: 'num' }, 'ms'))),
          this.#rows,
        ),
      ),
    );
    this.#renderTotals();
  }

  add(e: NetworkEvent): void {
    this.#requests++;
    if (e.offline) this.#refused++;
    else if (e.method === 'GET') this.#fetched += e.bytes;
    else if (e.method === 'PUT') this.#sent += e.bytes;
    const failed = e.status === 0 || e.status >= 400;
    // A 404 on a commit is the normal answer to "is there a newer commit?".
    const row = h('tr', { class: e.offline ? 'refused' : e.status === 404 ? 'none' : failed ? 'failed' : '' },
      h('td', { class: 'muted' }, formatTime(e.at)),
      h('td', {}, h('span', { class: `method ${e.method.toLowerCase()}` }, e.method)),
      h('td', { class: 'key', title: e.key }, describeKey(e.key), e.sync ? h('span', { class: 'tag', title: 'a SQLite page miss: synchronous read' }, 'page miss') : null),
      h('td', { class: 'num', title: e.status === 404 ? 'no such object (yet): the log ends here' : undefined }, e.offline ? 'offline' : e.status === 0 ? 'failed' : e.status),
      h('td', { class: 'num' }, e.bytes ? formatBytes(e.bytes) : '—'),
      h('td', { class: 'num muted' }, e.offline ? '—' : e.ms.toFixed(0)),
    );
    this.#rows.prepend(row);
    while (this.#rows.childElementCount > MAX_ROWS) this.#rows.lastElementChild?.remove();
    this.#renderTotals();
  }

  /** The database's current size, to compare the bytes fetched with. */
  setDatabaseBytes(bytes: number): void {
    if (bytes === this.#databaseBytes) return;
    this.#databaseBytes = bytes;
    this.#renderTotals();
  }

  clear(): void {
    this.#rows.replaceChildren();
    this.#fetched = this.#sent = this.#requests = this.#refused = 0;
    this.#renderTotals();
  }

  #renderTotals(): void {
    const share = this.#databaseBytes > 0 ? ` (${((100 * this.#fetched) / this.#databaseBytes).toFixed(this.#fetched < this.#databaseBytes / 100 ? 2 : 1)}%)` : '';
    this.element.dataset.fetched = String(this.#fetched);
    fill(this.#totals,
      h('span', { title: 'Bytes on the wire: frames are deflate-compressed, so a hydrated database costs less than its size' },
        'fetched ', h('b', {}, formatBytes(this.#fetched)), ` of a ${formatBytes(this.#databaseBytes)} database${share}`),
      h('span', {}, 'pushed ', h('b', {}, formatBytes(this.#sent))),
      h('span', {}, h('b', {}, formatCount(this.#requests)), ' requests', this.#refused ? `, ${this.#refused} refused offline` : ''),
    );
  }
}

/** "volumes/v…/segments/s0…" (or format 1's "segments/s0…") → "segment s0ab…x9"; "volumes/v…/log/000…3" → "commit 3 of v01a…". */
function describeKey(key: string): string {
  const commit = /^volumes\/([0-9a-z]+)\/log\/([0-9a-f]{16})$/.exec(key);
  if (commit) return `commit ${Number.parseInt(commit[2] as string, 16)} of ${shortId(commit[1])}`;
  const segment = /^(?:volumes\/[0-9a-z]+\/)?segments\/([0-9a-z]+)$/.exec(key);
  if (segment) return `segment ${shortId(segment[1])}`;
  const latest = /^volumes\/([0-9a-z]+)\/latest$/.exec(key);
  if (latest) return `latest hint of ${shortId(latest[1])}`;
  return key;
}

