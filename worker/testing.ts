// Test support for the worker's tests: unwrapping Wire envelopes.
import { expect } from 'vitest';
import { ScionError, type ErrorCode } from '../src/core/index.ts';
import type { Wire } from '../src/protocol/index.ts';

/** The value of a successful envelope; a failed one throws its ScionError. */
export const value = <T>(w: Wire<T>): T => {
  if (!w.ok) throw ScionError.fromWire(w.error);
  return w.value;
};

/** Asserts that the call failed with `code`; returns the message. */
export async function failure<T>(w: Promise<Wire<T>>, code: ErrorCode): Promise<string> {
  const r = await w;
  expect(r.ok, `expected ${code}, got ${JSON.stringify(r)}`).toBe(false);
  if (r.ok) throw new Error('unreachable');
  expect(r.error.code, r.error.message).toBe(code);
  return r.error.message;
}
