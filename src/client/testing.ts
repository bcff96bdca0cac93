// Test support for the client's unit tests: a Scion over a real comlink channel to a WorkerApi in this
// process (Node's MessageChannel stands in for the Worker). Not exported from index.ts.
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import * as Comlink from 'comlink';
import { afterEach, expect } from 'vitest';
import { WorkerApi } from '../../worker/api.ts';
import { BrowserNetwork } from '../../worker/network.ts';
import { isScionError, type ScionError } from '../core/index.ts';
import type { Remote } from '../remote/index.ts';
import type { HeldRemote } from '../remote/testing.ts';
import { Scion } from './scion.ts';

const sqlite3 = await sqlite3InitModule();
const open: Scion[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

/** A Scion on memory storage with its own worker API (closed after each test); `onApi` may watch the API's calls. */
export async function connect(remote?: Remote, onApi?: (api: WorkerApi) => void): Promise<Scion> {
  const { port1, port2 } = new MessageChannel();
  const api = new WorkerApi({ loadSqlite: async () => sqlite3, makeRemote: () => remote, network: new BrowserNetwork({}) });
  onApi?.(api);
  Comlink.expose(api, port1);
  const scion = await Scion.open({ worker: port2, storage: 'memory' });
  open.push(scion);
  return scion;
}

/** Awaits `p`, asserting that it rejects with a ScionError; returns the error. */
export async function rejection(p: Promise<unknown>): Promise<ScionError> {
  try {
    await p;
  } catch (e) {
    expect(isScionError(e), String(e)).toBe(true);
    return e as ScionError;
  }
  throw new Error('expected a rejection');
}

/**
 * Starts `run(signal)`, aborts its signal once it makes a request of kind `op` (held meanwhile), and
 * returns the ScionError it rejects with; then lets the held request go.
 */
export async function abortAtRequest(held: HeldRemote, op: Parameters<HeldRemote['hold']>[0], run: (signal: AbortSignal) => Promise<unknown>, options: { after?: boolean } = {}): Promise<ScionError> {
  const hold = held.hold(op, options);
  const controller = new AbortController();
  const call = run(controller.signal);
  await hold.reached;
  controller.abort();
  try {
    return await rejection(call);
  } finally {
    hold.release();
  }
}
