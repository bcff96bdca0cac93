// The worker ↔ client protocol: what both sides of the worker boundary agree on. Types only.
export type * from './types.ts';
export type * from './worker-api.ts';
