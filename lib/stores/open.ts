import { homedir, tmpdir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import type { StoreOptions } from '../policy/settings.js'
import { MemoryStore } from './memory.js'
import { SqliteStore } from './sqlite.js'
import type { Store } from './store.js'

/** Whether the store was made here (and is closed with the cache) or handed in by the user. */
export interface OpenedStore {
  store: Store
  owned: boolean
}

/** Opens the store `backend` names, reporting recovered problems (a corrupt file) to `onError`. */
export function openStore(options: StoreOptions, onError: (error: Error) => void): OpenedStore {
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
  if (backend === 'sqlite') {
    return {
      store: new SqliteStore({
        path: sqlitePath(options),
        onError,
        ...(options.maxSize !== undefined ? { maxSize: options.maxSize } : {}),
      }),
      owned: true,
    }
  }
  return { store: backend, owned: false }
}

/**
 * Where the SQLite file goes: `<cacheName>.sqlite` in the working directory, the user cache directory
 * (`useCacheDir`) or the OS temp directory (`useTemp`). A `cacheName` that is a path is used as one.
 */
export function sqlitePath(options: Pick<StoreOptions, 'cacheName' | 'useCacheDir' | 'useTemp'>): string {
  const { cacheName } = options
  if (cacheName === ':memory:') return cacheName
  const file = cacheName.endsWith('.sqlite') || cacheName.endsWith('.db') ? cacheName : `${cacheName}.sqlite`
  if (isAbsolute(file)) return file
  if (options.useCacheDir) return join(userCacheDir(), file)
  if (options.useTemp) return join(tmpdir(), file)
  return resolve(file)
}

function userCacheDir(): string {
  const base =
    process.env.XDG_CACHE_HOME ||
    (process.platform === 'darwin' ? join(homedir(), 'Library', 'Caches') : join(homedir(), '.cache'))
  return join(base, 'fetch-cache')
}
