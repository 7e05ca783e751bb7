import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import type Database from 'better-sqlite3'
import { CorruptStoreError, ForeignFileError, StoreError } from '../errors.js'
import { ownership } from './sqlite-mark.js'
import { migrate, prepare, type Statements } from './sqlite-schema.js'

const FILE_MODE = 0o600

const require = createRequire(import.meta.url)

/**
 * better-sqlite3, loaded when a SQLite store opens its first file (Node caches it from then on): a
 * process on the memory or Redis backend never loads the native module (about 17 ms of an import).
 */
function sqlite(): typeof Database {
  return require('better-sqlite3') as typeof Database
}

export interface Opened {
  db: Database.Database
  sql: Statements
  secret: string
  file: FileId | undefined
  /** The file cannot be written (its mode, its owner): SQLite opened it read-only. */
  readOnly: boolean
}

/** Which file a path names: a deleted-and-recreated file has another inode. */
export interface FileId {
  dev: number
  ino: number
}

export function fileId(path: string): FileId | undefined {
  try {
    const stats = statSync(path, { throwIfNoEntry: false })
    return stats === undefined ? undefined : { dev: stats.dev, ino: stats.ino }
  } catch {
    return undefined
  }
}

export function sameFile(a: FileId, b: FileId | undefined): boolean {
  return b !== undefined && a.dev === b.dev && a.ino === b.ino
}

/**
 * Open (creating if needed) and migrate the database, and prepare the statements. A new file gets
 * `secret` when given (a file re-created under a running store keeps its keys), else a random one.
 * Throws a `CorruptStoreError` after moving an unreadable file aside.
 */
export function open(path: string, busyTimeout: number, now: () => number, secret?: string): Opened {
  const onDisk = path !== ':memory:'
  const created = onDisk && createPrivateFile(path)
  // Taken before SQLite opens it, so a file swapped in meanwhile is noticed by the first write.
  const file = onDisk ? fileId(path) : undefined
  const db = new (sqlite())(path)
  try {
    db.pragma(`busy_timeout = ${busyTimeout}`)
    // The first statements that read the file (a garbage file fails here with SQLITE_NOTADB), and
    // only reads: a database that is not ours is refused before anything changes it.
    const owner = ownership(db)
    if (owner.kind === 'foreign') throw new ForeignFileError(path, owner.reason)
    if (onDisk && !created) restrictMode(path)
    // Larger pages hold 1 KiB bodies with less slack (three to a 4 KiB page, fifteen to a 16 KiB one).
    // Only a new, empty file takes it; an existing one keeps its page size.
    db.pragma('page_size = 16384')
    whenNotBusy(() => db.pragma('journal_mode = WAL'), busyTimeout)
    db.pragma('synchronous = NORMAL')
    const stored = migrate(db, path, secret)
    // From here on, nothing waits synchronously for another connection: WAL readers never need the
    // write lock, and the store's writes retry asynchronously when they meet it (SqliteStore).
    db.pragma('busy_timeout = 0')
    const sql = prepare(db, now)
    if (onDisk) {
      // SQLite gives the -wal and -shm files the database's mode; tighten them anyway, in case
      // they were left by an older file with a looser mode.
      restrictMode(`${path}-wal`)
      restrictMode(`${path}-shm`)
    }
    return { db, sql, secret: stored, file, readOnly: onDisk && !writable(path) }
  } catch (error) {
    if (!onDisk || !isCorruption(error)) {
      db.close()
      throw error
    }
    throw new CorruptStoreError(path, moveAside(path, db), { cause: error })
  }
}

/**
 * Creates the cache file at `path` holding `secret` (one there already keeps its own) and closes it;
 * returns the file's secret. A store opened on it next finds that secret (stores/lazy.ts). Failures
 * are `StoreError`s, as the store's own open gives them; a file that is not ours is refused as it is.
 */
export function create(path: string, busyTimeout: number, secret: string): string {
  let opened: Opened
  try {
    opened = open(path, busyTimeout, Date.now, secret)
  } catch (error) {
    if (error instanceof ForeignFileError || error instanceof CorruptStoreError) throw error
    throw wrap(`creating ${path}`, error)
  }
  opened.db.close()
  return opened.secret
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK)
    return true
  } catch {
    return false
  }
}

/**
 * Create the parent directory and the file with mode 0600 before SQLite opens it; returns whether
 * this call created the file (one already there gets its mode only once it is known to be ours).
 */
function createPrivateFile(path: string): boolean {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  // The -wal and -shm there before the file is created: seen now, so that only those are removed below,
  // never the ones another process creates for the new file the moment it exists.
  const leftovers = (['-wal', '-shm'] as const).map((suffix) => [suffix, fileId(path + suffix)] as const)
  try {
    closeSync(openSync(path, 'wx', FILE_MODE))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return false
  }
  // This process created the file, so a -wal or -shm that was already beside it belongs to a database
  // that was deleted (maybe still open in another process). SQLite would read the new file through
  // that old log and index; unlink them first. Only the process whose exclusive create won does this.
  for (const [suffix, before] of leftovers) {
    if (before === undefined || !sameFile(before, fileId(path + suffix))) continue
    try {
      unlinkSync(path + suffix)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }
  return true
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
export function moveAside(path: string, db: Database.Database): string {
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

export function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'))
}

/** One 32-bit cell to wait on: a synchronous pause (`Atomics.wait` with nobody to wake it). */
const PAUSE = new Int32Array(new SharedArrayBuffer(4))

/**
 * `statement`, tried again while it fails with SQLITE_BUSY, for up to `busyTimeout` ms. SQLite answers
 * SQLITE_BUSY at once, without its busy handler, where waiting could deadlock: switching a new file to
 * WAL while another connection holds its write lock (another process creating the schema) is one such
 * place (about one open in a hundred, four processes opening one new file at once). Synchronous, like
 * the busy handler it stands in for.
 */
function whenNotBusy<T>(statement: () => T, busyTimeout: number): T {
  const deadline = Date.now() + busyTimeout
  for (let pause = 1; ; pause = Math.min(2 * pause, 50)) {
    try {
      return statement()
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error
      Atomics.wait(PAUSE, 0, 0, pause)
    }
  }
}

/** Another connection holds the lock (`SQLITE_BUSY`, and its extended codes): worth waiting for. */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}

/** `fn()`, with any failure wrapped in a `StoreError`. */
export function guard<T>(doing: string, fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    throw wrap(doing, error)
  }
}

export function wrap(doing: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new StoreError(`fetch-http-cache: SQLite store failed ${doing}: ${message}`, { cause: error })
}
