import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { Graft, ScionError, Tag, VolumeId } from '../core/index.ts';
import type { Catalog, CatalogContents } from './catalog.ts';

interface CatalogSchema extends DBSchema {
  tags: { key: string; value: { tag: string; vid: string } };
  grafts: { key: string; value: Graft };
}

const VERSION = 1;

/** The catalog in IndexedDB (through idb): one database per runtime, two object stores. */
export class IdbCatalog implements Catalog {
  readonly #db: IDBPDatabase<CatalogSchema>;
  /**
   * The contents, read as soon as the database opened, so that the read runs beside whatever opens
   * next (the store's OPFS handles); the first `load` takes it unless a write came first.
   */
  #preloaded: Promise<CatalogContents> | undefined;

  private constructor(db: IDBPDatabase<CatalogSchema>) {
    this.#db = db;
    this.#preloaded = this.#read();
    this.#preloaded.catch(() => {}); // a failure surfaces at load
  }

  /** Opens (creating on first use) the catalog database `name`. */
  static async open(name = 'scion'): Promise<IdbCatalog> {
    if (typeof indexedDB === 'undefined') {
      throw new ScionError('InvalidInput', 'IndexedDB is not available here. Use MemoryCatalog, or in Node import "fake-indexeddb/auto" first.');
    }
    const db = await openDB<CatalogSchema>(name, VERSION, {
      upgrade(db) {
        db.createObjectStore('tags', { keyPath: 'tag' });
        db.createObjectStore('grafts', { keyPath: 'local' });
      },
      blocking() {
        // A newer version wants to upgrade: step aside rather than block it forever.
        db.close();
      },
    });
    return new IdbCatalog(db);
  }

  load(): Promise<CatalogContents> {
    const preloaded = this.#preloaded;
    this.#preloaded = undefined;
    return preloaded ?? this.#read();
  }

  async #read(): Promise<CatalogContents> {
    const tx = this.#db.transaction(['tags', 'grafts'], 'readonly');
    const [tagRows, graftRows] = await Promise.all([tx.objectStore('tags').getAll(), tx.objectStore('grafts').getAll(), tx.done]);
    try {
      return {
        tags: new Map(tagRows.map((r) => [Tag.parse(r.tag), VolumeId.parse(r.vid)])),
        grafts: graftRows.map((g) => Graft.parse(g)),
      };
    } catch (e) {
      throw new ScionError('Corrupt', `The catalog in IndexedDB "${this.#db.name}" holds a record Scion cannot read: ${(e as Error).message}`, undefined, { cause: e });
    }
  }

  async putTag(tag: Tag, vid: VolumeId): Promise<void> {
    this.#preloaded = undefined;
    await this.#db.put('tags', { tag, vid });
  }

  async deleteTag(tag: Tag): Promise<void> {
    this.#preloaded = undefined;
    await this.#db.delete('tags', tag);
  }

  async putGraft(graft: Graft): Promise<void> {
    this.#preloaded = undefined;
    // Stored without undefined fields so the record stays plain, JSON-safe data.
    await this.#db.put('grafts', JSON.parse(JSON.stringify(graft)) as Graft);
  }

  async deleteGraft(vid: VolumeId): Promise<void> {
    this.#preloaded = undefined;
    const tx = this.#db.transaction(['tags', 'grafts'], 'readwrite');
    const tags = tx.objectStore('tags');
    const pointing = (await tags.getAll()).filter((r) => r.vid === vid);
    await Promise.all([...pointing.map((r) => tags.delete(r.tag)), tx.objectStore('grafts').delete(vid), tx.done]);
  }

  close(): void {
    this.#db.close();
  }
}
