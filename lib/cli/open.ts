import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs'
import Database from 'better-sqlite3'
import { Engine } from '../engine/engine.js'
import { ForeignDirectoryError } from '../errors.js'
import { LiveSettings } from '../options/live.js'
import { FilesStore, MARKER } from '../stores/files.js'
import { SqliteStore } from '../stores/sqlite.js'
import { ownership } from '../stores/sqlite-mark.js'
import { SCHEMA_VERSION } from '../stores/sqlite-schema.js'
import { CacheFileError } from './errors.js'

const SQLITE_HEADER = 'SQLite format 3\u0000'

/**
 * Opens an existing fetch-http-cache file for inspection. Refuses, without touching it, a path that is
 * missing (the store would create an empty cache there), is not a SQLite database (the store would
 * move it aside as corrupt), or is a database of another schema (the store would reset it).
 */
export function openCacheFile(path: string, onError: (error: Error) => void, create = false): Engine {
  if (!(create && !existsSync(path))) checkCacheFile(path)
  const store = new SqliteStore({ path, onError })
  return new Engine(store, new LiveSettings({ onError }))
}

/**
 * Opens an existing files cache directory (`backend: 'files'`). Refuses, without touching it, a path
 * that is missing or not a directory, and a directory without the cache's marker (the store would
 * make an empty one a cache). With `create` (import), a missing or empty directory becomes a cache.
 */
export function openCacheDirectory(path: string, onError: (error: Error) => void, create = false): Engine {
  let names: string[] | undefined
  try {
    if (!statSync(path).isDirectory()) throw new CacheFileError('NOT_A_DIRECTORY', `${path} is not a directory`)
    names = readdirSync(path)
  } catch (error) {
    if (error instanceof CacheFileError) throw error
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new CacheFileError('CANNOT_OPEN', `cannot read ${path}: ${(error as Error).message}`)
    if (!create) throw new CacheFileError('NO_CACHE_DIRECTORY', `no cache directory at ${path} (give its path with --dir)`)
  }
  if (names !== undefined && !names.includes(MARKER) && !(create && names.length === 0)) {
    throw new CacheFileError('NOT_A_CACHE_DIRECTORY', `${path} is not a fetch-http-cache directory (it has no ${MARKER})`)
  }
  try {
    return new Engine(new FilesStore({ path }), new LiveSettings({ onError }))
  } catch (error) {
    if (error instanceof ForeignDirectoryError) throw new CacheFileError('NOT_A_CACHE_DIRECTORY', error.message)
    throw error
  }
}

function checkCacheFile(path: string): void {
  let size: number
  try {
    const stats = statSync(path)
    if (!stats.isFile()) throw new CacheFileError('NOT_A_FILE', `${path} is not a file`)
    size = stats.size
  } catch (error) {
    if (error instanceof CacheFileError) throw error
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CacheFileError('NO_CACHE_FILE', `no cache file at ${path} (give its path with --db)`)
    throw new CacheFileError('CANNOT_OPEN', `cannot read ${path}: ${(error as Error).message}`)
  }
  if (size < SQLITE_HEADER.length || readHeader(path) !== SQLITE_HEADER) {
    throw new CacheFileError('NOT_SQLITE', `${path} is not a SQLite database`)
  }
  let db: Database.Database | undefined
  try {
    db = new Database(path, { readonly: true, fileMustExist: true })
    db.pragma('busy_timeout = 5000')
    // The rule the store itself follows (stores/sqlite-mark.ts), plus: only this schema version.
    const owner = ownership(db)
    if (owner.kind === 'foreign')
      throw new CacheFileError('NOT_A_CACHE_FILE', `${path} is not a fetch-http-cache file (${owner.reason})`)
    if (owner.kind === 'empty' || owner.version !== SCHEMA_VERSION) {
      const version = owner.kind === 'empty' ? 0 : owner.version
      throw new CacheFileError(
        'NOT_A_CACHE_FILE',
        `${path} is not a fetch-http-cache file of schema version ${SCHEMA_VERSION} (user_version is ${version})`,
      )
    }
  } catch (error) {
    if (error instanceof CacheFileError) throw error
    throw new CacheFileError('CANNOT_OPEN', `cannot open ${path}: ${(error as Error).message}`)
  } finally {
    db?.close()
  }
}

function readHeader(path: string): string {
  const fd = openSync(path, 'r')
  try {
    const buffer = Buffer.alloc(SQLITE_HEADER.length)
    readSync(fd, buffer, 0, buffer.length, 0)
    return buffer.toString('latin1')
  } finally {
    closeSync(fd)
  }
}
