import { AsyncLocalStorage } from 'node:async_hooks'
import { Engine } from '../engine/engine.js'
import { FetchCacheError } from '../errors.js'
import { createFetchFront, type FetchFunction } from '../fronts/fetch/front.js'
import { Cache } from '../inspect/cache.js'
import { errorReporter } from '../observe/report.js'
import { LiveSettings } from '../options/live.js'
import { splitOptions } from '../options/settings.js'
import type { CacheOptions, CacheSettings } from '../options/types.js'
import { openStore } from '../stores/open.js'
import { underlyingFetch } from './state.js'

/** A fetch function with a cache of its own: requests-cache's `CachedSession`. */
export interface CachedFetch extends FetchFunction {
  /** Inspection and maintenance of this cache. */
  readonly cache: Cache
  /** The behaviour settings; assignments are validated and take effect on the next request. */
  readonly settings: CacheSettings
  /** Runs `fn` with this cache bypassed for everything awaited inside it (and nothing outside). */
  cacheDisabled<T>(fn: () => T | Promise<T>): Promise<T>
}

/**
 * Builds the engine (store + settings) that a session, `installCache()` or `enabled()` runs on.
 * `now` is the policy clock (ms since the epoch); only tests pass one.
 */
export function createEngine(
  options: CacheOptions | undefined,
  now: () => number = Date.now,
): { engine: Engine; owned: boolean } {
  const { settings, store: storeOptions } = splitOptions(options)
  const live = new LiveSettings(settings)
  // One reporter for the store and the engine: one onError, one set of codes already warned about.
  // What the store reports of its own work goes through the engine (counted, published, an outage
  // told once); what it reports while being opened, before there is an engine, goes to onError.
  const deliver = errorReporter(() => live.resolved.onError)
  let engine: Engine | undefined
  const report = (error: Error) => (engine ? engine.report(error, 'store') : deliver(error))
  // Settings that cannot write leave a store that does not exist uncreated until a write comes.
  const { readOnly, onlyIfCached } = live.resolved
  const { store, owned, unavailable } = openStore(storeOptions, report, !readOnly && onlyIfCached !== 'throw')
  engine = new Engine(store, live, now, { deliver, ...(unavailable ? { unavailable } : {}) })
  return { engine, owned }
}

/**
 * Creates a caching fetch function that leaves the globals alone.
 *
 * @example
 * const cachedFetch = createCachedFetch({ expireAfter: '1h' })
 * const response = await cachedFetch('https://example.com/data.json')
 * cacheInfo(response)?.fromCache // true on the second call
 */
export function createCachedFetch(options?: CacheOptions): CachedFetch {
  return createCachedFetchWithClock(options, Date.now)
}

/**
 * `createCachedFetch` on an injected policy clock, so tests move time forward instead of sleeping.
 * Internal: not exported from the package.
 */
export function createCachedFetchWithClock(options: CacheOptions | undefined, now: () => number): CachedFetch {
  if (typeof underlyingFetch() !== 'function') {
    throw new FetchCacheError(
      'FETCH_HTTP_CACHE_NO_FETCH',
      'fetch-http-cache: createCachedFetch() needs the global fetch, which this process lacks (node --no-experimental-fetch)',
    )
  }
  const { engine, owned } = createEngine(options, now)
  const disabled = new AsyncLocalStorage<boolean>()
  const front = createFetchFront({
    engine: () => (disabled.getStore() === true ? undefined : engine),
    baseFetch: underlyingFetch,
  })
  const cachedFetch = Object.defineProperties(front, {
    cache: { value: new Cache(engine, owned), enumerable: true },
    settings: { value: engine.live.view, enumerable: true },
    cacheDisabled: {
      value: <T>(fn: () => T | Promise<T>): Promise<T> => disabled.run(true, async () => fn()),
      enumerable: true,
    },
  })
  return cachedFetch as CachedFetch
}
