// The parts of @20minutes/s3rver 4.0.4 (CommonJS, no bundled types) that embedded.ts uses.
declare module '@20minutes/s3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface S3rverOptions {
    directory?: string;
    silent?: boolean;
    vhostBuckets?: boolean;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  export default class S3rver {
    constructor(options?: S3rverOptions);
    /** Creates the configured buckets and applies their CORS/website XML (run() does this before listen). */
    configureBuckets(): Promise<void>;
    /** Koa's request handler, for http.createServer. */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    readonly store: {
      getBucket(bucket: string): Promise<unknown>;
      existsObject(bucket: string, key: string): Promise<boolean>;
      /** Unordered across directory levels when keys contain characters below '/'; the front sorts. */
      listObjects(
        bucket: string,
        options: { prefix?: string },
      ): Promise<{ objects: { key: string; size: number; lastModifiedDate: Date; metadata: { etag: string } }[] }>;
      /** Throws ENOENT when the object is missing; etag is quoted. */
      getMetadata(bucket: string, key: string): Promise<{ etag: string } & Record<string, unknown>>;
    };
    readonly logger: { close(): void; exceptions: { unhandle(): void } };
  }
}

declare module '@20minutes/s3rver/lib/models/account.js' {
  interface AWSAccount {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
    revokeAccessKey(accessKeyId: string): void;
  }
  const account: { DUMMY_ACCOUNT: AWSAccount };
  export default account;
}
