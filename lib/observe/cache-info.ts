import type { IncomingMessage } from 'node:http'
import type { CacheEntry } from '../entry/entry.js'

/** What `cacheInfo(response)` tells about a response that passed through the cache. */
export interface CacheInfo {
  /** Served from the cache (also after a 304 revalidation or as a stale fallback). */
  fromCache: boolean
  /** When the entry was stored or last revalidated, if there is one. */
  createdAt: Date | undefined
  /** When the entry expires (`undefined`: never, or nothing stored). */
  expires: Date | undefined
  isExpired: boolean
  /**
   * The key the request is looked up and stored under (with `Vary`, its variant's), set from the
   * start: on a miss too, before the body has arrived. `undefined` when the cache stayed out of the
   * request (a method it does not cache, a bypass).
   */
  cacheKey: string | undefined
  /** The origin answered 304 and the stored body was served. */
  revalidated: boolean
  /** An expired entry was served (stale-if-error, stale-while-revalidate, max-stale, force-cache). */
  stale: boolean
  /**
   * Settles once the cache knows whether this response is stored: `true` for a served entry and for
   * an origin answer once its body has arrived and been written (whether or not it is read), `false`
   * for one the cache does not store (not storable, over `maxEntrySize`, cancelled, a failed write).
   */
  stored: Promise<boolean>
}

// A registered symbol, so `cacheInfo()` from another copy of the package reads it too.
export const RESPONSE_STATE = Symbol.for('fetch-http-cache.response')

/**
 * The cache metadata of a response (a fetch `Response`, or a `node:http` `IncomingMessage`), or
 * `undefined` when it did not pass through fetch-http-cache.
 */
export function cacheInfo(response: Response | IncomingMessage): CacheInfo | undefined {
  return (response as { [RESPONSE_STATE]?: { info: CacheInfo } })[RESPONSE_STATE]?.info
}

/** Attaches the cache's metadata to a `node:http` answer, so `cacheInfo()` reads it as it reads a `Response`'s. */
export function attachCacheInfo(message: IncomingMessage, info: CacheInfo, url: string): void {
  Object.defineProperty(message, RESPONSE_STATE, { value: { extras: { url, redirected: false }, info }, configurable: true })
}

const STORED = Promise.resolve(true)
const NOT_STORED = Promise.resolve(false)

/** The metadata of an entry as served. */
export function infoFor(
  entry: CacheEntry | undefined,
  now: number,
  fromCache: boolean,
  revalidated = false,
  stale = false,
  stored: Promise<boolean> = fromCache ? STORED : NOT_STORED,
): CacheInfo {
  return {
    stored,
    fromCache,
    createdAt: entry ? new Date(entry.createdAt) : undefined,
    expires: entry?.expires == null ? undefined : new Date(entry.expires),
    isExpired: entry?.expires != null && now >= entry.expires,
    cacheKey: entry?.key,
    revalidated,
    stale,
  }
}

/** The metadata of an answer not served from the store, for a request the cache keyed as `cacheKey`. */
export function keyedInfo(cacheKey: string, now: number, stored: Promise<boolean> = NOT_STORED): CacheInfo {
  return { ...infoFor(undefined, now, false, false, false, stored), cacheKey }
}

/** Seconds of freshness left (negative when stale), as `Cache-Status`'s `ttl` wants. */
export function ttlSeconds(entry: CacheEntry, now: number): number | undefined {
  return entry.expires === null ? undefined : Math.floor((entry.expires - now) / 1000)
}
