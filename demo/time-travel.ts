// Time travel: a slider over the LSNs this device can check out — the remote log (the same on every
// device) and the local commits not pushed yet — with "live" at the right end.
import type { DatabaseStatus } from '../src/client/index.ts';
import { h } from './dom.ts';

export interface TimePoint {
  volume: 'remote' | 'local';
  lsn: number;
}

export class TimeTravelPanel {
  readonly element: HTMLElement;
  readonly #slider = h('input', { type: 'range', min: 0, max: 0, step: 1, value: 0, 'data-role': 'time-slider', 'aria-label': 'Time travel' });
  readonly #label = h('span', { class: 'time-label', 'data-role': 'time-label' });
  readonly #live = h('button', { class: 'small', 'data-role': 'time-live' }, 'Live');
  readonly #onSelect: (point: TimePoint | undefined) => void;
  #points: TimePoint[] = [];
  #selected: TimePoint | undefined;
  #status: DatabaseStatus | undefined;

  /** `onSelect(undefined)` means back to the live database. */
  constructor(onSelect: (point: TimePoint | undefined) => void) {
    this.#onSelect = onSelect;
    this.element = h('section', { class: 'panel time-travel', 'data-role': 'time-travel' },
      h('div', { class: 'panel-head' }, h('h3', {}, 'Time travel'), this.#label, this.#live),
      this.#slider,
      h('div', { class: 'muted small' }, 'Each position is a snapshot: remote LSNs are shared by every device; local ones are commits not pushed yet. Reading the past fetches only the pages it needs.'),
    );
    this.#slider.addEventListener('input', () => this.#renderLabel(this.#pointAt(Number(this.#slider.value))));
    this.#slider.addEventListener('change', () => this.#select(this.#pointAt(Number(this.#slider.value))));
    this.#live.addEventListener('click', () => this.#select(undefined));
  }

  get selected(): TimePoint | undefined {
    return this.#selected;
  }

  /** Recomputes the positions from the status; the selection stays where it was if it still exists. */
  update(status: DatabaseStatus): void {
    this.#status = status;
    const points: TimePoint[] = [];
    for (let lsn = 1; lsn <= (status.remoteLatest ?? 0); lsn++) points.push({ volume: 'remote', lsn });
    for (let lsn = (status.localWatermark ?? 0) + 1; lsn <= (status.localLsn ?? 0); lsn++) points.push({ volume: 'local', lsn });
    this.#points = points;
    this.#slider.max = String(points.length);
    const at = this.#selected ? points.findIndex((p) => p.volume === this.#selected?.volume && p.lsn === this.#selected.lsn) : -1;
    if (this.#selected && at < 0) this.#select(undefined);
    this.#slider.value = String(at < 0 ? points.length : at);
    this.#slider.disabled = points.length === 0;
    this.#renderLabel(this.#selected);
  }

  /** Back to live without calling back (the database moved to another graft). */
  reset(): void {
    this.#selected = undefined;
    this.#slider.value = this.#slider.max;
    this.#renderLabel(undefined);
  }

  #pointAt(index: number): TimePoint | undefined {
    return this.#points[index];
  }

  #select(point: TimePoint | undefined): void {
    this.#selected = point;
    this.#slider.value = String(point ? this.#points.indexOf(point) : this.#points.length);
    this.#renderLabel(point);
    this.#onSelect(point);
  }

  #renderLabel(point: TimePoint | undefined): void {
    this.element.classList.toggle('past', point !== undefined);
    this.#live.disabled = point === undefined;
    if (!point) {
      this.#label.textContent = `live · local LSN ${this.#status?.localLsn ?? '—'}, remote LSN ${this.#status?.remoteLsn ?? '—'}`;
      return;
    }
    const notPulled = point.volume === 'remote' && point.lsn > (this.#status?.remoteLsn ?? 0) ? ' (fetched, not pulled)' : '';
    const unpushed = point.volume === 'local' ? ' (not pushed)' : '';
    this.#label.textContent = `${point.volume} LSN ${point.lsn}${notPulled}${unpushed} · read-only`;
  }
}
