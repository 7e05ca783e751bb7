import { randomBytes } from 'node:crypto'
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, unlinkSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { CorruptStoreError, InvalidOptionTypeError, InvalidOptionValueError, StoreError } from '../errors.js'
import { decodeEntry, encodeMeta } from './codec.js'
import type { CacheEntry } from './entry.js'
import { RecentEntries } from './recent-entries.js'
import type { Store, StoreRecord } from './store.js'

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Full path of the database file (its directory is created if missing), or `':memory:'`. */
  path: string
  /**
   * Bound on the stored bytes (bodies plus serialized metadata). Past it, expired entries and then
   * least-recently-used ones are pruned down to 90% of the bound; an entry larger than it is not stored.
   * @default unbounded
   */
  maxSize?: number
  /**
   * How long, in ms, a statement waits for another connection's lock before failing with `SQLITE_BUSY`.
   * @default 5000
   */
  busyTimeout?: number
  /**
   * Called with problems the store recovered from by itself (a corrupt file moved aside).
   * @default `process.emitWarning`
   */
  onError?: (error: Error) => void
  /**
   * The clock, in ms since the epoch: access times, and what counts as expired when pruning.
   * @default Date.now
   */
  now?: () => number
}

/** Bump when the schema changes: a file with another version is reset (its rows are only a cache). */
export const SCHEMA_VERSION = 1
const DEFAULT_BUSY_TIMEOUT = 5000
/** A hit rewrites `accessed_at` at most this often, so the hit path rarely writes. */
const TOUCH_INTERVAL = 60_000
/** Bounds of the decoded entries kept for repeated hits (see RecentEntries). */
const RECENT_ENTRIES = 1024
const RECENT_BYTES = 32 * 1024 * 1024
/** Pruning goes this far below `maxSize`, so the next writes do not prune again at once. */
const PRUNE_TARGET = 0.9
const RECORDS_PAGE = 100
const FILE_MODE = 0o600

const KNOWN_OPTIONS: { [K in keyof SqliteStoreOptions]-?: true } = {
  path: true,
  maxSize: true,
  busyTimeout: true,
  onError: true,
  now: true,
}

// `total_size` is kept by triggers, so it is exact for every connection and process on the file.
// `set` uses an upsert, not INSERT OR REPLACE: REPLACE's implicit delete fires no delete trigger
// unless `recursive_triggers` is on for that connection.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  key TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  meta TEXT NOT NULL,
  body BLOB NOT NULL,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  accessed_at INTEGER NOT NULL
);
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
END;
`

interface EntryRow {
  meta: string
  body: Buffer
  accessed_at: number
}

interface KeyedRow {
  key: string
  meta: string
  body: Buffer
}

interface VictimRow {
  key: string
  size: number
}

type Statements = ReturnType<typeof prepare>

/**
 * A {@link Store} in one SQLite file, shared safely by every handle and process that opens it
 * (WAL, `busy_timeout`, atomic upserts, a trigger-kept size total). Bodies are BLOBs beside JSON
 * metadata; `get()` returns them as `Buffer`s.
 *
 * It repairs itself rather than fail for good (lib/README.md, "Stores and entries"):
 * - a file found corrupt (`SQLITE_CORRUPT`, `SQLITE_NOTADB`), at open or by any later statement, is
 *   moved aside to `<path>.corrupt-<time>` (kept, named in the `CorruptStoreError` reported to
 *   `onError`) and replaced by a fresh one; the failed call is retried once on it;
 * - a file deleted or replaced under the running process (SQLite would go on writing into the
 *   unlinked inode, and every write would be lost) is noticed by the next write, which reopens the
 *   file at `path` and reports a `StoreError`. Reads in between still see the old file's entries.
 */
export class SqliteStore implements Store {
  readonly #path: string
  readonly #busyTimeout: number
  readonly #maxSize: number | undefined
  readonly #now: () => number
  readonly #onError: (error: Error) => void
  #db: Database.Database
  #sql: Statements
  #secret: string
  /** The identity of the file the connection has open; `undefined` in memory. */
  #file: FileId | undefined
  #closed = false
  /** Decoded entries read lately, valid while `#dataVersion` holds (see RecentEntries). */
  readonly #recent = new RecentEntries(RECENT_ENTRIES, RECENT_BYTES)
  #dataVersion: number | undefined

  constructor(options: SqliteStoreOptions) {
    checkOptions(options)
    const { path, maxSize, busyTimeout = DEFAULT_BUSY_TIMEOUT, onError, now = Date.now } = options
    this.#path = path
    this.#busyTimeout = busyTimeout
    this.#maxSize = maxSize
    this.#now = now
    this.#onError = onError ?? ((error) => process.emitWarning(error))
    const opened = this.#openOrRecreate(undefined)
    this.#db = opened.db
    this.#sql = opened.sql
    this.#secret = opened.secret
    this.#file = opened.file
  }

  /**
   * A random secret stored in the file, used to hash credentials into keys. A file re-created after
   * corruption or deletion takes over the previous secret, so keys stay stable.
   */
  get secret(): string {
    return this.#secret
  }

  /** The entry under `key`, or `undefined` (a row that cannot be read is deleted). */
  get(key: string): CacheEntry | undefined {
    let row: EntryRow | undefined
    try {
      const version = this.#sql.dataVersion.get()
      if (version !== this.#dataVersion) {
        this.#recent.clear()
        this.#dataVersion = version
      }
      const recent = this.#recent.get(key)
      if (recent) {
        recent.accessedAt = this.#touch(key, recent.accessedAt)
        return recent.entry
      }
      row = this.#sql.get.get(key)
    } catch (error) {
      // A corrupt file is replaced by an empty one, where the key is a miss.
      this.#failed('reading an entry', error)
      return undefined
    }
    if (row === undefined) return undefined
    const entry = decodeEntry(row.meta, row.body)
    if (entry === undefined) {
      this.delete([key])
      return undefined
    }
    this.#recent.set(key, entry, this.#touch(key, row.accessed_at))
    return entry
  }

  /** Records a use for LRU pruning, at most once a minute per entry; returns the access time kept. */
  #touch(key: string, accessedAt: number): number {
    const now = this.#now()
    if (now - accessedAt < TOUCH_INTERVAL) return accessedAt
    // LRU order is a hint: a hit must not fail because the touch could not take the write lock.
    try {
      this.#sql.touch.run(now, key)
      return now
    } catch {
      return accessedAt
    }
  }

  /** Store `entry` under `key`, replacing any entry there; then prune if past `maxSize`. */
  set(key: string, entry: CacheEntry): void {
    const { body } = entry
    const meta = encodeMeta(entry)
    const size = body.byteLength + Buffer.byteLength(meta)
    const maxSize = this.#maxSize
    this.#recent.delete(key)
    this.#write('writing an entry', () => {
      if (maxSize !== undefined && size > maxSize) {
        // Too big to keep: drop what was there too, so the key no longer serves the older response.
        this.#sql.deleteOne.run(key)
        return
      }
      this.#sql.upsert.run(key, entry.url, meta, body, size, entry.createdAt, entry.expires, this.#now())
      if (maxSize !== undefined && (this.#sql.totalSize.get() ?? 0) > maxSize) {
        this.#recent.clear() // pruning deletes other rows, through this connection
        this.#sql.prune.immediate(key, maxSize)
      }
    })
  }

  /** Delete the entries under `keys`, in one transaction. Unknown keys are ignored. */
  delete(keys: readonly string[]): void {
    if (keys.length === 0) return
    for (const key of keys) this.#recent.delete(key)
    this.#write('deleting entries', () => this.#sql.deleteMany.immediate(keys))
  }

  /** Delete every entry. */
  clear(): void {
    this.#recent.clear()
    this.#write('clearing', () => this.#sql.clear.run())
  }

  /**
   * Every row, by key, read in pages: no statement stays open between pages, so the caller may
   * write to the store (delete invalid rows, say) while iterating.
   */
  *records(): Generator<StoreRecord, void, undefined> {
    let after: string | undefined
    for (;;) {
      let rows: KeyedRow[]
      const page = after
      rows = this.#read('listing entries', () =>
        page === undefined ? this.#sql.firstPage.all(RECORDS_PAGE) : this.#sql.nextPage.all(page, RECORDS_PAGE),
      )
      for (const row of rows) yield { key: row.key, entry: decodeEntry(row.meta, row.body) }
      const last = rows.at(-1)
      if (last === undefined || rows.length < RECORDS_PAGE) return
      after = last.key
    }
  }

  /** Stored bytes (bodies plus serialized metadata) across every process using the file; O(1). */
  size(): number {
    return this.#read('reading the size', () => this.#sql.totalSize.get() ?? 0)
  }

  /** The number of stored rows, readable or not. */
  count(): number {
    return this.#read('counting entries', () => this.#sql.count.get() ?? 0)
  }

  /** The distinct (normalized request) URLs stored, sorted. */
  urls(): string[] {
    return this.#read('listing URLs', () => this.#sql.urls.all())
  }

  /** Delete the entries that expire at or before `now` (ms); returns how many were deleted. */
  deleteExpired(now: number): number {
    this.#recent.clear()
    return this.#write('deleting expired entries', () => this.#sql.deleteExpired.run(now).changes)
  }

  /** Delete the entries created (or last revalidated) before `createdBefore` (ms); returns how many. */
  deleteOlderThan(createdBefore: number): number {
    this.#recent.clear()
    return this.#write('deleting old entries', () => this.#sql.deleteOlderThan.run(createdBefore).changes)
  }

  /** Close the connection. Idempotent; any later call throws a `StoreError`. */
  close(): void {
    this.#closed = true
    if (this.#db.open) this.#db.close()
  }

  /** Runs a read; on corruption, replaces the file and runs it once more. */
  #read<T>(doing: string, fn: () => T): T {
    try {
      return fn()
    } catch (error) {
      this.#failed(doing, error)
    }
    return guard(doing, fn)
  }

  /**
   * Runs a write, first making sure the file at `path` is still the one open (else the write would
   * land in a deleted file); on corruption, replaces the file and runs it once more.
   */
  #write<T>(doing: string, fn: () => T): T {
    this.#checkFile()
    return this.#read(doing, fn)
  }

  /** Returns when `error` was corruption and the file has been replaced (worth a retry); throws otherwise. */
  #failed(doing: string, error: unknown): void {
    if (this.#closed || !isCorruption(error)) throw wrap(doing, error)
    let movedTo: string | undefined
    // Move the file aside only if it is still the one we have open: another process that found the
    // corruption first may have put a fresh file there already.
    const current = fileId(this.#path)
    if (current !== undefined && sameFile(current, this.#file)) movedTo = moveAside(this.#path, this.#db)
    else this.#db.close()
    this.#reopen()
    this.#report(
      movedTo === undefined
        ? new StoreError(`fetch-cache: cache file ${this.#path} was corrupt and already replaced; reopened it`, { cause: error })
        : new CorruptStoreError(this.#path, movedTo, { cause: error }),
    )
  }

  /** Reopens at `path` when the file there is not the one open (deleted, or replaced by another process). */
  #checkFile(): void {
    if (this.#closed || this.#file === undefined) return
    const current = fileId(this.#path)
    if (current !== undefined && sameFile(current, this.#file)) return
    // Closing the last connection to a deleted file removes its -wal and -shm by name, so close
    // before creating the new file, not after.
    this.#db.close()
    this.#reopen()
    this.#report(
      new StoreError(
        `fetch-cache: cache file ${this.#path} was ${current === undefined ? 'deleted' : 'replaced'} while in use; ` +
          'reopened it (entries written since then went to the old file)',
      ),
    )
  }

  #reopen(): void {
    this.#recent.clear()
    this.#dataVersion = undefined
    try {
      const opened = this.#openOrRecreate(this.#secret)
      this.#db = opened.db
      this.#sql = opened.sql
      this.#secret = opened.secret
      this.#file = opened.file
    } catch (error) {
      // Left closed: every later call fails with a StoreError, which the engine reports.
      throw wrap(`reopening ${this.#path}`, error)
    }
  }

  /** Opens the file; a corrupt one is moved aside, reported, and replaced once. */
  #openOrRecreate(secret: string | undefined): Opened {
    const path = this.#path
    try {
      return open(path, this.#busyTimeout, this.#now, secret)
    } catch (error) {
      if (!(error instanceof CorruptStoreError)) throw wrap(`opening ${path}`, error)
      this.#report(error)
    }
    try {
      return open(path, this.#busyTimeout, this.#now, secret)
    } catch (again) {
      throw wrap(`re-creating ${path}`, again)
    }
  }

  #report(error: Error): void {
    try {
      this.#onError(error)
    } catch {
      // A throwing onError must not turn a repaired store into a broken one.
    }
  }
}

function checkOptions(options: SqliteStoreOptions): void {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionTypeError('options', options, 'an object')
  for (const name of Object.keys(options)) {
    if (!Object.hasOwn(KNOWN_OPTIONS, name)) {
      throw new InvalidOptionValueError(
        name,
        (options as unknown as Record<string, unknown>)[name],
        'is not an option of SqliteStore',
      )
    }
  }
  const { path, maxSize, busyTimeout, onError, now } = options
  if (typeof path !== 'string') throw new InvalidOptionTypeError('path', path, 'a string')
  if (path === '') throw new InvalidOptionValueError('path', path, 'must not be empty')
  if (maxSize !== undefined) checkInteger('maxSize', maxSize, 1)
  if (busyTimeout !== undefined) checkInteger('busyTimeout', busyTimeout, 0)
  if (onError !== undefined && typeof onError !== 'function') throw new InvalidOptionTypeError('onError', onError, 'a function')
  if (now !== undefined && typeof now !== 'function') throw new InvalidOptionTypeError('now', now, 'a function')
}

function checkInteger(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number') throw new InvalidOptionTypeError(name, value, 'a number')
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidOptionValueError(name, value, `must be an integer >= ${min}`)
  }
}

interface Opened {
  db: Database.Database
  sql: Statements
  secret: string
  file: FileId | undefined
}

/** Which file a path names: a deleted-and-recreated file has another inode. */
interface FileId {
  dev: number
  ino: number
}

function fileId(path: string): FileId | undefined {
  try {
    const stats = statSync(path, { throwIfNoEntry: false })
    return stats === undefined ? undefined : { dev: stats.dev, ino: stats.ino }
  } catch {
    return undefined
  }
}

function sameFile(a: FileId, b: FileId | undefined): boolean {
  return b !== undefined && a.dev === b.dev && a.ino === b.ino
}

/**
 * Open (creating if needed) and migrate the database, and prepare the statements. A new file gets
 * `secret` when given (a file re-created under a running store keeps its keys), else a random one.
 * Throws a `CorruptStoreError` after moving an unreadable file aside.
 */
function open(path: string, busyTimeout: number, now: () => number, secret?: string): Opened {
  const onDisk = path !== ':memory:'
  if (onDisk) createPrivateFile(path)
  // Taken before SQLite opens it, so a file swapped in meanwhile is noticed by the first write.
  const file = onDisk ? fileId(path) : undefined
  const db = new Database(path)
  try {
    db.pragma(`busy_timeout = ${busyTimeout}`)
    // The first statements that read the file: a garbage file fails here with SQLITE_NOTADB.
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    const stored = migrate(db, secret)
    const sql = prepare(db, now)
    if (onDisk) {
      // SQLite gives the -wal and -shm files the database's mode; tighten them anyway, in case
      // they were left by an older file with a looser mode.
      restrictMode(`${path}-wal`)
      restrictMode(`${path}-shm`)
    }
    return { db, sql, secret: stored, file }
  } catch (error) {
    if (!onDisk || !isCorruption(error)) {
      db.close()
      throw error
    }
    throw new CorruptStoreError(path, moveAside(path, db), { cause: error })
  }
}

/** Make sure the schema is ours at SCHEMA_VERSION, and return the file's secret (`secret` for a new file). */
function migrate(db: Database.Database, secret: string | undefined): string {
  const readSecret = () => db.prepare<[], string>("SELECT value FROM meta WHERE name = 'secret'").pluck().get()
  if (db.pragma('user_version', { simple: true }) === SCHEMA_VERSION) {
    const secret = readSecret()
    if (typeof secret === 'string') return secret
  }
  // IMMEDIATE takes the write lock first, so processes opening a new file at once migrate it once.
  return db
    .transaction(() => {
      const version = db.pragma('user_version', { simple: true })
      if (version !== 0 && version !== SCHEMA_VERSION) {
        // Another version's rows cannot be read reliably, and they are only a cache: start over.
        db.exec('DROP TABLE IF EXISTS entries; DROP TABLE IF EXISTS meta;')
      }
      db.exec(SCHEMA)
      db.pragma(`user_version = ${SCHEMA_VERSION}`)
      // OR IGNORE, then read back: every handle and process ends up with the first secret written.
      db.prepare("INSERT OR IGNORE INTO meta (name, value) VALUES ('secret', ?)").run(secret ?? randomBytes(32).toString('hex'))
      const stored = readSecret()
      if (typeof stored !== 'string') throw new StoreError('fetch-cache: the SQLite store lost its secret while creating it')
      return stored
    })
    .immediate()
}

function prepare(db: Database.Database, now: () => number) {
  const deleteOne = db.prepare<[string]>('DELETE FROM entries WHERE key = ?')
  const totalSize = db.prepare<[], number>("SELECT value FROM meta WHERE name = 'total_size'").pluck()
  const expiredVictims = db.prepare<[number, string], VictimRow>(
    'SELECT key, size FROM entries WHERE expires_at <= ? AND key <> ? ORDER BY expires_at',
  )
  const lruVictims = db.prepare<[string], VictimRow>('SELECT key, size FROM entries WHERE key <> ? ORDER BY accessed_at')

  /** Delete rows in `victims` order until `total` is at most `target`; returns the new total. */
  const evict = (victims: Iterable<VictimRow>, total: number, target: number): number => {
    const keys: string[] = []
    for (const { key, size } of victims) {
      if (total <= target) break
      keys.push(key)
      total -= size
    }
    // Deleting after the loop: better-sqlite3 forbids writes while a statement is iterating.
    for (const key of keys) deleteOne.run(key)
    return total
  }

  return {
    get: db.prepare<[string], EntryRow>('SELECT meta, body, accessed_at FROM entries WHERE key = ?'),
    // Changes when another connection commits to the file: cheaper than a row read and parse.
    dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
    touch: db.prepare<[number, string]>('UPDATE entries SET accessed_at = ? WHERE key = ?'),
    upsert: db.prepare<[string, string, string, Uint8Array, number, number, number | null, number]>(
      `INSERT INTO entries (key, url, meta, body, size, created_at, expires_at, accessed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET url = excluded.url, meta = excluded.meta, body = excluded.body,
         size = excluded.size, created_at = excluded.created_at, expires_at = excluded.expires_at,
         accessed_at = excluded.accessed_at`,
    ),
    deleteOne,
    totalSize,
    deleteMany: db.transaction((keys: readonly string[]) => {
      for (const key of keys) deleteOne.run(key)
    }),
    // The entry just written (`keep`) is spared: the caller wants it, and it fits on its own.
    prune: db.transaction((keep: string, maxSize: number) => {
      let total = totalSize.get() ?? 0
      if (total <= maxSize) return // another connection pruned first
      const target = Math.floor(maxSize * PRUNE_TARGET)
      total = evict(expiredVictims.iterate(now(), keep), total, target)
      if (total > target) evict(lruVictims.iterate(keep), total, target)
    }),
    clear: db.prepare('DELETE FROM entries'),
    firstPage: db.prepare<[number], KeyedRow>('SELECT key, meta, body FROM entries ORDER BY key LIMIT ?'),
    nextPage: db.prepare<[string, number], KeyedRow>('SELECT key, meta, body FROM entries WHERE key > ? ORDER BY key LIMIT ?'),
    count: db.prepare<[], number>('SELECT COUNT(*) FROM entries').pluck(),
    urls: db.prepare<[], string>('SELECT DISTINCT url FROM entries ORDER BY url').pluck(),
    deleteExpired: db.prepare<[number]>('DELETE FROM entries WHERE expires_at <= ?'),
    deleteOlderThan: db.prepare<[number]>('DELETE FROM entries WHERE created_at < ?'),
  }
}

/** The entry a row holds, or `undefined` when the row cannot be read as one of this version. */
/** Create the parent directory and the file with mode 0600 before SQLite opens it. */
function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  try {
    closeSync(openSync(path, 'wx', FILE_MODE))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    restrictMode(path)
    return
  }
  // This process created the file, so a -wal or -shm already beside it belongs to a database that
  // was deleted (maybe still open in another process). SQLite would read the new file through that
  // old log and index; unlink them first. Only the process whose exclusive create won does this.
  for (const suffix of ['-wal', '-shm']) {
    try {
      unlinkSync(path + suffix)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }
}

/** Best effort: the file may be missing or owned by someone else, and that is not worth failing for. */
function restrictMode(path: string): void {
  try {
    chmodSync(path, FILE_MODE)
  } catch {}
}

/**
 * Rename the database and its -wal/-shm files to `<path>.corrupt-<timestamp>`, then close `db`;
 * returns the new path. Renaming comes first because closing deletes the -wal file, which may hold
 * the only copy of recent data. Where open files cannot be renamed (Windows), it closes first.
 */
function moveAside(path: string, db: Database.Database): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  let movedTo = `${path}.corrupt-${stamp}`
  for (let n = 1; existsSync(movedTo); n++) movedTo = `${path}.corrupt-${stamp}-${n}`
  try {
    try {
      renameSync(path, movedTo)
    } catch {
      db.close()
      renameSync(path, movedTo)
    }
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(path + suffix)) renameSync(path + suffix, movedTo + suffix)
    }
  } catch (error) {
    throw wrap(`moving the corrupt file ${path} aside`, error)
  } finally {
    if (db.open) db.close()
  }
  return movedTo
}

function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'))
}

/** `fn()`, with any failure wrapped in a `StoreError`. */
function guard<T>(doing: string, fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    throw wrap(doing, error)
  }
}

function wrap(doing: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new StoreError(`fetch-cache: SQLite store failed ${doing}: ${message}`, { cause: error })
}
