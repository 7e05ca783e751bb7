import type { Store } from '../entry/store.js'
import { type ExpireAfter, type Expiry, NEVER_EXPIRE, type UrlRule } from './expire-after.js'
import type { RedisOptions } from './redis.js'

/** The option types, their defaults and the resolved settings (validation: `settings.ts`). */

/** What `keyFn` receives: the request as the cache sees it. */
export interface KeyRequest {
  method: string
  /** The normalized URL (ignored parameters already removed, credential parameters as keyed hashes). */
  url: string
  /** Request headers, lower-case names. */
  headers: Headers
  /** The normalized body's digest (`''` when there is no body). */
  bodyDigest: string
  /** The key fetch-http-cache would use. */
  defaultKey: string
}

/** The behaviour settings: every one can be changed at runtime through `.settings`. */
export interface CacheSettings {
  /**
   * How long responses stay fresh: seconds, a duration string (`'90s'`, `'5m'`, `'1h30m'`, `'7d'`),
   * a `Date`, `NEVER_EXPIRE`, `EXPIRE_IMMEDIATELY` (store only responses with a validator and
   * revalidate them on every use) or `DO_NOT_CACHE` (neither read nor write).
   * @default NEVER_EXPIRE
   */
  expireAfter: ExpireAfter
  /**
   * Expiry by URL, ordered, first match wins: `{ 'api.example.com/v1/*': '5m' }` or
   * `[[/\/static\//, NEVER_EXPIRE]]`. Globs match the URL without its scheme as a prefix; RegExps are
   * searched in the whole URL. With `DO_NOT_CACHE` as the last rule it becomes an allow-list. (An
   * object keeps its insertion order except for integer-like keys; use the array form for RegExps.)
   * @default {}
   */
  urlsExpireAfter: Record<string, ExpireAfter> | ReadonlyArray<readonly [string | RegExp, ExpireAfter]>
  /**
   * Honour response `Cache-Control`, `Expires` and `Age` (they win over the configured rules).
   * `true`: a conforming RFC 9111 private cache, for one user's requests. `'shared'`: a conforming
   * shared cache, for a store many users share (Redis): `s-maxage` and `proxy-revalidate` apply,
   * `private` responses are not stored, and a response to a request with `Authorization` is stored
   * only when `public`, `s-maxage` or `must-revalidate` allows it (§3.5). Request directives are
   * always honoured.
   * @default false
   * @see https://www.rfc-editor.org/rfc/rfc9111#section-3
   */
  cacheControl: boolean | 'shared'
  /**
   * Methods whose responses may be stored. Other methods pass through (unsafe ones still invalidate).
   * @default ['GET', 'HEAD']
   */
  allowableMethods: readonly string[]
  /**
   * Status codes that may be stored.
   * @default [200]
   */
  allowableCodes: readonly number[]
  /**
   * Decides whether a response is stored: return (or resolve) `false` to leave it unstored. Called once
   * its body has arrived (within `maxEntrySize`), with a `Response` of its own whose body is the
   * recorded bytes (without content-coding): read it freely, the caller's body is untouched. The
   * caller's body ends once the filter has answered and the response is stored. A filter that throws
   * or rejects stores nothing and is reported to `onError` as a `FilterError`.
   * @example async (response) => !('error' in (await response.json()))
   * @default undefined
   */
  filter: ((response: Response) => boolean | Promise<boolean>) | undefined
  /**
   * Request headers that become part of the key: `true` for all of them, or a list of names. An
   * absent `Accept`, `Accept-Language` or `User-Agent` counts as fetch's default. With `true`,
   * transport headers (`Accept-Encoding`, `Connection`, `Host`…), cache directives (`Cache-Control`,
   * `Pragma`) and validators (`If-None-Match`…) are left out. Credentials always partition the key.
   * @default false
   */
  matchHeaders: boolean | readonly string[]
  /**
   * Query parameters, JSON / form body fields and request headers left out of the key and replaced by
   * `REDACTED` in what is stored. Naming `authorization`, `cookie` or `proxy-authorization` opts into
   * sharing entries across credentials.
   * @default []
   */
  ignoredParameters: readonly string[]
  /**
   * More request headers that carry credentials, beside the built-in ones (`Authorization`,
   * `Proxy-Authorization`, `Cookie`, `X-API-Key`, `Api-Key`, `X-Auth-Token` and the others the README
   * lists): they partition the cache and are stored only as a keyed hash.
   * @example ['x-my-tenant-key']
   * @default []
   */
  credentialHeaders: readonly string[]
  /**
   * More query parameters that carry credentials (compared case-insensitively), beside the built-in
   * ones (`access_token`, `api_key`, `apikey`, `key`, `token` and the others the README lists): they
   * partition the cache and are stored only as a keyed hash. `ignoredParameters` wins over both lists.
   * @example ['tenant_secret']
   * @default []
   */
  credentialParameters: readonly string[]
  /**
   * A custom key function. Receives the request and the default key.
   * @default undefined
   */
  keyFn: ((request: KeyRequest) => string) | undefined
  /**
   * Serve an expired entry when the origin fails (a network error, or a 5xx not in
   * `allowableCodes`): `true`, or how long past expiry it may still be served.
   * @default false
   */
  staleIfError: boolean | ExpireAfter
  /**
   * Serve an expired entry at once and refresh it in the background: `true`, or how long past expiry.
   * @default false
   */
  staleWhileRevalidate: boolean | ExpireAfter
  /**
   * Revalidate every use of an entry that has a validator (`ETag` or `Last-Modified`); entries
   * without one are served as usual.
   * @default false
   */
  alwaysRevalidate: boolean
  /**
   * Offline mode: never touch the network. `true`: a miss (or an entry too old to serve) is a 504
   * "Not Cached". `'throw'` (replaying fixtures): any stored entry is served whatever its age, and a
   * request the cache cannot answer rejects with a `CacheMissError` naming it.
   * @default false
   */
  onlyIfCached: boolean | 'throw'
  /**
   * Record mode: skip the read, always ask the origin (unconditionally) and store its answer over
   * what was stored (like `cache: 'reload'` on every request).
   * @default false
   */
  forceRefresh: boolean
  /**
   * Response headers whose values tag a stored response, for `cache.delete({ tags })`: comma- or
   * space-separated tags, as CDNs read `Cache-Tag` and `Surrogate-Key`.
   * @default ['cache-tag', 'surrogate-key']
   */
  tagHeaders: readonly string[]
  /**
   * Serve from the cache, never write to it.
   * @default false
   */
  readOnly: boolean
  /**
   * Bypass the cache entirely (neither read nor write).
   * @default false
   */
  disabled: boolean
  /**
   * Identical concurrent misses share one origin request.
   * @default true
   */
  coalesce: boolean
  /**
   * Bodies larger than this (bytes) pass through unstored.
   * @default 52428800 (50 MiB)
   */
  maxEntrySize: number
  /**
   * Called when the cache fails (the request itself goes on, from the network).
   * @default one process warning per error code
   */
  onError: ((error: Error) => void) | undefined
}

/** Where and how entries are stored: fixed when the cache is created. */
export interface StoreOptions {
  /**
   * `'sqlite'` (a file that survives restarts and is shared by processes), `'memory'`, `'redis'` (a
   * server shared by machines; see `redis`), `'files'` (a directory of readable JSON files, one per
   * response: fixtures for tests), or a `Store`.
   * @default 'sqlite'
   */
  backend: 'sqlite' | 'memory' | 'redis' | 'files' | Store
  /**
   * The Redis server and how entries are kept there, for `backend: 'redis'`: `{ url, client, prefix,
   * commandTimeout, connectTimeout, grace }`, or a `redis://` URL alone. Needs the `redis` package.
   * @default { url: 'redis://localhost:6379', prefix: 'fetch-http-cache:', commandTimeout: 500, connectTimeout: 2000, grace: 86400 }
   */
  redis: RedisOptions | string | undefined
  /**
   * The SQLite file's name (`<cacheName>.sqlite`) or path (when it contains a `/` or ends in `.sqlite`);
   * with `backend: 'files'`, the directory's name or path.
   * @default 'http_cache'
   */
  cacheName: string
  /**
   * Put the SQLite file in the user cache directory (`$XDG_CACHE_HOME/fetch-http-cache`, `~/.cache/fetch-http-cache`).
   * @default false
   */
  useCacheDir: boolean
  /**
   * Put the SQLite file in the OS temp directory.
   * @default false
   */
  useTemp: boolean
  /**
   * Upper bound of the store in bytes (least recently used entries go first; expired first on SQLite).
   * Not for Redis, which the server's `maxmemory` bounds.
   * @default undefined for SQLite (unbounded); 256 MiB for memory
   */
  maxSize: number | undefined
  /**
   * Upper bound of the memory store in entries.
   * @default 10000
   */
  maxEntries: number | undefined
}

/** Everything `createCachedFetch()`, `installCache()` and `enabled()` accept. */
export type CacheOptions = Partial<CacheSettings> & Partial<StoreOptions>

/**
 * The per-request options, passed as `init.cacheOptions` (requests-cache's per-request arguments).
 * They are read by the cache and never sent to the origin.
 *
 * @example
 * await cachedFetch(url, { cacheOptions: { expireAfter: '5m', staleIfError: true } })
 */
export interface RequestCacheOptions {
  /**
   * This request's expiry: it wins over `urlsExpireAfter` and `expireAfter`; the response's
   * `Cache-Control` (with `cacheControl` on) and the request's `Cache-Control: max-age` win over it.
   */
  expireAfter?: ExpireAfter
  /**
   * Whether this request honours the response's `Cache-Control`, `Expires` and `Age`, whatever the
   * cache's `cacheControl` says: `false` (with `expireAfter`) overrides the server for this request;
   * `true` honours it as the cache would (a `'shared'` cache stays shared).
   */
  cacheControl?: boolean
  /**
   * Never touch the network for this request: `true`, a miss (or an expired entry) is a 504 "Not
   * Cached"; `'throw'`, any stored entry is served whatever its age and a miss rejects with a `CacheMissError`.
   */
  onlyIfCached?: boolean | 'throw'
  /** Revalidate the entry before using it, even when fresh (like `cache: 'no-cache'`). */
  refresh?: boolean
  /** Skip the read, fetch unconditionally and store the answer (like `cache: 'reload'`). */
  forceRefresh?: boolean
  /** This request's stale-if-error: `true`, or how long past expiry. */
  staleIfError?: boolean | ExpireAfter
  /** This request's stale-while-revalidate: `true`, or how long past expiry. */
  staleWhileRevalidate?: boolean | ExpireAfter
}

/** The defaults, in one place; the README's table mirrors it. */
export const DEFAULTS: Readonly<CacheSettings & StoreOptions> = Object.freeze({
  expireAfter: NEVER_EXPIRE,
  urlsExpireAfter: {},
  cacheControl: false,
  allowableMethods: Object.freeze(['GET', 'HEAD']),
  allowableCodes: Object.freeze([200]),
  filter: undefined,
  matchHeaders: false,
  ignoredParameters: Object.freeze([]),
  credentialHeaders: Object.freeze([]),
  credentialParameters: Object.freeze([]),
  keyFn: undefined,
  staleIfError: false,
  staleWhileRevalidate: false,
  alwaysRevalidate: false,
  onlyIfCached: false,
  forceRefresh: false,
  tagHeaders: Object.freeze(['cache-tag', 'surrogate-key']),
  readOnly: false,
  disabled: false,
  coalesce: true,
  maxEntrySize: 50 * 1024 * 1024,
  onError: undefined,
  backend: 'sqlite',
  redis: undefined,
  cacheName: 'http_cache',
  useCacheDir: false,
  useTemp: false,
  maxSize: undefined,
  maxEntries: undefined,
})

/** The settings in the form the engine uses: parsed once, trusted afterwards. */
export interface ResolvedSettings {
  expiry: Expiry
  /** Whether `expireAfter` was set by the user (with `cacheControl`, the RFC's rules fill in otherwise). */
  expiryExplicit: boolean
  urlRules: UrlRule[]
  cacheControl: boolean
  /** `cacheControl: 'shared'`: the RFC 9111 rules of a shared cache apply (`cacheControl` is then true too). */
  sharedCache: boolean
  allowableMethods: ReadonlySet<string>
  allowableCodes: ReadonlySet<number>
  /** With `cacheControl` and no explicit `allowableCodes`, the RFC's cacheable statuses apply. */
  allowableCodesExplicit: boolean
  filter: ((response: Response) => boolean | Promise<boolean>) | undefined
  /** `true` for all headers, or the lower-case names. */
  matchHeaders: true | readonly string[]
  ignored: ReadonlySet<string>
  /** `ignoredParameters`, lower-cased, for header names. */
  ignoredHeaders: ReadonlySet<string>
  /** The request headers that carry credentials: the built-in ones (the standard three first) and `credentialHeaders`, lower-case. */
  credentialHeaders: readonly string[]
  /** The query parameters that carry credentials: the built-in ones and `credentialParameters`, lower-case. */
  credentialParameters: ReadonlySet<string>
  keyFn: ((request: KeyRequest) => string) | undefined
  staleIfError: number
  staleWhileRevalidate: number
  alwaysRevalidate: boolean
  onlyIfCached: boolean | 'throw'
  forceRefresh: boolean
  /** `tagHeaders`, lower case. */
  tagHeaders: readonly string[]
  readOnly: boolean
  disabled: boolean
  coalesce: boolean
  maxEntrySize: number
  onError: ((error: Error) => void) | undefined
}
