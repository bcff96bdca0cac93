// Test support for the worker's tests: unwrapping Wire envelopes.
import { expect } from 'vitest';
import { ScionError, type ErrorCode } from '../src/core/index.ts';
import type { Wire } from '../src/protocol/index.ts';

/** The value of a successful envelope; a failed one throws its ScionError. */
export { unwrap as value } from '../src/protocol/index.ts';

/** Asserts that the call failed with `code`; returns its error. */
export async function failure<T>(w: Promise<Wire<T>>, code: ErrorCode): Promise<ScionError> {
  const r = await w;
  expect(r.ok, `expected ${code}, got ${JSON.stringify(r)}`).toBe(false);
  if (r.ok) throw new Error('unreachable');
  expect(r.error.code, r.error.message).toBe(code);
  return ScionError.fromWire(r.error);
}
