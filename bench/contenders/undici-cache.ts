import { join } from 'node:path'
import { Agent, cacheStores, type Dispatcher, interceptors, request } from 'undici'
import { type ClientOptions, type Contender, drain } from './contender.js'

/** undici's own cache interceptor with its memory store, bounded by `capacity` entries. */
function cachingAgent(options: ClientOptions): Dispatcher {
  const store = new cacheStores.MemoryCacheStore({
    maxCount: options.capacity,
    maxSize: 2 * 1024 * 1024 * 1024,
    maxEntrySize: 8 * 1024 * 1024,
  })
  return new Agent().compose(interceptors.cache({ store }))
}

/** undici's cache interceptor with its SQLite store (`node:sqlite`), on a file in the job's directory. */
function sqliteCachingAgent(options: ClientOptions): Dispatcher {
  const store = new cacheStores.SqliteCacheStore({
    location: options.sqlitePath ?? join(options.dir, 'undici-cache.sqlite'),
    maxCount: options.capacity,
    maxEntrySize: 8 * 1024 * 1024,
  })
  return new Agent().compose(interceptors.cache({ store }))
}

/** Built-in fetch with undici's cache interceptor as its dispatcher. */
export const undiciCacheFetch: Contender = {
  name: 'undici-cache',
  description: "built-in fetch, dispatcher: undici's `interceptors.cache` + `MemoryCacheStore`",
  role: 'reference',
  caches: true,
  revalidates: true,
  keeps: 'heap',
  sqlite: false,
  async open(options) {
    const dispatcher = cachingAgent(options)
    // Node's fetch takes a dispatcher from the undici package; the types of the two copies differ.
    const init = { dispatcher } as unknown as RequestInit
    return {
      get: async (url) => drain(await fetch(url, init)),
      close: () => dispatcher.close(),
    }
  },
}

/** `undici.request()` through undici's cache interceptor: the dispatcher-level comparison. */
export const undiciCacheRequest: Contender = {
  name: 'undici-cache-request',
  description: "`undici.request()`, dispatcher: undici's `interceptors.cache` + `MemoryCacheStore`",
  role: 'reference',
  caches: true,
  revalidates: true,
  keeps: 'heap',
  sqlite: false,
  async open(options) {
    const dispatcher = cachingAgent(options)
    return {
      async get(url) {
        const { body } = await request(url, { dispatcher })
        return (await body.arrayBuffer()).byteLength
      },
      close: () => dispatcher.close(),
    }
  },
}

/** Built-in fetch with undici's cache interceptor and its SQLite store as its dispatcher. */
export const undiciCacheSqlite: Contender = {
  name: 'undici-cache-sqlite',
  description: "built-in fetch, dispatcher: undici's `interceptors.cache` + `SqliteCacheStore` (`node:sqlite`, a file)",
  role: 'reference',
  caches: true,
  revalidates: true,
  keeps: 'disk',
  sqlite: false,
  async open(options) {
    const dispatcher = sqliteCachingAgent(options)
    const init = { dispatcher } as unknown as RequestInit
    return {
      get: async (url) => drain(await fetch(url, init)),
      close: () => dispatcher.close(),
    }
  },
}
