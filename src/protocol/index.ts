// The worker ↔ client protocol: what both sides of the worker boundary agree on (types, and the Wire envelope's helpers).
export type * from './types.ts';
export type * from './worker-api.ts';
export { failed, unwrap } from './wire.ts';
