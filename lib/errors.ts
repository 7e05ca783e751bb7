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
  | 'FETCH_HTTP_CACHE_FOREIGN_FILE'
  | 'FETCH_HTTP_CACHE_MISS'
  | 'FETCH_HTTP_CACHE_UNSUPPORTED_NODE'
  | 'FETCH_HTTP_CACHE_NO_FETCH'

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

  /**
   * `error instanceof FetchCacheError` holds for every error of this package, the option errors too:
   * those extend `TypeError` and `RangeError`, as JavaScript's own option errors do. A subclass
   * (`StoreError`, ...) matches its own instances only.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== FetchCacheError) return Function.prototype[Symbol.hasInstance].call(this, value)
    return isFetchCacheError(value)
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
 * A store cannot be used now: a networked store's server cannot be reached (down, restarting,
 * refusing connections, or the client's queue is full; the store reconnects by itself), or a SQLite
 * file could not be opened (the cache then runs without a store). On the request path the lookup is
 * a miss and the write is dropped.
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
 * A caller that shared one origin request with identical concurrent requests (`coalesce`) fell behind
 * the others and was detached; when it read on, its own request to the origin did not give the same
 * response again (another status, length or validator), so the rest of its body could not be had.
 * Its body ends with this error rather than splice two responses.
 */
export class SlowReaderError extends FetchCacheError {
  /** How many bytes of the body the caller had read. */
  readonly delivered: number

  constructor(delivered: number) {
    super(
      'FETCH_HTTP_CACHE_SLOW_READER',
      `fetch-http-cache: this body shared one origin request with identical concurrent requests and fell behind them after ${delivered} bytes; asked again for the rest, the origin answered with a different response (set coalesce: false to give each request its own)`,
    )
    this.name = 'SlowReaderError'
    this.delivered = delivered
  }
}

/**
 * The `filter` setting threw or its promise rejected: the response was not stored (the caller still
 * got it). Reported to `onError`, with the filter's own error as `cause`.
 */
export class FilterError extends FetchCacheError {
  readonly option = 'filter' as const

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
  if (typeof value === 'object') return describeObject(value)
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
 * The SQLite file a cache was given is not a fetch-http-cache file (an app's own database, say): it is
 * refused before anything in it is read for use, written, or has its mode or journal changed. Thrown
 * when the cache is created.
 */
export class ForeignFileError extends FetchCacheError {
  readonly path: string
  /** What gave it away (its `application_id`, its tables). */
  readonly reason: string

  constructor(path: string, reason: string) {
    super(
      'FETCH_HTTP_CACHE_FOREIGN_FILE',
      `fetch-http-cache: ${path} is not a fetch-http-cache file (${reason}); refusing to touch it (choose another cacheName)`,
    )
    this.name = 'ForeignFileError'
    this.path = path
    this.reason = reason
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

/** This Node.js is older than the package supports: thrown when the package is imported. */
export class UnsupportedNodeError extends FetchCacheError {
  readonly version: string
  readonly required: string

  constructor(version: string, required: string) {
    super(
      'FETCH_HTTP_CACHE_UNSUPPORTED_NODE',
      `fetch-http-cache needs Node.js ${required} or newer; this is Node.js ${version} (upgrade Node.js, or pin an older fetch-http-cache)`,
    )
    this.name = 'UnsupportedNodeError'
    this.version = version
    this.required = required
  }
}

/** An object by its kind and its keys, never its values (they may hold a password). */
function describeObject(value: object): string {
  const kind = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name
  const keys = Object.keys(value)
  const listed = keys.length === 0 ? '' : ` with keys ${keys.slice(0, 6).join(', ')}${keys.length > 6 ? ', …' : ''}`
  if (kind && kind !== 'Object') return `a ${kind} object${listed}`
  return keys.length === 0 ? 'an empty object {}' : `an object${listed}`
}
