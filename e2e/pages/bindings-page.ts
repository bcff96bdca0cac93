// Main thread of e2e/pages/bindings.html (e2e/bindings.e2e.ts): the published Drizzle, Kysely and React
// libraries on Scion's bindings, each running real queries through a DB worker.
import { eq, sql } from 'drizzle-orm';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { Kysely } from 'kysely';
import { createElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { Scion, type Database } from '../../src/client/index.ts';
import { drizzle } from '../../src/drizzle/index.ts';
import { ScionDialect } from '../../src/kysely/index.ts';
import { DatabaseProvider, useLiveQuery } from '../../src/react/index.ts';
import { outcome } from './outcome.ts';

declare global {
  interface Window {
    scionBindings: typeof api;
  }
}

const authors = sqliteTable('author', { id: integer('id').primaryKey(), name: text('name').notNull() });
const books = sqliteTable('book', { id: integer('id').primaryKey(), authorId: integer('author_id').notNull(), name: text('name').notNull() });

interface KyselyDb {
  author: { id: number; name: string };
  book: { id: number; author_id: number; name: string };
}

let scion: Scion | undefined;
const opened = new Map<string, Database>();
let root: Root | undefined;
let renders = 0;

async function open(name: string): Promise<Database> {
  scion ??= await Scion.open({ storage: 'memory' });
  let db = opened.get(name);
  if (!db) {
    db = await scion.open(name);
    await db.exec(`CREATE TABLE IF NOT EXISTS author(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS book(id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES author(id), name TEXT NOT NULL);`);
    opened.set(name, db);
  }
  return db;
}

function Notes() {
  const { rows, error } = useLiveQuery<{ id: number; body: string }>('SELECT id, body FROM note ORDER BY id');
  renders++;
  if (error) return createElement('p', { id: 'error' }, String(error));
  if (!rows) return createElement('p', { id: 'loading' }, 'loading');
  return createElement('ul', { id: 'notes' }, rows.map((r) => createElement('li', { key: r.id }, r.body)));
}

const api = {
  drizzle: () =>
    outcome(async () => {
      const db = await open('drizzle');
      const orm = drizzle(db);
      await orm.insert(authors).values([{ id: 1, name: 'Ursula' }, { id: 2, name: 'Italo' }]);
      await orm.insert(books).values([{ id: 10, authorId: 1, name: 'The Dispossessed' }, { id: 20, authorId: 2, name: 'Invisible Cities' }]);
      // Both tables have `id` and `name`: Drizzle maps array rows by position, so nothing collides.
      const joined = await orm.select().from(books).innerJoin(authors, eq(books.authorId, authors.id)).orderBy(books.id);
      const picked = await orm.select({ bookId: books.id, authorId: authors.id, book: books.name, author: authors.name }).from(books)
        .innerJoin(authors, eq(books.authorId, authors.id)).where(eq(authors.name, 'Italo'));
      const first = await orm.select().from(authors).where(eq(authors.id, 2)).get();
      const none = await orm.select().from(authors).where(eq(authors.id, 99)).get();
      const [count] = await orm.select({ n: sql<number>`count(*)` }).from(books);
      const updated = await orm.update(authors).set({ name: 'Ursula K.' }).where(eq(authors.id, 1)).returning({ id: authors.id, name: authors.name });
      const batch = await orm.batch([
        orm.insert(authors).values({ id: 3, name: 'Octavia' }),
        orm.select({ n: sql<number>`count(*)` }).from(authors),
      ]);
      // A batch is one transaction: a failing statement leaves nothing of the others.
      const failed = await orm.batch([orm.insert(authors).values({ id: 4, name: 'Le' }), orm.insert(authors).values({ id: 1, name: 'dup' })]).then(() => 'resolved', (e: Error) => e.message);
      const authorsAfter = await orm.select({ id: authors.id }).from(authors).orderBy(authors.id);
      return { joined, picked, first, none: none ?? null, count, updated, batchCount: batch[1], failed, authorsAfter: authorsAfter.map((a) => a.id) };
    }),

  kysely: () =>
    outcome(async () => {
      const db = await open('kysely');
      const k = new Kysely<KyselyDb>({ dialect: new ScionDialect({ database: db }) });
      const inserted = await k.insertInto('author').values([{ id: 1, name: 'Ursula' }, { id: 2, name: 'Italo' }]).executeTakeFirst();
      await k.insertInto('book').values([{ id: 10, author_id: 1, name: 'The Dispossessed' }, { id: 20, author_id: 2, name: 'Invisible Cities' }]).execute();
      const joined = await k.selectFrom('book').innerJoin('author', 'author.id', 'book.author_id')
        .select(['book.id as bookId', 'author.id as authorId', 'book.name as book', 'author.name as author']).orderBy('book.id').execute();
      const updated = await k.updateTable('author').set({ name: 'Italo C.' }).where('id', '=', 2).executeTakeFirst();
      const inTx = await k.transaction().execute(async (tx) => {
        await tx.insertInto('author').values({ id: 3, name: 'Octavia' }).execute();
        return tx.selectFrom('author').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      });
      const rolledBack = await k.transaction().execute(async (tx) => {
        await tx.insertInto('author').values({ id: 4, name: 'Le' }).execute();
        throw new Error('undo');
      }).then(() => 'committed', (e: Error) => e.message);
      const ids: number[] = [];
      for await (const row of k.selectFrom('author').select('id').orderBy('id').stream(2)) ids.push(row.id);
      const tables = (await k.introspection.getTables()).map((t) => ({ name: t.name, columns: t.columns.map((c) => c.name) }));
      return {
        inserted: { numInsertedOrUpdatedRows: String(inserted.numInsertedOrUpdatedRows), insertId: String(inserted.insertId) },
        joined, updated: String(updated.numUpdatedRows), inTx, rolledBack, ids, tables,
      };
    }),

  /** Renders the live note list into #root (React on useLiveQuery). */
  renderNotes: () =>
    outcome(async () => {
      const db = await open('react');
      await db.exec('CREATE TABLE IF NOT EXISTS note(id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
      root ??= createRoot(document.getElementById('root') as HTMLElement);
      root.render(createElement(DatabaseProvider, { database: db }, createElement(Notes)));
    }),

  /** Writes a note on another connection of the same database (the hook must hear of it). */
  addNote: (body: string) =>
    outcome(async () => {
      const other = await (scion as Scion).open('react');
      await other.exec('INSERT INTO note(body) VALUES (?)', [body]);
      await other.close();
    }),

  renders: () => renders,

  /** Writes to a table the list does not read. */
  touchOther: () => outcome(async () => (await open('react')).exec('INSERT INTO author(name) VALUES (?)', ['x'])),
};

window.scionBindings = api;
