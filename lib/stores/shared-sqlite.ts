import { StoreError } from '../errors.js'
import { SqliteStore } from './sqlite.js'
import { fileId } from './sqlite-file.js'
import type { SqliteStoreOptions } from './sqlite-options.js'

/**
 * One process, one view of a file: caches opened on the same SQLite file in one process (say
 * `installCache()` and a `createCachedFetch()` on `./http_cache.sqlite`) share one `SqliteStore`, so
 * each reads the other's pending writes and deletes at once, as it reads its own (lib/README.md,
 * "Stores and entries"). The file is known by its identity (device and inode), so two spellings of
 * one path, or a link to it, are one file. The store is closed when the last cache on it closes.
 *
 * The first cache to open a file sets the store's options (`maxSize`, `onError` for problems the
 * store repairs by itself); later ones share them.
 */

interface Shared {
  store: SqliteStore
  users: number
}

const open = new Map<string, Shared>()

/** A handle on the process's store for the file at `options.path`, opened (or created) if it is not open yet. */
export function openSharedSqlite(options: SqliteStoreOptions): SqliteStore {
  if (options.path === ':memory:') return new SqliteStore(options) // nothing to share: a database of its own
  const known = identity(options.path)
  let shared = known === undefined ? undefined : open.get(known)
  if (!shared) {
    shared = { store: new SqliteStore(options), users: 0 }
    // The file exists now (the store created it if needed).
    open.set(identity(options.path) ?? options.path, shared)
  }
  shared.users++
  return handle(shared, known ?? identity(options.path) ?? options.path)
}

function identity(path: string): string | undefined {
  const file = fileId(path)
  return file && `${file.dev}:${file.ino}`
}

/**
 * The shared store, seen through a handle whose `close()` only lets go of it (the last one closes
 * it); once closed, the handle refuses further calls as a closed store does.
 */
function handle(shared: Shared, id: string): SqliteStore {
  let closed = false
  const close = (): void | Promise<void> => {
    if (closed) return
    closed = true
    if (--shared.users > 0) return shared.store.flush()
    if (open.get(id) === shared) open.delete(id)
    return shared.store.close()
  }
  // Methods are bound once per handle: a hit reads through here, and must not allocate for it.
  const bound = new Map<PropertyKey, unknown>()
  return new Proxy(shared.store, {
    get(target, property) {
      if (property === 'close') return close
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      if (closed) {
        return () => {
          throw new StoreError(`fetch-http-cache: SQLite store failed (${String(property)}): the store is closed for this cache`)
        }
      }
      let method = bound.get(property)
      if (method === undefined) {
        method = value.bind(target)
        bound.set(property, method)
      }
      return method
    },
  })
}
