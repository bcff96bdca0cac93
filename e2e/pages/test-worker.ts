// Dedicated module worker for e2e scenarios (OPFS sync access handles exist only here).
// Scenarios live in e2e/scenarios/*.ts; to add one, import it and list it in `scenarios`.
import * as Comlink from 'comlink';
import { benchLocalStore, benchOpfsRaw } from '../scenarios/local-store-bench.ts';
import { opfsProbe } from '../scenarios/opfs-probe.ts';
import {
  legacyCommit, storeCommit, storeDeleteTag, storeFileAppend, storeFileFlipByte, storeFileSize, storeFileSizes, storeFileTruncate, storeHold,
  storeReadPage, storeRelease, storeVerify,
} from '../scenarios/opfs-store.ts';
import { catalogCheck, localStoreCheck } from '../scenarios/store-contracts.ts';
import { wipeIndexedDb } from '../scenarios/wipe-indexed-db.ts';
import { wipeOpfs } from '../scenarios/wipe-opfs.ts';

// Arguments and results cross structured clone and then page.evaluate: keep them plain JSON-like data.
const scenarios = {
  opfsProbe,
  wipeOpfs,
  wipeIndexedDb,
  storeCommit,
  storeVerify,
  storeReadPage,
  storeHold,
  storeRelease,
  storeDeleteTag,
  legacyCommit,
  storeFileSizes,
  storeFileSize,
  storeFileTruncate,
  storeFileAppend,
  storeFileFlipByte,
  benchLocalStore,
  benchOpfsRaw,
  localStoreCheck,
  catalogCheck,
} satisfies Record<string, (...args: never[]) => unknown>;

export type Scenarios = typeof scenarios;
export type ScenarioName = keyof Scenarios & string;
export type ScenarioArgs<N extends ScenarioName> = Parameters<Scenarios[N]>;
export type ScenarioResult<N extends ScenarioName> = Awaited<ReturnType<Scenarios[N]>>;

/** An error as data: structured clone and page.evaluate would drop `code` and `details`. */
export interface ScenarioFailure {
  name: string;
  message: string;
  code?: string;
  details?: unknown;
  stack?: string;
}
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ScenarioFailure };

function toFailure(e: unknown): ScenarioFailure {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const { code, details } = e as { code?: unknown; details?: unknown };
  return {
    name: e.name,
    message: e.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(details !== undefined ? { details } : {}),
    ...(e.stack !== undefined ? { stack: e.stack } : {}),
  };
}

const api = {
  names: (): string[] => Object.keys(scenarios),
  async run(name: string, args: unknown[]): Promise<Outcome<unknown>> {
    const scenario = (scenarios as Record<string, ((...a: unknown[]) => unknown) | undefined>)[name];
    if (!scenario) {
      const known = Object.keys(scenarios).join(', ');
      return { ok: false, error: { name: 'Error', message: `Unknown scenario "${name}" (known: ${known})` } };
    }
    try {
      return { ok: true, value: await scenario(...args) };
    } catch (e) {
      return { ok: false, error: toFailure(e) };
    }
  },
};
export type TestWorkerApi = typeof api;

Comlink.expose(api);
