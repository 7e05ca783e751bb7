// The public surface of fetch-cache: everything users import comes from here (DESIGN §1).

export type { Cache } from './cache.js'
export type { CacheDeleteOptions, CacheFilter, ContainsQuery, InvalidEntry, StoredResponse } from './cache-query.js'
export type { BodyEncoding, CacheEntry } from './entry.js'
export {
  CorruptStoreError,
  FetchCacheError,
  type FetchCacheErrorCode,
  InvalidOptionTypeError,
  InvalidOptionValueError,
  isFetchCacheError,
  StoreError,
} from './errors.js'
export type { FetchFunction } from './fetch-front.js'
export { REDACTED } from './key.js'
export { cacheInterceptor, clear, disabled, enabled, getCache, installCache, isInstalled, uninstallCache } from './patch.js'
export { DO_NOT_CACHE, EXPIRE_IMMEDIATELY, type ExpireAfter, NEVER_EXPIRE } from './policy/expiration.js'
export type { CacheOptions, CacheSettings, KeyRequest, RequestCacheOptions, StoreOptions } from './policy/settings.js'
export type { CacheRequestInit, RequestCacheMode } from './request.js'
export { type CacheInfo, cacheInfo } from './response.js'
export { type CachedFetch, createCachedFetch } from './session.js'
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.js'
export { SqliteStore, type SqliteStoreOptions } from './stores/sqlite.js'
export type { MaybePromise, Store, StoreRecord } from './stores/store.js'
