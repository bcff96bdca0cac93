import type { Graft, Tag, VolumeId } from '../core/index.ts';

/** Everything the catalog holds, read once when the runtime opens. */
export interface CatalogContents {
  readonly tags: ReadonlyMap<Tag, VolumeId>;
  readonly grafts: readonly Graft[];
}

/**
 * Durable, asynchronous storage of tags and grafts (sync points, pending commits). The runtime keeps
 * an in-memory mirror and writes through; every write is durable when its promise resolves.
 */
export interface Catalog {
  load(): Promise<CatalogContents>;
  putTag(tag: Tag, vid: VolumeId): Promise<void>;
  deleteTag(tag: Tag): Promise<void>;
  putGraft(graft: Graft): Promise<void>;
  /** Removes the graft and every tag that points at it, atomically. */
  deleteGraft(vid: VolumeId): Promise<void>;
  close(): void;
}
