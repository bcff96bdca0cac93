// The graft's state: local and remote volumes and LSNs, ahead/behind/diverged, the pending push,
// autosync's last word, and the last action and error.
import type { DatabaseStatus, SyncStatusEvent } from '../src/client/index.ts';
import { fill, formatBytes, formatCount, formatTime, h, shortId } from './dom.ts';

export interface StateView {
  status: DatabaseStatus | undefined;
  offline: boolean;
  autosync: boolean;
  sync: SyncStatusEvent | undefined;
  lastAction: { text: string; at: number } | undefined;
  lastError: { text: string; at: number } | undefined;
}

const STATE_HINTS: Record<DatabaseStatus['state'], string> = {
  'in-sync': 'local and remote agree',
  ahead: 'local commits to push',
  behind: 'remote commits to pull',
  diverged: 'both sides moved: reset (take the remote) or fork (keep yours)',
};

export class StatePanel {
  readonly element: HTMLElement;
  readonly #badge = h('span', { class: 'badge', 'data-role': 'sync-state' });
  readonly #hint = h('span', { class: 'muted small' });
  readonly #grid = h('dl', { class: 'kv' });
  readonly #action = h('div', { class: 'last-action', 'data-role': 'last-action' });
  readonly #error = h('div', { class: 'last-error', 'data-role': 'last-error' });

  constructor() {
    this.element = h('section', { class: 'panel state', 'data-role': 'state' },
      h('div', { class: 'panel-head' }, h('h3', {}, 'Graft'), h('div', { class: 'state-line' }, this.#badge, this.#hint)),
      this.#grid,
      this.#action,
      this.#error,
    );
  }

  update(v: StateView): void {
    const s = v.status;
    const state = s?.state ?? 'in-sync';
    this.#badge.textContent = s ? state : '…';
    this.#badge.className = `badge state-${state}`;
    this.element.dataset.state = state;
    this.#hint.textContent = s ? STATE_HINTS[state] : '';
    if (s) {
      const pushedThrough = s.localWatermark ? ` (pushed through ${s.localWatermark})` : '';
      const latest = s.remoteLatest !== undefined && s.remoteLatest !== s.remoteLsn ? ` · latest fetched ${s.remoteLatest}` : '';
      fill(this.#grid,
        h('dt', {}, 'local volume'), h('dd', {}, h('code', { title: s.local }, shortId(s.local)), ` LSN ${s.localLsn ?? '—'}${pushedThrough}`),
        h('dt', {}, 'remote volume'), h('dd', {}, h('code', { title: s.remote }, shortId(s.remote)), ` LSN ${s.remoteLsn ?? '—'}${latest}`),
        h('dt', {}, 'ahead / behind'), h('dd', { 'data-role': 'ahead-behind' }, `${s.ahead} ahead · ${s.behind} behind`),
        h('dt', {}, 'pending push'), h('dd', {}, s.pendingPush ? `local ${s.pendingPush.local} → remote ${s.pendingPush.remote} (resolved on the next push or pull)` : 'none'),
        h('dt', {}, 'size'), h('dd', {}, `${formatBytes(s.pageCount * 4096)} · ${formatCount(s.pageCount)} pages`),
        h('dt', {}, 'network'), h('dd', {}, v.offline ? h('span', { class: 'offline-text' }, 'offline (switched off)') : 'online', ' · autosync ', describeSync(v)),
      );
    }
    fill(this.#action, v.lastAction ? h('span', {}, h('span', { class: 'muted' }, `${formatTime(v.lastAction.at)} `), v.lastAction.text) : h('span', { class: 'muted' }, 'No action yet.'));
    this.#error.hidden = !v.lastError;
    // An error older than the last action is history: shown, but quieter.
    this.#error.classList.toggle('stale', !!v.lastError && !!v.lastAction && v.lastAction.at > v.lastError.at);
    fill(this.#error, v.lastError ? h('span', {}, h('span', { class: 'muted' }, `${formatTime(v.lastError.at)} `), v.lastError.text) : null);
  }
}

function describeSync(v: StateView): string {
  if (!v.autosync) return 'off';
  const e = v.sync;
  if (!e) return 'starting';
  const next = e.nextAt ? `, next in ${Math.max(0, Math.round((e.nextAt - Date.now()) / 1000))} s` : '';
  const did = [e.pulled && 'pulled', e.pushed && 'pushed'].filter(Boolean).join(' + ');
  return `${e.state}${did ? ` (${did})` : ''}${e.failures ? `, ${e.failures} failures` : ''}${next}`;
}
