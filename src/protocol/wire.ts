import { ScionError } from '../core/index.ts';
import type { Wire } from './types.ts';

/** A failed answer: the error as data (comlink's own error path would drop `code` and `details`). */
export function failed(e: ScionError): Wire<never> {
  return { ok: false, error: e.toWire() };
}

/** The worker's answer as a value, or its error rethrown as a ScionError with its code and details. */
export function unwrap<T>(w: Wire<T>): T {
  if (w.ok) return w.value;
  throw ScionError.fromWire(w.error);
}
