// Sync controls: push, pull, hydrate, rebase, fork, reset (clone the own remote), clone the other device's
// volume, and the offline and autosync switches.
import type { DatabaseStatus } from '../src/client/index.ts';
import { h } from './dom.ts';

export interface ControlActions {
  push(): void;
  pull(): void;
  hydrate(): void;
  fork(): void;
  reset(): void;
  rebase(): void;
  cloneOther(): void;
  setOffline(offline: boolean): void;
  setAutosync(on: boolean): void;
  /** Aborts the push, pull or hydrate under way (its AbortSignal). */
  cancel(): void;
}

export class ControlsPanel {
  readonly element: HTMLElement;
  readonly #buttons: Record<'push' | 'pull' | 'hydrate' | 'rebase' | 'fork' | 'reset' | 'cloneOther', HTMLButtonElement>;
  readonly #offline: HTMLInputElement;
  readonly #autosync: HTMLInputElement;
  readonly #cancel: HTMLButtonElement;
  readonly #progress = h('span', { class: 'muted small', 'data-role': 'progress' });

  constructor(actions: ControlActions, otherLabel: string) {
    const button = (role: string, label: string, title: string, run: () => void) =>
      h('button', { 'data-role': role, title, onclick: run }, label);
    this.#buttons = {
      push: button('push', 'Push', 'Send unpushed local commits to the bucket as one remote commit', () => actions.push()),
      pull: button('pull', 'Pull', 'Fetch remote commit records and fast-forward (no pages are copied)', () => actions.pull()),
      hydrate: button('hydrate', 'Hydrate', 'Download every page not held locally, so the database works offline', () => actions.hydrate()),
      rebase: button('rebase', 'Rebase', 'Replay the unpushed transactions on top of the remote, then push (the way out of divergence that keeps both sides)', () => actions.rebase()),
      fork: button('fork', 'Fork', 'Keep this database as it is on a new remote volume (the way out of divergence that keeps local changes)', () => actions.fork()),
      reset: button('reset', 'Reset to remote', 'Clone the own remote volume: drop unpushed local commits (the way out of divergence that takes the remote\'s side)', () => actions.reset()),
      cloneOther: button('clone-other', `Clone ${otherLabel}'s volume`, `Move this database onto ${otherLabel}'s remote volume (lazily: no pages copied)`, () => actions.cloneOther()),
    };
    this.#offline = h('input', { type: 'checkbox', 'data-role': 'offline', onchange: () => actions.setOffline(this.#offline.checked) });
    this.#autosync = h('input', { type: 'checkbox', 'data-role': 'autosync', onchange: () => actions.setAutosync(this.#autosync.checked) });
    this.#cancel = button('cancel', 'Cancel', 'Abort the push, pull or hydrate under way: nothing it did is committed', () => actions.cancel());
    this.#cancel.hidden = true;
    this.element = h('section', { class: 'panel controls', 'data-role': 'controls' },
      h('div', { class: 'button-row' }, ...Object.values(this.#buttons)),
      h('div', { class: 'progress-row' }, this.#progress, this.#cancel),
      h('div', { class: 'switch-row' },
        h('label', { class: 'switch', title: 'Make the bucket unreachable for this device: unfetched pages fail with PageNotLocal, pushes fail, autosync pauses' }, this.#offline, h('span', {}, 'Offline')),
        h('label', { class: 'switch', title: 'Pull then push every 5 s and 1 s after each commit' }, this.#autosync, h('span', {}, 'Autosync')),
      ),
    );
  }

  update(v: { status: DatabaseStatus | undefined; offline: boolean; autosync: boolean; busy: boolean; progress: string | undefined; cancellable: boolean }): void {
    this.#cancel.hidden = !v.cancellable;
    this.#progress.textContent = v.progress ?? '';
    this.#offline.checked = v.offline;
    this.#autosync.checked = v.autosync;
    const state = v.status?.state;
    // Highlight what the state asks for.
    this.#buttons.push.classList.toggle('primary', state === 'ahead');
    this.#buttons.pull.classList.toggle('primary', state === 'behind');
    this.#buttons.rebase.classList.toggle('primary', state === 'diverged');
    this.#buttons.hydrate.classList.toggle('primary', false);
    for (const b of Object.values(this.#buttons)) b.disabled = v.busy;
  }
}
