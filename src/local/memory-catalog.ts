import { Graft, type Tag, type VolumeId } from '../core/index.ts';
import type { Catalog, CatalogContents } from './catalog.ts';

/** An ephemeral catalog for tests and throwaway runtimes; copies on the way in and out like a real one. */
export class MemoryCatalog implements Catalog {
  readonly #tags = new Map<Tag, VolumeId>();
  readonly #grafts = new Map<VolumeId, Graft>();

  async load(): Promise<CatalogContents> {
    return { tags: new Map(this.#tags), grafts: [...this.#grafts.values()].map((g) => Graft.parse(structuredClone(g))) };
  }

  async putTag(tag: Tag, vid: VolumeId): Promise<void> {
    this.#tags.set(tag, vid);
  }

  async deleteTag(tag: Tag): Promise<void> {
    this.#tags.delete(tag);
  }

  async putGraft(graft: Graft): Promise<void> {
    this.#grafts.set(graft.local, structuredClone(graft));
  }

  async deleteGraft(vid: VolumeId): Promise<void> {
    this.#grafts.delete(vid);
    for (const [tag, target] of this.#tags) if (target === vid) this.#tags.delete(tag);
  }

  close(): void {}
}
