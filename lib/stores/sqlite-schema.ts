import { randomBytes } from 'node:crypto'
import type Database from 'better-sqlite3'
import { decodeEntry, decodeMeta } from '../entry/codec.js'
import type { MetaRecord, StoreRecord } from '../entry/store.js'
import { ForeignFileError, StoreError } from '../errors.js'
import { type EvictEvent, publishEvicted } from '../observe/events.js'
import { APPLICATION_ID, ownership } from './sqlite-mark.js'

/**
 * Bump when the schema changes: a file of a version whose rows this one cannot read is reset (its rows
 * are only a cache); one from `ROWS_SINCE` on is brought up to date in place.
 */
export const SCHEMA_VERSION = 5
/** The oldest schema whose rows this one reads as they are: 5 only added the index on `url`. */
const ROWS_SINCE = 4
/** Pruning goes this far below `maxSize`, so the next writes do not prune again at once. */
const PRUNE_TARGET = 0.9

// Bodies live in a table of their own, so that reading or rewriting metadata never touches them: a
// 304's refresh and a recorded use update one small row (SQLite rewrites a whole row on UPDATE), and
// listing, counting and deleting read no body pages. `entries_body_delete` removes a row's body with it.
// `total_size` is kept by triggers, so it is exact for every connection and process on the file.
// `set` uses an upsert, not INSERT OR REPLACE: REPLACE's implicit delete fires no delete trigger
// unless `recursive_triggers` is on for that connection.
// Per row, only what is read by a statement: the key as 32 bytes (`keyColumn`: it is held twice, in
// the row and in its index); the metadata without what the columns hold (`RowColumns` in
// entry/codec.ts). 4: this layout. 5: an index on `url`, so an unsafe request's invalidation finds
// every response stored for its URL (every credential partition, RFC 9111 §4.4) without a scan.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  id INTEGER PRIMARY KEY,
  key BLOB NOT NULL UNIQUE,
  url TEXT NOT NULL,
  meta TEXT NOT NULL,
  body_size INTEGER NOT NULL,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  accessed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS bodies (id INTEGER PRIMARY KEY, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS entries_expires_at ON entries (expires_at);
CREATE INDEX IF NOT EXISTS entries_accessed_at ON entries (accessed_at);
CREATE INDEX IF NOT EXISTS entries_url ON entries (url);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value);
INSERT OR IGNORE INTO meta (name, value) SELECT 'total_size', COALESCE(SUM(size), 0) FROM entries;
CREATE TRIGGER IF NOT EXISTS entries_size_insert AFTER INSERT ON entries BEGIN
  UPDATE meta SET value = value + NEW.size WHERE name = 'total_size';
END;
CREATE TRIGGER IF NOT EXISTS entries_size_update AFTER UPDATE OF size ON entries BEGIN
  UPDATE meta SET value = value - OLD.size + NEW.size WHERE name = 'total_size';
END;
CREATE TRIGGER IF NOT EXISTS entries_size_delete AFTER DELETE ON entries BEGIN
  UPDATE meta SET value = value - OLD.size WHERE name = 'total_size';
  DELETE FROM bodies WHERE id = OLD.id;
END;
`

/** A key as the key column holds it: see {@link keyColumn}. */
export type KeyColumn = string | Buffer

const HEX_KEY = /^[0-9a-f]{64}$/

/**
 * A key as stored: the cache's keys (SHA-256, hex) as their 32 bytes, half the room in the row and
 * in its index; any other key as text. Each form sorts and compares consistently with itself.
 */
export function keyColumn(key: string): KeyColumn {
  return HEX_KEY.test(key) ? Buffer.from(key, 'hex') : key
}

/** The key a key column holds. */
export function keyOf(column: KeyColumn): string {
  return typeof column === 'string' ? column : column.toString('hex')
}

/** What a hit reads, as a raw row: metadata JSON, last recorded use, body, request URL, creation time. */
/** `body` is `null` only in a damaged file (a body row gone): read as no row. */
export type EntryRow = [meta: string, accessedAt: number, body: Buffer | null, url: string, createdAt: number]

/** A row as `records()` reads it. */
export interface KeyedRow {
  key: KeyColumn
  url: string
  meta: string
  body: Buffer
  created_at: number
}

/** A row's metadata, without its body. */
export interface MetaRow {
  key: KeyColumn
  url: string
  meta: string
  body_size: number
  created_at: number
}

export interface VictimRow {
  key: KeyColumn
  size: number
  url: string
}

type Statement<P extends unknown[], R = unknown> = Database.Statement<P, R>

/** The store's statements, prepared once per connection. */
export interface Statements {
  get: Statement<[KeyColumn], EntryRow>
  getMeta: Statement<[KeyColumn], MetaRow>
  keysForUrl: Statement<[string], KeyColumn>
  dataVersion: Statement<[], number>
  touch: Statement<[number, KeyColumn]>
  refresh: Statement<[string, number, number, number | null, number, KeyColumn, number]>
  /** Two statements: run only inside the batch's transaction (`applySegments`). */
  upsert: (
    key: KeyColumn,
    url: string,
    meta: string,
    body: Uint8Array,
    size: number,
    createdAt: number,
    expires: number | null,
    accessedAt: number,
  ) => void
  deleteOne: Statement<[KeyColumn]>
  totalSize: Statement<[], number>
  prune: Database.Transaction<(keep: KeyColumn, maxSize: number) => void>
  clear: Database.Transaction<() => void>
  firstPage: Statement<[number], KeyedRow>
  nextPage: Statement<[KeyColumn, number], KeyedRow>
  firstMetaPage: Statement<[number], MetaRow>
  nextMetaPage: Statement<[KeyColumn, number], MetaRow>
}

/** Make sure the schema is ours at SCHEMA_VERSION, and return the file's secret (`secret` for a new file). */
export function migrate(db: Database.Database, path: string, secret: string | undefined): string {
  const readSecret = () => db.prepare<[], string>("SELECT value FROM meta WHERE name = 'secret'").pluck().get()
  const found = ownership(db)
  if (found.kind === 'ours' && found.marked && found.version === SCHEMA_VERSION) {
    const secret = readSecret()
    if (typeof secret === 'string') return secret
  }
  // IMMEDIATE takes the write lock first, so processes opening a new file at once migrate it once.
  return db
    .transaction(() => {
      // Again under the lock: what another process did since the first look counts.
      const owner = ownership(db)
      if (owner.kind === 'foreign') throw new ForeignFileError(path, owner.reason)
      const version = owner.kind === 'ours' ? owner.version : 0
      // Files written before the mark existed get it now; new files get it with their schema.
      db.pragma(`application_id = ${APPLICATION_ID}`)
      if (version !== 0 && (version < ROWS_SINCE || version > SCHEMA_VERSION)) {
        // Another version's rows cannot be read reliably, and they are only a cache: start over.
        db.exec('DROP TABLE IF EXISTS entries; DROP TABLE IF EXISTS bodies; DROP TABLE IF EXISTS meta;')
      }
      db.exec(SCHEMA)
      db.pragma(`user_version = ${SCHEMA_VERSION}`)
      // OR IGNORE, then read back: every handle and process ends up with the first secret written.
      db.prepare("INSERT OR IGNORE INTO meta (name, value) VALUES ('secret', ?)").run(secret ?? randomBytes(32).toString('hex'))
      const stored = readSecret()
      if (typeof stored !== 'string') throw new StoreError('fetch-http-cache: the SQLite store lost its secret while creating it')
      return stored
    })
    .immediate()
}

export function prepare(db: Database.Database, now: () => number): Statements {
  const deleteOne = db.prepare<[KeyColumn]>('DELETE FROM entries WHERE key = ?')
  const totalSize = db.prepare<[], number>("SELECT value FROM meta WHERE name = 'total_size'").pluck()
  const expiredVictims = db.prepare<[number, KeyColumn], VictimRow>(
    'SELECT key, size, url FROM entries WHERE expires_at <= ? AND key <> ? ORDER BY expires_at',
  )
  const lruVictims = db.prepare<[KeyColumn], VictimRow>('SELECT key, size, url FROM entries WHERE key <> ? ORDER BY accessed_at')

  /** Delete rows in `victims` order until `total` is at most `target`; returns the new total. */
  const evict = (victims: Iterable<VictimRow>, total: number, target: number, reason: EvictEvent['reason']): number => {
    const keys: KeyColumn[] = []
    const urls: string[] = []
    for (const { key, size, url } of victims) {
      if (total <= target) break
      keys.push(key)
      urls.push(url)
      total -= size
    }
    // Deleting after the loop: better-sqlite3 forbids writes while a statement is iterating.
    for (const key of keys) deleteOne.run(key)
    if (keys.length) publishEvicted({ keys: keys.map(keyOf), urls, reason, store: 'sqlite' })
    return total
  }

  const upsertEntry = db
    .prepare<[KeyColumn, string, string, number, number, number, number | null, number], number>(
      `INSERT INTO entries (key, url, meta, body_size, size, created_at, expires_at, accessed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET url = excluded.url, meta = excluded.meta, body_size = excluded.body_size,
       size = excluded.size, created_at = excluded.created_at, expires_at = excluded.expires_at,
       accessed_at = excluded.accessed_at
     RETURNING id`,
    )
    .pluck()
  const upsertBody = db.prepare<[number, Uint8Array]>('INSERT OR REPLACE INTO bodies (id, body) VALUES (?, ?)')
  const clearEntries = db.prepare<[]>('DELETE FROM entries')
  const clearBodies = db.prepare<[]>('DELETE FROM bodies')

  return {
    // One statement, rows as arrays (no object per hit); the body is read from its own table by rowid,
    // in a scalar subquery: as a JOIN, SQLite (3.38 on) may build a Bloom filter for the loop on every
    // run, which doubled the cost of a lookup (a missing key: 25 µs against 9; a row: 45 against 26).
    get: db
      .prepare<[KeyColumn], EntryRow>(
        'SELECT e.meta, e.accessed_at, (SELECT body FROM bodies WHERE id = e.id), e.url, e.created_at FROM entries e WHERE e.key = ?',
      )
      .raw(),
    getMeta: db.prepare<[KeyColumn], MetaRow>('SELECT key, url, meta, body_size, created_at FROM entries WHERE key = ?'),
    keysForUrl: db.prepare<[string], KeyColumn>('SELECT key FROM entries WHERE url = ?').pluck(),
    // Changes when another connection commits to the file: cheaper than a row read and parse.
    dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
    touch: db.prepare<[number, KeyColumn]>('UPDATE entries SET accessed_at = ? WHERE key = ?'),
    // Metadata only, and only on the response revalidated (its created_at): the body row is untouched.
    refresh: db.prepare<[string, number, number, number | null, number, KeyColumn, number]>(
      `UPDATE entries SET meta = ?, size = body_size + ?, created_at = ?, expires_at = ?, accessed_at = ?
       WHERE key = ? AND created_at = ?`,
    ),
    // Not a transaction of its own: inside the batch's, better-sqlite3 would wrap each row in a SAVEPOINT
    // and its RELEASE, two more statements per write.
    upsert: (key, url, meta, body, size, createdAt, expires, accessedAt) => {
      const id = upsertEntry.get(key, url, meta, body.byteLength, size, createdAt, expires, accessedAt)
      if (id !== undefined) upsertBody.run(id, body)
    },
    deleteOne,
    totalSize,
    // The entry just written (`keep`) is spared: the caller wants it, and it fits on its own.
    prune: db.transaction((keep: KeyColumn, maxSize: number) => {
      let total = totalSize.get() ?? 0
      if (total <= maxSize) return // another connection pruned first
      const target = Math.floor(maxSize * PRUNE_TARGET)
      total = evict(expiredVictims.iterate(now(), keep), total, target, 'expired')
      if (total > target) evict(lruVictims.iterate(keep), total, target, 'least recently used')
    }),
    // Bodies first, in bulk: the delete trigger then finds none to remove one by one.
    clear: db.transaction(() => {
      clearBodies.run()
      clearEntries.run()
    }),
    firstPage: db.prepare<[number], KeyedRow>(
      'SELECT e.key, e.url, e.meta, b.body, e.created_at FROM entries e JOIN bodies b ON b.id = e.id ORDER BY e.key LIMIT ?',
    ),
    nextPage: db.prepare<[KeyColumn, number], KeyedRow>(
      'SELECT e.key, e.url, e.meta, b.body, e.created_at FROM entries e JOIN bodies b ON b.id = e.id WHERE e.key > ? ORDER BY e.key LIMIT ?',
    ),
    firstMetaPage: db.prepare<[number], MetaRow>(
      'SELECT key, url, meta, body_size, created_at FROM entries ORDER BY key LIMIT ?',
    ),
    nextMetaPage: db.prepare<[KeyColumn, number], MetaRow>(
      'SELECT key, url, meta, body_size, created_at FROM entries WHERE key > ? ORDER BY key LIMIT ?',
    ),
  }
}

/** A row as the store contract gives it. */
export function keyedRecord(row: KeyedRow): StoreRecord {
  const key = keyOf(row.key)
  return { key, entry: decodeEntry(row.meta, row.body, { key, url: row.url, createdAt: row.created_at }) }
}

/** A metadata row as the store contract gives it. */
export function metaRecord(row: MetaRow): MetaRecord {
  const key = keyOf(row.key)
  return { key, meta: decodeMeta(row.meta, { key, url: row.url, createdAt: row.created_at }), bodySize: row.body_size }
}
