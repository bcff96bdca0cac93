import type { NetworkState } from './autosync.ts';

interface EventSource {
  addEventListener(type: string, listener: () => void): void;
}

/**
 * navigator.onLine and the online/offline events of the worker's global scope, overridden by what the
 * page reports through `set` (a page sees its window's events even where a worker does not).
 */
export class BrowserNetwork implements NetworkState {
  readonly #listeners = new Set<(online: boolean) => void>();
  #online: boolean;

  constructor(scope: unknown = globalThis) {
    const nav = (scope as { navigator?: { onLine?: boolean } }).navigator;
    this.#online = nav?.onLine ?? true;
    const events = scope as Partial<EventSource>;
    if (typeof events.addEventListener === 'function') {
      events.addEventListener('online', () => this.set(true));
      events.addEventListener('offline', () => this.set(false));
    }
  }

  get online(): boolean {
    return this.#online;
  }

  set(online: boolean): void {
    if (online === this.#online) return;
    this.#online = online;
    for (const listener of this.#listeners) listener(online);
  }

  subscribe(listener: (online: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
