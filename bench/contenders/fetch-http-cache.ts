import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { request } from 'undici'
import type { CacheOptions } from '../../lib/index.js'
import { pkg } from '../package.js'
import { benchRedisUrl, type ClientOptions, type Contender, drain } from './contender.js'

const { capabilities, createCachedFetch, getCache, installCache, uninstallCache } = pkg

function memoryOptions(options: ClientOptions): CacheOptions {
  return { backend: 'memory', maxEntries: options.capacity, maxSize: 4 * 1024 * 1024 * 1024, expireAfter: options.expireAfter }
}

function sqliteOptions(options: ClientOptions): CacheOptions {
  return {
    backend: 'sqlite',
    cacheName: options.sqlitePath ?? join(options.dir, 'bench.sqlite'),
    expireAfter: options.expireAfter,
  }
}

/** A Redis cache on the run's server, under a prefix of its own, with the default timeouts. */
function redisOptions(options: ClientOptions): CacheOptions {
  return { backend: 'redis', redis: { url: benchRedisUrl(), prefix: `bench-${randomUUID()}:` }, expireAfter: options.expireAfter }
}

/** Lets `uninstallCache()`'s store close (it does not wait for it) before the job goes on. */
async function uninstall(): Promise<void> {
  uninstallCache()
  await new Promise((resolve) => setImmediate(resolve))
}

/** fetch-http-cache through `installCache()` and the patched global fetch, memory store. */
export const installMemory: Contender = {
  name: 'fc-install-memory',
  description: 'fetch-http-cache: `installCache({ backend: "memory" })`, global `fetch`',
  role: 'subject',
  caches: true,
  revalidates: true,
  keeps: 'heap',
  sqlite: false,
  async open(options) {
    installCache(memoryOptions(options))
    return { get: async (url) => drain(await fetch(url)), close: uninstall }
  },
}

/** fetch-http-cache through `installCache()` and the patched global fetch, SQLite store. */
export const installSqlite: Contender = {
  name: 'fc-install-sqlite',
  description: 'fetch-http-cache: `installCache({ backend: "sqlite" })`, global `fetch`',
  role: 'subject',
  caches: true,
  revalidates: true,
  keeps: 'disk',
  sqlite: true,
  async open(options) {
    installCache(sqliteOptions(options))
    return { get: async (url) => drain(await fetch(url)), close: uninstall }
  },
}

/** fetch-http-cache through `installCache()` and the patched global fetch, Redis store on a loopback server. */
export const installRedis: Contender = {
  name: 'fc-install-redis',
  description: 'fetch-http-cache: `installCache({ backend: "redis" })`, global `fetch`, redis-server on loopback',
  role: 'subject',
  caches: true,
  revalidates: true,
  keeps: 'server',
  sqlite: false,
  redis: true,
  async open(options) {
    installCache(redisOptions(options))
    // Connected and holding the shared secret before the first request.
    const cache = getCache()
    if (cache) await capabilities(cache.store).ready?.ready()
    return { get: async (url) => drain(await fetch(url)), close: uninstall }
  },
}

/** fetch-http-cache through `createCachedFetch()` (no globals touched), memory store. */
export const sessionMemory: Contender = {
  name: 'fc-session-memory',
  description: 'fetch-http-cache: `createCachedFetch({ backend: "memory" })`',
  role: 'subject',
  caches: true,
  revalidates: true,
  keeps: 'heap',
  sqlite: false,
  async open(options) {
    const cachedFetch = createCachedFetch(memoryOptions(options))
    return {
      get: async (url) => drain(await cachedFetch(url)),
      close: () => cachedFetch.cache.close(),
    }
  },
}

/** fetch-http-cache's dispatcher front: `undici.request()` through the global dispatcher `installCache()` set. */
export const installUndiciRequest: Contender = {
  name: 'fc-undici-request',
  description: 'fetch-http-cache: `installCache({ backend: "memory" })`, `undici.request()` (global dispatcher)',
  role: 'subject',
  caches: true,
  revalidates: true,
  keeps: 'heap',
  sqlite: false,
  async open(options) {
    installCache(memoryOptions(options))
    return {
      async get(url) {
        const { body } = await request(url)
        return (await body.arrayBuffer()).byteLength
      },
      close: uninstall,
    }
  },
}
