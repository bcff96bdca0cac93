// What a page-side call returns to a Playwright test: page.evaluate cannot carry an Error's code.
import { isScionError } from '../../src/client/index.ts';

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: { name: string; code?: string; message: string; details?: unknown } };

/** Runs `fn`, turning a thrown error into data that keeps a ScionError's code and details. */
export async function outcome<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    const err = e as Error;
    return { ok: false, error: { name: err.name, message: err.message, ...(isScionError(e) ? { code: e.code, details: e.details } : {}) } };
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
