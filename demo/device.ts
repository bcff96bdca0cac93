// One demo "device": its own Scion worker on its own OPFS directory, the issue tracker on database
// "issues", and the panels that show what sync is doing. Two of them share the bucket.
import { Scion, ScionError, isScionError, type Database, type DatabaseStatus, type Progress, type ScionRole, type SyncStatusEvent } from '../src/client/index.ts';
import { AppPanel } from './app-panel.ts';
import { ControlsPanel } from './controls-panel.ts';
import { fill, formatBytes, formatCount, h, shortId } from './dom.ts';
import { registerIssueMutators } from './issues.ts';
import { NetworkPanel } from './network-panel.ts';
import { PageMapPanel } from './page-map.ts';
import { StatePanel } from './state-panel.ts';
import { TimeTravelPanel, type TimePoint } from './time-travel.ts';

export interface DemoConfig {
  presignUrl: string;
  token: string;
}

export interface DeviceOptions {
  id: string;
  label: string;
  config: DemoConfig;
  sampleMegabytes: number;
}

export const DATABASE = 'issues';
const AUTOSYNC = { intervalMs: 5_000, afterCommitMs: 1_000 };

export class Device {
  readonly id: string;
  readonly label: string;
  readonly directory: string;
  readonly sampleMegabytes: number;
  readonly element: HTMLElement;
  other: Device | undefined;
  readonly #config: DemoConfig;
  #scion: Scion | undefined;
  #db: Database | undefined;
  #view: Database | undefined;
  #status: DatabaseStatus | undefined;
  #sync: SyncStatusEvent | undefined;
  #offline = false;
  #autosync = false;
  #busy = false;
  /** The push, pull or hydrate under way (Cancel aborts it), and its last progress. */
  #abort: AbortController | undefined;
  #progress: string | undefined;
  /** Pages of the latest snapshot never fetched (from the last inspection). */
  #missing = 0;
  #lastAction: { text: string; at: number } | undefined;
  #lastError: { text: string; at: number } | undefined;
  #inspectTimer: ReturnType<typeof setTimeout> | undefined;
  #inspecting = false;
  #inspectAgain = false;
  #travel: Promise<void> = Promise.resolve();
  readonly #state = new StatePanel();
  readonly #controls: ControlsPanel;
  readonly #app: AppPanel;
  readonly #time = new TimeTravelPanel((p) => this.#travelTo(p));
  readonly #map = new PageMapPanel();
  readonly #network = new NetworkPanel();
  readonly #online = h('span', { class: 'badge online', 'data-role': 'online' }, 'online');
  readonly #role = h('span', { class: 'badge', 'data-role': 'tab-role', title: 'This tab\'s role for this device\'s storage: the leader runs the worker, followers call it' }, '…');
  /** Shown when going offline with pages never fetched: what will fail, and the way to avoid it. */
  readonly #offlineGuide = h('div', { class: 'guide', 'data-role': 'offline-guide', hidden: true });

  constructor(options: DeviceOptions, otherLabel: string) {
    this.id = options.id;
    this.label = options.label;
    this.directory = `scion-demo-${options.id}`;
    this.sampleMegabytes = options.sampleMegabytes;
    this.#config = options.config;
    this.#controls = new ControlsPanel({
      push: () => void this.#push(),
      pull: () => void this.#pull(),
      hydrate: () => void this.#hydrate(),
      fork: () => void this.#fork(),
      reset: () => void this.#reset(),
      rebase: () => void this.#rebase(),
      cloneOther: () => void this.#cloneOther(),
      setOffline: (v) => void this.#setOffline(v),
      setAutosync: (v) => void this.#setAutosync(v),
      cancel: () => this.#abort?.abort(),
    }, otherLabel);
    this.#app = new AppPanel(this.#appHost());
    this.element = h('section', { class: 'device', 'data-device': this.id },
      h('header', { class: 'device-head' },
        h('h2', {}, this.label),
        h('span', { class: 'muted small device-where' }, `own worker · OPFS directory “${this.directory}”`),
        h('span', { class: 'badges' }, this.#role, this.#online),
      ),
      this.#offlineGuide,
      h('div', { class: 'device-grid' },
        h('div', { class: 'col' }, this.#state.element, this.#controls.element, this.#app.element),
        h('div', { class: 'col' }, this.#time.element, this.#map.element, this.#network.element),
      ),
    );
    setInterval(() => this.#render(), 1_000);
    this.#render();
  }

  get db(): Database {
    if (!this.#db) throw new ScionError('Closed', `${this.label} has not started.`);
    return this.#db;
  }

  get scion(): Scion {
    if (!this.#scion) throw new ScionError('Closed', `${this.label} has not started.`);
    return this.#scion;
  }

  /** Opens the worker, then the database through `open` (which creates, seeds or clones it). */
  async start(open: (scion: Scion) => Promise<Database>): Promise<void> {
    const scion = await Scion.open({ directory: this.directory, remote: this.#config });
    this.#scion = scion;
    this.#showRole(scion.role);
    scion.onRoleChange((role) => this.#showRole(role));
    scion.onNetwork((e) => {
      this.#network.add(e);
      this.#scheduleInspect();
    });
    const db = await open(scion);
    registerIssueMutators(db);
    this.#db = this.#view = db;
    db.onChange((e) => {
      if (e.reason === 'graft' && this.#time.selected) {
        this.#time.reset();
        this.#travelTo(undefined);
      }
      // The issue list is a live query: it updates itself.
      this.#scheduleInspect();
    });
    db.onSyncStatus((e) => {
      this.#sync = e;
      if (e.state === 'error' && e.error) this.#fail('autosync', ScionError.fromWire(e.error));
      if (e.state === 'diverged') this.#note(e.error ? `rebase stopped: ${e.error.message}` : 'autosync: diverged — rebasing');
      if (e.state === 'rebased') this.#note(`rebased onto the remote: ${e.replayed ?? 0} transactions replayed, ${e.dropped ?? 0} dropped`);
      this.#scheduleInspect();
    });
    this.element.dataset.ready = 'true';
    this.#app.refresh();
    this.#scheduleInspect();
  }

  /** Ends the worker (before the demo's data is wiped). */
  async close(): Promise<void> {
    await this.#scion?.close();
  }

  // ── Actions ─────────────────────────────────────────────────────────────────────────────

  /** Runs `fn`, never throwing: an error becomes the last error, and the panels refresh after. */
  async run<T>(label: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      this.#fail(label, e);
      return undefined;
    } finally {
      this.#scheduleInspect();
    }
  }

  async act(label: string, fn: () => Promise<string>): Promise<string | undefined> {
    const text = await this.run(label, fn);
    if (text !== undefined) this.#note(`${label}: ${text}`);
    return text;
  }

  #push(): Promise<unknown> {
    return this.#busyWith('push', async (op) => {
      const r = await this.db.push(op);
      if (r.outcome === 'pushed') return `pushed local LSN ${r.localLsn} as remote LSN ${r.remoteLsn} — ${r.pages} pages, ${formatBytes(r.bytes)} uploaded`;
      if (r.outcome === 'up-to-date') return 'nothing to push';
      return `diverged (${r.ahead} ahead, ${r.behind} behind): rebase, reset or fork`;
    });
  }

  #rebase(): Promise<unknown> {
    return this.#busyWith('rebase', async () => {
      const r = await this.db.rebase();
      if (r.outcome === 'not-needed') return `nothing to rebase (${r.state})`;
      if (r.outcome === 'stopped') return `rebase stopped: ${r.conflict.error.message} — nothing changed`;
      return `rebased onto the remote: ${r.replayed} transactions replayed, ${r.dropped} dropped${r.pushed ? ', pushed' : ''}`;
    });
  }

  #pull(): Promise<unknown> {
    return this.#busyWith('pull', async (op) => {
      const r = await this.db.pull(op);
      if (r.outcome === 'pulled') return `pulled remote LSN ${r.from ?? 0} → ${r.to}: no pages copied, they arrive when read`;
      if (r.outcome === 'up-to-date') return 'already up to date';
      return `diverged (${r.ahead} ahead, ${r.behind} behind): reset or fork`;
    });
  }

  #hydrate(): Promise<unknown> {
    return this.#busyWith('hydrate', async (op) => {
      const r = await this.#view!.hydrate(op);
      return r.framesTotal === 0 ? 'every page was local already' : `fetched ${r.framesDone} frames, ${formatBytes(r.bytes)}: every page is local now`;
    });
  }

  #fork(): Promise<unknown> {
    return this.#busyWith('fork', async () => {
      const r = await this.db.fork();
      return `now on a new remote volume ${shortId(r.remote)}, local changes kept — push to publish it (${this.other?.label ?? 'the other device'} can clone it)`;
    });
  }

  #reset(): Promise<unknown> {
    return this.#busyWith('reset', async () => {
      const s = await this.db.clone();
      return `cloned remote volume ${shortId(s.remote)} at LSN ${s.remoteLsn ?? '—'}: unpushed local commits dropped`;
    });
  }

  #cloneOther(): Promise<unknown> {
    return this.#busyWith('clone', async () => {
      if (!this.other) throw new ScionError('InvalidInput', 'There is no other device.');
      const theirs = await this.other.db.status();
      const s = await this.db.clone(theirs.remote);
      return `now on ${this.other.label}'s remote volume ${shortId(s.remote)} at LSN ${s.remoteLsn ?? '— (nothing pushed yet)'}`;
    });
  }

  /**
   * Going offline with pages never fetched (a lazy clone): reads and writes that need them would fail
   * with PageNotLocal, so the device first offers to make the database available offline (hydrate).
   */
  async #setOffline(offline: boolean, checked = false): Promise<void> {
    this.#offlineGuide.hidden = true;
    if (offline && !checked && this.#missing > 0) return this.#guideOffline();
    await this.run('offline', () => this.scion.setOffline(offline));
    this.#offline = offline;
    this.#note(offline ? 'offline: the bucket is unreachable for this device' : 'online again');
    this.#render();
  }

  async #setAutosync(on: boolean): Promise<void> {
    await this.run('autosync', () => this.db.autosync(on ? AUTOSYNC : false));
    this.#autosync = on;
    if (!on) this.#sync = undefined;
    this.#render();
  }

  #guideOffline(): void {
    const pages = this.#missing;
    const button = (role: string, text: string, cls: string, run: () => void) => h('button', { 'data-role': role, class: cls, onclick: run }, text);
    fill(this.#offlineGuide,
      h('p', {}, h('strong', {}, `${formatCount(pages)} pages (${formatBytes(pages * 4096)}) of this database were never fetched. `),
        'Offline, a read or a write that needs one of them fails with PageNotLocal and commits nothing. Download them first to work fully offline.'),
      h('div', { class: 'button-row' },
        button('offline-hydrate', 'Hydrate, then go offline', 'primary', () => void this.#hydrateThenGoOffline()),
        button('offline-anyway', 'Go offline anyway', '', () => void this.#setOffline(true, true)),
        button('offline-stay', 'Stay online', 'ghost', () => {
          this.#offlineGuide.hidden = true;
          this.#render();
        }),
      ),
    );
    this.#offlineGuide.hidden = false;
    this.#render();
  }

  async #hydrateThenGoOffline(): Promise<void> {
    this.#offlineGuide.hidden = true;
    await this.#hydrate();
    const map = await this.run('inspect', () => this.db.pageMap());
    if (map?.counts.missing !== 0) return; // cancelled or failed: the error says so; stay online
    this.#missing = 0;
    await this.#setOffline(true, true);
  }

  /** Runs an action with a signal (the Cancel button) and progress shown under the buttons. */
  async #busyWith(label: string, fn: (op: { signal: AbortSignal; onProgress: (p: Progress) => void }) => Promise<string>): Promise<unknown> {
    this.#busy = true;
    const abort = (this.#abort = new AbortController());
    this.#render();
    try {
      return await this.act(label, () => fn({ signal: abort.signal, onProgress: (p) => this.#showProgress(p) }));
    } finally {
      this.#busy = false;
      this.#abort = undefined;
      this.#progress = undefined;
      this.#render();
    }
  }

  #showProgress(p: Progress): void {
    const unit = { 'fetch-log': 'commit records', download: 'frames', upload: 'bytes', commit: 'commit', read: 'pages', write: 'pages', done: '' }[p.phase];
    this.#progress = p.phase === 'done' ? `${p.operation}: done` : `${p.operation}: ${p.phase} ${formatCount(p.done)}${p.total === undefined ? '' : ` / ${formatCount(p.total)}`} ${unit} · ${formatBytes(p.bytes)}`;
    this.#render();
  }

  #showRole(role: ScionRole): void {
    this.#role.textContent = role === 'single' ? 'own worker' : `${role} tab`;
    this.#role.className = `badge role-${role}`;
    this.element.dataset.tabRole = role;
  }

  /** Moves the app and the page map to a past snapshot (or back to live); one move at a time. */
  #travelTo(point: TimePoint | undefined): void {
    this.#travel = this.#travel.then(() => this.run('time travel', async () => {
      const old = this.#view;
      this.#view = point ? await this.db.checkout(point.lsn, { volume: point.volume }) : this.db;
      if (old && old !== this.#db) await old.close();
      this.#app.refresh();
    }).then(() => undefined));
  }

  #appHost() {
    return {
      label: this.label,
      sampleMegabytes: this.sampleMegabytes,
      view: () => this.#view ?? this.db,
      live: () => this.db,
      run: <T>(label: string, fn: () => Promise<T>) => this.run(label, fn),
      fail: (label: string, e: unknown) => this.#fail(label, e),
      act: (label: string, fn: () => Promise<string>) => this.act(label, fn),
      fetched: async () => {
        const s = await this.scion.stats();
        return { bytes: s.remote.bytesFetched, frames: s.remote.framesFetched };
      },
    };
  }

  // ── Inspection ──────────────────────────────────────────────────────────────────────────

  #scheduleInspect(): void {
    if (this.#inspectTimer !== undefined) return;
    this.#inspectTimer = setTimeout(() => {
      this.#inspectTimer = undefined;
      void this.#inspect();
    }, 100);
  }

  /** Status and page map, read from the worker (nothing remote); one at a time. */
  async #inspect(): Promise<void> {
    if (!this.#db) return;
    if (this.#inspecting) {
      this.#inspectAgain = true;
      return;
    }
    this.#inspecting = true;
    try {
      const view = this.#view ?? this.#db;
      const status = await this.#db.status();
      const map = await view.pageMap();
      this.#status = status;
      if (!view.checkoutOf) this.#missing = map.counts.missing;
      this.#time.update(status);
      this.#network.setDatabaseBytes(status.pageCount * 4096);
      const at = view.checkoutOf;
      this.#map.update(map, at ? `${at.volume} LSN ${at.lsn} (checkout)` : 'latest snapshot');
      this.#render();
    } catch (e) {
      // A checkout closed by time travel meanwhile: the next inspection reads the new view.
      if (!isScionError(e, 'Closed')) this.#fail('inspect', e);
      else this.#inspectAgain = true;
    } finally {
      this.#inspecting = false;
      if (this.#inspectAgain) {
        this.#inspectAgain = false;
        this.#scheduleInspect();
      }
    }
  }

  #note(text: string): void {
    this.#lastAction = { text, at: Date.now() };
    this.#render();
  }

  #fail(label: string, e: unknown): void {
    const err = ScionError.from(e);
    const guide = err.code === 'PageNotLocal' && this.#offline
      ? ' — This device never fetched a page this needs. Switch online and retry; to work offline, press Hydrate before going offline.'
      : err.code === 'Interrupted' && err.details?.reason === 'cancelled' ? ' — cancelled: nothing was committed.' : '';
    this.#lastError = { text: `${label} failed — ${err.code}: ${err.message}${guide}`, at: Date.now() };
    this.#render();
  }

  #render(): void {
    this.#state.update({
      status: this.#status, offline: this.#offline, autosync: this.#autosync, sync: this.#sync, lastAction: this.#lastAction, lastError: this.#lastError,
    });
    this.#controls.update({ status: this.#status, offline: this.#offline, autosync: this.#autosync, busy: this.#busy, progress: this.#progress, cancellable: this.#abort !== undefined });
    this.#online.textContent = this.#offline ? 'offline' : 'online';
    this.#online.className = `badge ${this.#offline ? 'offline' : 'online'}`;
    this.element.classList.toggle('is-offline', this.#offline);
  }
}
