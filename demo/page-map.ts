// The picture of the volume: one cell per 4 KiB page, coloured by where its bytes are. Cells that
// changed since the last picture are outlined for a moment, so a query's fetches show as they land.
import type { PageMap, PageMapState } from '../src/client/index.ts';
import { fill, formatBytes, formatCount, h } from './dom.ts';

export const STATE_COLORS: Record<PageMapState, string> = {
  local: '#2f9e63',
  cached: '#3b82f6',
  missing: '#dde1e7',
  unpushed: '#f59e0b',
  empty: '#f6f7f9',
};

export const STATE_LABELS: Record<PageMapState, string> = {
  local: 'local',
  cached: 'cached from remote',
  missing: 'not fetched',
  unpushed: 'written, not pushed',
  empty: 'never written',
};

const ORDER: readonly PageMapState[] = ['local', 'cached', 'missing', 'unpushed', 'empty'];
const MAX_HEIGHT = 300;
const HIGHLIGHT_MS = 1500;

export class PageMapPanel {
  readonly element: HTMLElement;
  readonly #canvas = h('canvas', { class: 'page-map-canvas', 'aria-label': 'Pages of the volume' });
  readonly #legend = h('div', { class: 'legend' });
  readonly #caption = h('div', { class: 'muted small' });
  readonly #tooltip = h('div', { class: 'map-tooltip', hidden: true });
  #map: PageMap | undefined;
  #changedAt = new Float64Array(0);
  #cell = 8;
  #cols = 1;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    this.element = h('section', { class: 'panel page-map', 'data-role': 'page-map' },
      h('h3', {}, 'Volume pages'),
      this.#legend,
      h('div', { class: 'canvas-wrap' }, this.#canvas, this.#tooltip),
      this.#caption,
    );
    this.#canvas.addEventListener('mousemove', (e) => this.#hover(e));
    this.#canvas.addEventListener('mouseleave', () => (this.#tooltip.hidden = true));
    new ResizeObserver(() => this.#draw()).observe(this.element);
  }

  /** Shows `map`; `title` says which snapshot it is (latest, or a checkout). */
  update(map: PageMap, title: string): void {
    const previous = this.#map;
    const now = performance.now();
    const changedAt = new Float64Array(map.pageCount);
    for (let i = 0; i < map.pageCount; i++) {
      const before = previous && i < previous.pageCount ? previous.legend[previous.states[i] as number] : undefined;
      const changed = previous !== undefined && before !== map.legend[map.states[i] as number];
      changedAt[i] = changed ? now : i < this.#changedAt.length ? (this.#changedAt[i] as number) : -Infinity;
    }
    this.#map = map;
    this.#changedAt = changedAt;
    this.#renderLegend(map);
    fill(this.#caption, `${title} · ${formatCount(map.pageCount)} pages, ${formatBytes(map.pageCount * 4096)} · hover a cell for its page`);
    this.#draw();
  }

  #renderLegend(map: PageMap): void {
    fill(this.#legend, ...ORDER.filter((s) => s !== 'empty' || map.counts.empty > 0).map((s) =>
      h('span', { class: 'legend-item', 'data-state': s, 'data-count': map.counts[s] },
        h('i', { class: 'swatch', style: `background:${STATE_COLORS[s]}` }),
        `${STATE_LABELS[s]} `,
        h('b', {}, formatCount(map.counts[s])),
      ),
    ));
    for (const s of ORDER) this.element.dataset[s] = String(map.counts[s]);
  }

  #draw(): void {
    const map = this.#map;
    if (!map) return;
    const width = Math.max(200, this.#canvas.parentElement?.clientWidth ?? 600);
    // The largest cell that fits every page in the width and height available.
    let cell = 14;
    while (cell > 2 && Math.ceil(map.pageCount / Math.floor(width / cell)) * cell > MAX_HEIGHT) cell--;
    const cols = Math.max(1, Math.floor(width / cell));
    const rows = Math.max(1, Math.ceil(map.pageCount / cols));
    this.#cell = cell;
    this.#cols = cols;
    const dpr = window.devicePixelRatio || 1;
    this.#canvas.width = Math.round(cols * cell * dpr);
    this.#canvas.height = Math.round(rows * cell * dpr);
    this.#canvas.style.width = `${cols * cell}px`;
    this.#canvas.style.height = `${rows * cell}px`;
    const ctx = this.#canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const gap = cell >= 5 ? 1 : 0;
    const now = performance.now();
    // Outline what just changed, unless most of the map did (a hydrate): then the colours say it.
    let recent = 0;
    for (let i = 0; i < map.pageCount; i++) if (now - (this.#changedAt[i] as number) < HIGHLIGHT_MS) recent++;
    const outline = recent > 0 && recent <= Math.max(64, map.pageCount / 4);
    for (let i = 0; i < map.pageCount; i++) {
      const x = (i % cols) * cell;
      const y = Math.floor(i / cols) * cell;
      ctx.fillStyle = STATE_COLORS[map.legend[map.states[i] as number] as PageMapState];
      ctx.fillRect(x, y, cell - gap, cell - gap);
      if (outline && now - (this.#changedAt[i] as number) < HIGHLIGHT_MS) {
        ctx.strokeStyle = '#f5c518';
        ctx.lineWidth = cell >= 6 ? 2 : 1;
        ctx.strokeRect(x + ctx.lineWidth / 2, y + ctx.lineWidth / 2, cell - gap - ctx.lineWidth, cell - gap - ctx.lineWidth);
      }
    }
    const pending = recent > 0;
    clearTimeout(this.#timer);
    if (pending) this.#timer = setTimeout(() => this.#draw(), HIGHLIGHT_MS);
  }

  #hover(e: MouseEvent): void {
    const map = this.#map;
    if (!map) return;
    const rect = this.#canvas.getBoundingClientRect();
    const col = Math.floor((e.clientX - rect.left) / this.#cell);
    const row = Math.floor((e.clientY - rect.top) / this.#cell);
    const i = row * this.#cols + col;
    if (col >= this.#cols || i < 0 || i >= map.pageCount) {
      this.#tooltip.hidden = true;
      return;
    }
    const state = map.legend[map.states[i] as number] as PageMapState;
    const lsn = map.lsns[i] as number;
    const where = state === 'empty' ? '' : state === 'unpushed' ? ` · local LSN ${lsn}` : ` · remote LSN ${lsn}`;
    this.#tooltip.textContent = `page ${i + 1}: ${STATE_LABELS[state]}${where}`;
    this.#tooltip.hidden = false;
    this.#tooltip.style.left = `${e.clientX - rect.left + 12}px`;
    this.#tooltip.style.top = `${e.clientY - rect.top + 12}px`;
  }
}
