// The web-standard core. Runtime shims are separate entries so that importing this file pulls in
// no runtime-specific module: ./node.ts (node:http), ./deno.ts (Deno.serve), ./workers.ts.
export { createPresignHandler } from './handler.ts';
export type { PresignOptions } from './handler.ts';
export type { BucketConfig } from './bucket-signer.ts';
export { EXPIRES_DEFAULT_SECONDS, EXPIRES_MAX_SECONDS } from './bucket-signer.ts';
export type { Grant } from './grant.ts';
export { bearerTokens } from './tokens.ts';
export { bucketConfigFromEnv } from './env.ts';
export { parseGrantsFile } from './grants-file.ts';
export { scionBucketPolicy } from './bucket-policy.ts';
export { defaultJwtGrant, jwtGrants } from './jwt.ts';
export type { JwtGrantsOptions } from './jwt.ts';
