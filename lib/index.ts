// The public surface of fetch-http-cache: everything users import comes from here (lib/README.md).

export {
  type CacheStats,
  CHANNELS,
  type DeleteEvent,
  type ErrorEvent,
  type EvictEvent,
  type LookupEvent,
  type LookupOutcome,
  type RevalidateEvent,
  type StoreEvent,
} from './engine/events.js'
export {
  CorruptStoreError,
  FetchCacheError,
  type FetchCacheErrorCode,
  InvalidOptionTypeError,
  InvalidOptionValueError,
  isFetchCacheError,
  MissingDependencyError,
  SlowReaderError,
  StoreError,
  StoreTimeoutError,
  StoreUnavailableError,
  UnsafeCacheFileError,
} from './errors.js'
export type { FetchFunction } from './fronts/fetch.js'
export { type CacheInfo, cacheInfo } from './fronts/response.js'
export type { Cache } from './inspect/cache.js'
export type { CacheDeleteOptions, CacheFilter, ContainsQuery, InvalidEntry, StoredResponse } from './inspect/query.js'
export {
  cacheInterceptor,
  clear,
  disabled,
  enabled,
  getCache,
  installCache,
  isInstalled,
  uninstallCache,
} from './install/patch.js'
export { type CachedFetch, createCachedFetch } from './install/session.js'
export type { RedisClientLike, RedisOptions } from './options/redis.js'
export type { CacheOptions, CacheSettings, KeyRequest, RequestCacheOptions, StoreOptions } from './options/settings.js'
export { DO_NOT_CACHE, EXPIRE_IMMEDIATELY, type ExpireAfter, NEVER_EXPIRE } from './policy/expiration.js'
export type { CacheRequestInit, RequestCacheMode } from './request/from-fetch.js'
export { REDACTED } from './request/key.js'
export type { BodyEncoding, CacheEntry, EntryMeta } from './stores/entry.js'
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.js'
export { RedisStore, type RedisStoreOptions } from './stores/redis.js'
export { SqliteStore, type SqliteStoreOptions } from './stores/sqlite.js'
export type { KeyedEntry, MaybePromise, MetaRecord, Store, StoreRecord } from './stores/store.js'
