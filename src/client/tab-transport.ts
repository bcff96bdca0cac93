// How a tab's requests reach the current leader and its answers come back: request ids, the epoch that
// changes with every leader, and the gate that holds calls until this tab's state is re-created there.
import { ScionError } from '../core/index.ts';
import type { Wire } from '../protocol/index.ts';
import { failed } from '../protocol/index.ts';
import type { ToHost } from './tab-protocol.ts';

/** How requests reach the current leader: direct calls (this tab leads) or its BroadcastChannel. */
export interface Transport {
  readonly leader: string;
  readonly local: boolean;
  send(message: ToHost): void;
  /** This tab leads: a worker call made without a message while no other tab is served, else undefined. */
  direct?(method: string, args: unknown[]): Promise<Wire<unknown>> | undefined;
}

/** Rejects every request under way when the leader changes; never leaves the tab-link modules. */
export const LEADER_LOST: unique symbol = Symbol('leader lost');

/** A request without the fields the transport fills in. */
export type Body = ToHost extends infer M ? (M extends { id: number } ? Omit<M, 'from' | 'to' | 'id'> : never) : never;

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
  settled: boolean;
}

function deferred(): Deferred {
  const d = { settled: false } as Deferred;
  d.promise = new Promise<void>((resolve, reject) => {
    d.resolve = () => {
      d.settled = true;
      resolve();
    };
    d.reject = (e) => {
      d.settled = true;
      reject(e);
    };
  });
  d.promise.catch(() => undefined);
  return d;
}

/** One tab's line to the leader of the moment. Each leader is an epoch; a request of an old epoch is LEADER_LOST. */
export class LeaderLine {
  readonly #tab: string;
  #transport: Transport | undefined;
  #ready = deferred();
  #epoch = 0;
  #nextId = 1;
  readonly #inflight = new Map<number, { resolve: (w: Wire<unknown>) => void; reject: (e: unknown) => void }>();
  #stopped: ScionError | undefined;

  constructor(tab: string) {
    this.#tab = tab;
  }

  /** The leader this tab talks to now. */
  get leader(): string | undefined {
    return this.#transport?.leader;
  }

  /** Whether this tab is the leader (its calls reach its own worker). */
  get local(): boolean {
    return this.#transport?.local === true;
  }

  get epoch(): number {
    return this.#epoch;
  }

  get stopped(): ScionError | undefined {
    return this.#stopped;
  }

  /** Switches to a new leader: returns the epoch whose state must be re-created, or undefined if nothing changed. */
  connect(transport: Transport): number | undefined {
    if (this.#stopped || this.#transport?.leader === transport.leader) return undefined;
    this.#lose();
    this.#transport = transport;
    return this.#epoch;
  }

  /** The leader is gone: calls under way wait for the next one. */
  leaderLost(): void {
    if (this.#transport === undefined) return;
    this.#lose();
    this.#transport = undefined;
  }

  /** This tab's state is re-created on the leader of `epoch`: let calls through. False if that leader is gone already. */
  open(epoch: number): boolean {
    if (epoch !== this.#epoch) return false;
    this.#ready.resolve();
    return true;
  }

  /** Every later call fails with `error`. */
  stop(error: ScionError): boolean {
    if (this.#stopped) return false;
    this.#stopped = error;
    this.#lose();
    this.#ready.reject(error);
    return true;
  }

  /** An answer from the leader. */
  reply(id: number, wire: Wire<unknown>): void {
    const p = this.#inflight.get(id);
    if (!p) return;
    this.#inflight.delete(id);
    p.resolve(wire);
  }

  /** Resolves with the epoch once a leader is connected and this tab's state is re-created on it. */
  async whenReady(): Promise<number> {
    for (;;) {
      if (this.#stopped) throw this.#stopped;
      const ready = this.#ready;
      await ready.promise;
      if (ready === this.#ready && !this.#stopped) return this.#epoch;
    }
  }

  rpc(body: Body, epoch: number): Promise<Wire<unknown>> {
    const transport = this.#transport;
    if (!transport || epoch !== this.#epoch) return Promise.reject(LEADER_LOST);
    const id = this.#nextId++;
    return new Promise<Wire<unknown>>((resolve, reject) => {
      this.#inflight.set(id, { resolve, reject });
      try {
        const direct = body.t === 'call' ? transport.direct?.(body.method, body.args) : undefined;
        if (direct) void direct.then((wire) => this.reply(id, wire));
        else transport.send({ ...body, from: this.#tab, to: transport.leader, id } as ToHost);
      } catch (e) {
        // Not cloneable: answered here, as the worker would answer a bad argument.
        this.#inflight.delete(id);
        resolve(failed(new ScionError('InvalidInput', `This call cannot be sent to the leader tab: ${(e as Error).message}`)));
      }
    });
  }

  #lose(): void {
    this.#epoch++;
    if (this.#ready.settled && !this.#stopped) this.#ready = deferred();
    const lost = [...this.#inflight.values()];
    this.#inflight.clear();
    for (const p of lost) p.reject(this.#stopped ?? LEADER_LOST);
  }
}
