/** Stable codes: they are part of the public API and never change meaning. */
export type FetchCacheErrorCode =
  | 'FETCH_HTTP_CACHE_INVALID_OPTION'
  | 'FETCH_HTTP_CACHE_STORE_ERROR'
  | 'FETCH_HTTP_CACHE_STORE_TIMEOUT'
  | 'FETCH_HTTP_CACHE_STORE_UNAVAILABLE'
  | 'FETCH_HTTP_CACHE_CORRUPT_STORE'
  | 'FETCH_HTTP_CACHE_NOT_INSTALLED'
  | 'FETCH_HTTP_CACHE_MISSING_DEPENDENCY'
  | 'FETCH_HTTP_CACHE_SLOW_READER'
  | 'FETCH_HTTP_CACHE_UNSAFE_FILE'
  | 'FETCH_HTTP_CACHE_FILTER_ERROR'
  | 'FETCH_HTTP_CACHE_FOREIGN_DIRECTORY'
  | 'FETCH_HTTP_CACHE_MISS'

const BRAND = Symbol.for('fetch-http-cache.error')

/** The base class of every error fetch-http-cache throws or reports. */
export class FetchCacheError extends Error {
  readonly code: FetchCacheErrorCode

  constructor(code: FetchCacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'FetchCacheError'
    this.code = code
    Object.defineProperty(this, BRAND, { value: true })
  }
}

/** An option has the wrong type. Thrown at construction, never at request time. */
export class InvalidOptionTypeError extends TypeError {
  readonly code = 'FETCH_HTTP_CACHE_INVALID_OPTION' as const
  readonly option: string
  readonly value: unknown

  constructor(option: string, value: unknown, expected: string) {
    super(`fetch-http-cache: option "${option}" must be ${expected}, got ${describe(value)}`)
    this.name = 'InvalidOptionTypeError'
    this.option = option
    this.value = value
    Object.defineProperty(this, BRAND, { value: true })
  }
}

/** An option has the right type but a value out of range (or is unknown). */
export class InvalidOptionValueError extends RangeError {
  readonly code = 'FETCH_HTTP_CACHE_INVALID_OPTION' as const
  readonly option: string
  readonly value: unknown

  constructor(option: string, value: unknown, expected: string) {
    super(`fetch-http-cache: option "${option}" ${expected}, got ${describe(value)}`)
    this.name = 'InvalidOptionValueError'
    this.option = option
    this.value = value
    Object.defineProperty(this, BRAND, { value: true })
  }
}

/** The codes of {@link StoreError} and its subclasses: one per cause, so warnings are deduplicated by cause. */
export type StoreErrorCode = Extract<
  FetchCacheErrorCode,
  'FETCH_HTTP_CACHE_STORE_ERROR' | 'FETCH_HTTP_CACHE_STORE_TIMEOUT' | 'FETCH_HTTP_CACHE_STORE_UNAVAILABLE'
>

/** A store failed (disk full, locked, I/O). Reported through `onError`; the request goes to the network. */
export class StoreError extends FetchCacheError {
  constructor(message: string, options?: { cause?: unknown }, code: StoreErrorCode = 'FETCH_HTTP_CACHE_STORE_ERROR') {
    super(code, message, options)
    this.name = 'StoreError'
  }
}

/**
 * A networked store's server did not answer within the command timeout (slow, overloaded, paused).
 * On the request path the lookup is a miss and the write is dropped.
 */
export class StoreTimeoutError extends StoreError {
  /** The timeout that ran out, in ms. */
  readonly timeout: number

  constructor(message: string, timeout: number, options?: { cause?: unknown }) {
    super(message, options, 'FETCH_HTTP_CACHE_STORE_TIMEOUT')
    this.name = 'StoreTimeoutError'
    this.timeout = timeout
  }
}

/**
 * A networked store's server cannot be reached (down, restarting, refusing connections, or the
 * client's queue is full). On the request path the lookup is a miss and the write is dropped; the
 * store reconnects by itself.
 */
export class StoreUnavailableError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options, 'FETCH_HTTP_CACHE_STORE_UNAVAILABLE')
    this.name = 'StoreUnavailableError'
  }
}

/** A SQLite file was unreadable; it was moved aside to `movedTo` and a fresh one created. */
export class CorruptStoreError extends FetchCacheError {
  readonly path: string
  readonly movedTo: string

  constructor(path: string, movedTo: string, options?: { cause?: unknown }) {
    super(
      'FETCH_HTTP_CACHE_CORRUPT_STORE',
      `fetch-http-cache: cache file ${path} was corrupt; moved it to ${movedTo} and started a fresh one`,
      options,
    )
    this.name = 'CorruptStoreError'
    this.path = path
    this.movedTo = movedTo
  }
}

/**
 * An option asks for an optional peer dependency that is not installed (`backend: 'redis'` without
 * the `redis` package). Thrown when the cache is created.
 */
export class MissingDependencyError extends FetchCacheError {
  /** The npm package to install. */
  readonly dependency: string

  constructor(dependency: string, neededFor: string, options?: { cause?: unknown }) {
    super(
      'FETCH_HTTP_CACHE_MISSING_DEPENDENCY',
      `fetch-http-cache: ${neededFor} needs the "${dependency}" package, which is not installed (npm install ${dependency})`,
      options,
    )
    this.name = 'MissingDependencyError'
    this.dependency = dependency
  }
}

/**
 * A caller that shared one origin request with identical concurrent requests (`coalesce`) fell more
 * than `window` bytes behind the fastest of them: its body ends with this error, so the others need not
 * hold what it has not read. Read bodies as they come, or set `coalesce: false`.
 */
export class SlowReaderError extends FetchCacheError {
  readonly window: number

  constructor(window: number) {
    super(
      'FETCH_HTTP_CACHE_SLOW_READER',
      `fetch-http-cache: this body shared one origin request with identical concurrent requests and fell more than ${window} bytes (maxEntrySize) behind them; it was ended so memory stays bounded (read it as it arrives, or set coalesce: false)`,
    )
    this.name = 'SlowReaderError'
    this.window = window
  }
}

/**
 * The `filter` setting threw or its promise rejected: the response was not stored (the caller still
 * got it). Reported to `onError`, with the filter's own error as `cause`.
 */
export class FilterError extends FetchCacheError {
  constructor(cause: unknown) {
    super(
      'FETCH_HTTP_CACHE_FILTER_ERROR',
      `fetch-http-cache: the filter failed, so the response was not stored: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    )
    this.name = 'FilterError'
  }
}

/** Any error fetch-http-cache made, even from another copy of the package. */
export function isFetchCacheError(error: unknown): error is FetchCacheError | InvalidOptionTypeError | InvalidOptionValueError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`
  if (value instanceof RegExp || value instanceof Date) return String(value)
  if (Array.isArray(value)) return `array (${value.length} items)`
  if (value === null) return 'null'
  if (typeof value === 'object') return `object ${Object.prototype.toString.call(value)}`
  return String(value)
}

/**
 * A cache file or directory in a shared place (`useTemp`, `useCacheDir`) belongs to another user, who
 * could have planted responses in it: refused, as SSH refuses a key file others control. Thrown when
 * the cache is created.
 */
export class UnsafeCacheFileError extends FetchCacheError {
  readonly path: string
  readonly owner: number

  constructor(path: string, owner: number) {
    super(
      'FETCH_HTTP_CACHE_UNSAFE_FILE',
      `fetch-http-cache: ${path} belongs to user ${owner}, not to this process's user ${process.getuid?.()}: refusing to use a cache file another user could have written (remove it, or choose another cacheName)`,
    )
    this.name = 'UnsafeCacheFileError'
    this.path = path
    this.owner = owner
  }
}

/**
 * A directory given as a files cache (`backend: 'files'`) holds files and no cache marker: it is
 * someone else's, and is never written to. Thrown when the cache is created.
 */
export class ForeignDirectoryError extends FetchCacheError {
  readonly path: string

  constructor(path: string, found: string) {
    super(
      'FETCH_HTTP_CACHE_FOREIGN_DIRECTORY',
      `fetch-http-cache: ${path} is not a fetch-http-cache directory (it holds ${JSON.stringify(found)} and no ${'.fetch-http-cache.json'} marker): refusing to write into it (choose an empty or new directory as cacheName)`,
    )
    this.name = 'ForeignDirectoryError'
    this.path = path
  }
}

/**
 * `onlyIfCached: 'throw'` and nothing stored answers the request (or the cache could not take part
 * in it): the request was not sent. Names the request, and the nearest stored URL when one is close.
 */
export class CacheMissError extends FetchCacheError {
  readonly method: string
  readonly url: string
  /** The stored URL closest to `url`, when one is close. */
  readonly nearest: string | undefined

  constructor(method: string, url: string, reason: string, nearest?: string) {
    super(
      'FETCH_HTTP_CACHE_MISS',
      `fetch-http-cache: ${method} ${url}: ${reason} (onlyIfCached: 'throw' never sends a request)${nearest === undefined ? '' : `; the nearest stored URL is ${nearest}`}`,
    )
    this.name = 'CacheMissError'
    this.method = method
    this.url = url
    this.nearest = nearest
  }
}
