// wa-sqlite 1.0.0 ships these example VFSes without type declarations; only what bench/targets/wa-sqlite-target.ts uses.
declare module 'wa-sqlite/src/examples/AccessHandlePoolVFS.js' {
  export class AccessHandlePoolVFS {
    constructor(directoryPath: string);
    readonly name: string;
    readonly isReady: Promise<void>;
    close(): Promise<void>;
  }
}
declare module 'wa-sqlite/src/examples/IDBBatchAtomicVFS.js' {
  export class IDBBatchAtomicVFS {
    constructor(idbDatabaseName?: string);
    readonly name: string;
    close(): Promise<void>;
  }
}
