import { existsSync, lstatSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { dirname, isAbsolute, join, resolve, sep } from 'node:path'
import type { Store } from '../entry/store.js'
import { StoreError, UnsafeCacheFileError } from '../errors.js'
import type { OnError } from '../observe/report.js'
import type { StoreOptions } from '../options/types.js'
import { FilesStore, openDirectory } from './files.js'
import { lazyStore } from './lazy.js'
import { MemoryStore } from './memory.js'
import { RedisStore } from './redis.js'
import { openSharedSqlite } from './shared-sqlite.js'
import { SqliteStore } from './sqlite.js'
import { create as createSqliteFile } from './sqlite-file.js'
import { DEFAULT_BUSY_TIMEOUT } from './sqlite-tuning.js'
import { UnavailableStore, unavailableReason } from './unavailable.js'

/** Whether the store was made here (and is closed with the cache) or handed in by the user. */
export interface OpenedStore {
  store: Store
  owned: boolean
  /** Why the configured store could not be opened (already reported): the cache runs on an UnavailableStore. */
  unavailable?: Error
}

/**
 * Opens the store `backend` names, reporting recovered problems (a corrupt file, a Redis server that
 * cannot be reached, a file or directory that cannot be opened) to `onError` (one from
 * observe/report.ts: it never throws). `writes`: whether the settings the cache starts with can
 * write; when they cannot, a SQLite file or files directory that does not exist is not created until
 * a write comes (stores/lazy.ts).
 */
export function openStore(options: StoreOptions, onError: OnError, writes = true): OpenedStore {
  const { backend } = options
  if (backend === 'memory') {
    return {
      store: new MemoryStore({
        ...(options.maxEntries !== undefined ? { maxEntries: options.maxEntries } : {}),
        ...(options.maxSize !== undefined ? { maxSize: options.maxSize } : {}),
      }),
      owned: true,
    }
  }
  if (backend === 'redis') {
    // Connects in the background; until it has, lookups miss and writes are dropped (see RedisStore).
    const redis = typeof options.redis === 'string' ? { url: options.redis } : options.redis
    return { store: new RedisStore({ ...redis, onError }), owned: true }
  }
  if (backend === 'sqlite') {
    const path = sqlitePath(options)
    const maxSize = options.maxSize !== undefined ? { maxSize: options.maxSize } : {}
    const open = () => openSharedSqlite({ path, onError, ...maxSize })
    if (path === ':memory:') return openOrGoWithout(open, onError)
    const create = (secret: string) => {
      createSqliteFile(path, DEFAULT_BUSY_TIMEOUT, secret)
      return open()
    }
    return openOnDisk(path, options, { writes, onError, open, create, like: SqliteStore.prototype })
  }
  if (backend === 'files') {
    const path = filesPath(options)
    const open = () => new FilesStore({ path })
    const create = (secret: string) => {
      openDirectory(path, secret)
      return open()
    }
    return openOnDisk(path, options, { writes, onError, open, create, like: FilesStore.prototype })
  }
  return { store: backend, owned: false }
}

/**
 * A store at `path` on the file system. With settings that cannot write (`writes` false) and nothing
 * at `path` yet, nothing is created: the store is created, with `create`, by the first write
 * (stores/lazy.ts). Otherwise it is opened now, with `open`.
 */
function openOnDisk(
  path: string,
  options: StoreOptions,
  how: { writes: boolean; onError: OnError; open(): Store; create(secret: string): Store; like: object },
): OpenedStore {
  const refuse = () => {
    if (path !== options.cacheName && (options.useTemp || options.useCacheDir)) refuseOthers(path)
  }
  refuse()
  if (how.writes || existsSync(path)) return openOrGoWithout(how.open, how.onError)
  // Checked again at creation: another user may have put a file there meanwhile.
  const create = (secret: string) => {
    refuse()
    return how.create(secret)
  }
  return { store: lazyStore({ create, like: how.like }), owned: true }
}

/**
 * Opens a store on the file system. One that cannot be opened at all (read-only directory, no
 * permission) is reported, and the cache runs without a store: a broken cache never breaks a
 * request, not even the first one. A file or directory that is not a cache's is refused (thrown).
 */
function openOrGoWithout(open: () => Store, onError: OnError): OpenedStore {
  try {
    return { store: open(), owned: true }
  } catch (error) {
    // Option errors were ruled out by validation; anything else is the environment's doing.
    if (!(error instanceof StoreError)) throw error
    const reason = unavailableReason(error)
    onError(reason)
    return { store: new UnavailableStore(reason), owned: true, unavailable: reason }
  }
}

/**
 * The directory of a files cache: `cacheName` in the working directory, the user cache directory
 * (`useCacheDir`) or the OS temp directory (`useTemp`); an absolute `cacheName` is used as it is.
 */
function filesPath(options: Pick<StoreOptions, 'cacheName' | 'useCacheDir' | 'useTemp'>): string {
  const { cacheName } = options
  if (isAbsolute(cacheName)) return cacheName
  if (options.useCacheDir) return join(userCacheDir(), cacheName)
  if (options.useTemp) return join(tmpdir(), cacheName)
  return resolve(cacheName)
}

/**
 * Where the SQLite file goes: `<cacheName>.sqlite` in the working directory, the user cache directory
 * (`useCacheDir`) or the OS temp directory (`useTemp`). A `cacheName` that is a path is used as one.
 */
export function sqlitePath(options: Pick<StoreOptions, 'cacheName' | 'useCacheDir' | 'useTemp'>): string {
  if (options.cacheName === ':memory:') return options.cacheName
  const cacheName = expandHome(options.cacheName)
  const file = cacheName.endsWith('.sqlite') || cacheName.endsWith('.db') ? cacheName : `${cacheName}.sqlite`
  if (isAbsolute(file)) return file
  if (options.useCacheDir) return join(userCacheDir(), file)
  if (options.useTemp) return join(tmpdir(), file)
  return resolve(file)
}

/**
 * In a place other users can write to (the temp directory; a cache directory someone else made), a
 * cache file, its `-wal` / `-shm`, or the directory holding it, that another user owns is refused.
 * The shared temp directory itself (root's, sticky) is not the file's owner and is not checked.
 */
function refuseOthers(path: string): void {
  const uid = process.getuid?.()
  if (uid === undefined) return
  const shared = resolve(tmpdir())
  const dir = dirname(path)
  for (const candidate of [dir === shared ? undefined : dir, path, `${path}-wal`, `${path}-shm`]) {
    if (candidate === undefined) continue
    let owner: number
    try {
      owner = lstatSync(candidate).uid
    } catch {
      continue // not there yet: it is created by this user
    }
    if (owner !== uid) throw new UnsafeCacheFileError(candidate, owner)
  }
}

function userCacheDir(): string {
  const base =
    process.env.XDG_CACHE_HOME ||
    (process.platform === 'darwin' ? join(homedir(), 'Library', 'Caches') : join(homedir(), '.cache'))
  return join(expandHome(base), 'fetch-http-cache')
}

/**
 * `~` and `~/…` name the home directory, as a shell (and requests-cache) would read them; a file
 * or directory literally named `~` is never created in the working directory. `~user` is not expanded.
 */
export function expandHome(path: string): string {
  if (path === '~') return homedir()
  if (path.startsWith('~/') || (sep === '\\' && path.startsWith('~\\'))) return join(homedir(), path.slice(2))
  return path
}
