// Compiled (never run) by cache-options.test.ts: `cacheOptions` is typed wherever the cache reads it,
// once the package is imported. Every `@ts-expect-error` must meet an error, or tsc fails.
import { type Dispatcher, request, stream } from 'undici'
import { type Cache, cacheInterceptor, createCachedFetch, installCache, type RequestCacheOptions } from '../../lib/index.js'

const url = 'http://127.0.0.1:1/'

export async function globalFetch(): Promise<void> {
  installCache({ backend: 'memory' })
  await fetch(url, { cacheOptions: { expireAfter: '5m', staleIfError: true } })
  await fetch(url, { cache: 'no-cache', cacheOptions: { onlyIfCached: true, refresh: false } })
  const init: RequestInit = { cacheOptions: { forceRefresh: true } }
  await fetch(new URL(url), init)
  // @ts-expect-error: no such per-request option
  await fetch(url, { cacheOptions: { expiresAfter: '5m' } })
  // @ts-expect-error: a boolean, not a string
  await fetch(url, { cacheOptions: { onlyIfCached: 'yes' } })
  // @ts-expect-error: a cache-wide setting, not a per-request one
  await fetch(url, { cacheOptions: { backend: 'memory' } })
}

export async function cachedFetch(): Promise<void> {
  const cached = createCachedFetch({ backend: 'memory' })
  await cached(url, { cacheOptions: { staleWhileRevalidate: '1m' } })
  // @ts-expect-error: no such per-request option
  await cached(url, { cacheOptions: { stale: true } })
}

export async function undiciRequest(): Promise<void> {
  await request(url, { cacheOptions: { forceRefresh: true } })
  await request(url, { method: 'GET', cacheOptions: { expireAfter: 60 } })
  await stream(url, { method: 'GET', opaque: null, cacheOptions: { refresh: true } }, () => process.stdout)
  const options: Dispatcher.DispatchOptions = { origin: url, path: '/', method: 'GET', cacheOptions: { onlyIfCached: true } }
  const perRequest: RequestCacheOptions | undefined = options.cacheOptions
  void perRequest
  // @ts-expect-error: no such per-request option
  await request(url, { cacheOptions: { forceRefesh: true } })
  // @ts-expect-error: a duration or a number of seconds, not an object
  await request(url, { cacheOptions: { expireAfter: { minutes: 5 } } })
}

export async function interceptorCache(): Promise<number> {
  const interceptor = cacheInterceptor({ backend: 'memory' })
  const cache: Cache = interceptor.cache
  const dispatch: Dispatcher.DispatcherComposeInterceptor = interceptor
  void dispatch
  return cache.count()
}
