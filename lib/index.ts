// The public surface of fetch-http-cache: everything users import comes from here (lib/README.md).

// First: it refuses a Node.js older than the package supports before anything else loads.
import './install/node-version.js'
// Types `cacheOptions` on the global RequestInit and undici's dispatch options (declaration merging).
import './request/augment.js'

export type { BodyEncoding, CacheEntry, EntryMeta } from './entry/entry.js'
export {
  type BatchingStore,
  capabilities,
  type FlushingStore,
  type KeyedEntry,
  type MaybePromise,
  type MetadataStore,
  type MetaRecord,
  type ReadyingStore,
  type RefreshingStore,
  type SizedStore,
  type Store,
  type StoreCapabilities,
  type StoreRecord,
  type UrlIndexedStore,
} from './entry/store.js'
export {
  CacheMissError,
  CorruptStoreError,
  FetchCacheError,
  type FetchCacheErrorCode,
  FilterError,
  ForeignDirectoryError,
  ForeignFileError,
  InvalidOptionTypeError,
  InvalidOptionValueError,
  isFetchCacheError,
  MissingDependencyError,
  SlowReaderError,
  StoreError,
  StoreTimeoutError,
  StoreUnavailableError,
  UnsafeCacheFileError,
  UnsupportedNodeError,
} from './errors.js'
export type { FetchFunction } from './fronts/fetch/front.js'
export type { Cache } from './inspect/cache.js'
export type { CacheDeleteOptions, CacheFilter, ContainsQuery, InvalidEntry, StoredResponse } from './inspect/query.js'
export {
  type CacheInterceptor,
  cacheInterceptor,
  clear,
  disabled,
  enabled,
  getCache,
  type InstallOptions,
  installCache,
  isInstalled,
  uninstallCache,
} from './install/patch.js'
export { type CachedFetch, createCachedFetch } from './install/session.js'
export { type CacheInfo, cacheInfo } from './observe/cache-info.js'
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
} from './observe/events.js'
export { DO_NOT_CACHE, EXPIRE_IMMEDIATELY, type ExpireAfter, NEVER_EXPIRE } from './options/expire-after.js'
export type { RedisClientLike, RedisOptions } from './options/redis.js'
export type { CacheOptions, CacheSettings, KeyRequest, RequestCacheOptions, StoreOptions } from './options/types.js'
export { OPTIONS_HEADER } from './request/from-client-request.js'
export type { CacheRequestInit, RequestCacheMode } from './request/from-fetch.js'
export { REDACTED } from './request/key.js'
export { FilesStore, type FilesStoreOptions } from './stores/files.js'
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.js'
export { RedisStore, type RedisStoreOptions } from './stores/redis.js'
export { SqliteStore } from './stores/sqlite.js'
export type { SqliteStoreOptions } from './stores/sqlite-options.js'
