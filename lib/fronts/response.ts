import { kMaxLength } from 'node:buffer'
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib'
import type { CacheEntry } from '../stores/entry.js'
import { abortable, bytesStream } from './body.js'

/** What `cacheInfo(response)` tells about a response that passed through the cache. */
export interface CacheInfo {
  /** Served from the cache (also after a 304 revalidation or as a stale fallback). */
  fromCache: boolean
  /** When the entry was stored or last revalidated, if there is one. */
  createdAt: Date | undefined
  /** When the entry expires (`undefined`: never, or nothing stored). */
  expires: Date | undefined
  isExpired: boolean
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

const STORED = Promise.resolve(true)
const NOT_STORED = Promise.resolve(false)

// A registered symbol, so `cacheInfo()` from another copy of the package reads it too.
const STATE = Symbol.for('fetch-http-cache.response')

interface ResponseState {
  extras: ResponseExtras
  info: CacheInfo
}

/** The cache metadata of a response, or `undefined` when it did not pass through fetch-http-cache. */
export function cacheInfo(response: Response): CacheInfo | undefined {
  return (response as Partial<CachedResponse>)[STATE]?.info
}

/** The fields a `Response` constructor cannot set, which a cached response must still keep. */
export interface ResponseExtras {
  url: string
  redirected: boolean
  type?: Response['type']
  /** A reason phrase the constructor refuses (a DEL, a character past U+00FF) that fetch gave as is. */
  statusText?: string
}

/** A `Response` carrying the cache's state. */
interface CachedResponse extends Response {
  [STATE]: ResponseState
}

type CachedResponseClass = new (
  body: ConstructorParameters<typeof Response>[0],
  init: ResponseInit,
  state: ResponseState,
) => CachedResponse

let cachedResponseClass: CachedResponseClass | undefined

/**
 * A `Response` that behaves like a fetched one: `url`, `redirected` and `type` kept (the constructor
 * cannot set them), the metadata attached, and `clone()` carrying both over. A subclass rather than
 * properties defined per instance: the hit path builds one per request. Made on first use, since
 * reading the global `Response` loads Node's undici, and importing the package changes no global.
 */
function responseClass(): CachedResponseClass {
  if (cachedResponseClass) return cachedResponseClass
  class Cached extends Response {
    declare [STATE]: ResponseState

    constructor(body: ConstructorParameters<typeof Response>[0], init: ResponseInit, state: ResponseState) {
      super(body, init)
      this[STATE] = state
    }
  }
  const ownStatusText = Object.getOwnPropertyDescriptor(Response.prototype, 'statusText')?.get as (this: Response) => string
  Object.defineProperties(Cached.prototype, {
    statusText: {
      get(this: Cached) {
        return this[STATE].extras.statusText ?? ownStatusText.call(this)
      },
      configurable: true,
    },
    url: {
      get(this: Cached) {
        return this[STATE].extras.url
      },
      configurable: true,
    },
    redirected: {
      get(this: Cached) {
        return this[STATE].extras.redirected
      },
      configurable: true,
    },
    type: {
      get(this: Cached) {
        return this[STATE].extras.type ?? 'basic'
      },
      configurable: true,
    },
    clone: {
      value(this: Cached): Response {
        const copy = Response.prototype.clone.call(this) as Cached
        Object.setPrototypeOf(copy, Cached.prototype)
        copy[STATE] = this[STATE]
        return copy
      },
      writable: true,
      configurable: true,
    },
  })
  cachedResponseClass = Cached
  return Cached
}

/** A `Response` with the given extras and cache metadata. */
export function cachedResponse(
  body: ConstructorParameters<typeof Response>[0],
  init: ResponseInit,
  extras: ResponseExtras,
  info: CacheInfo,
): Response {
  const Cached = responseClass()
  try {
    return new Cached(body, init, { extras, info })
  } catch (error) {
    // The reason phrase fetch accepted from the origin but the constructor refuses: kept aside.
    if (!(error instanceof TypeError) || !init.statusText) throw error
    return new Cached(body, { ...init, statusText: '' }, { extras: { ...extras, statusText: init.statusText }, info })
  }
}

/** Attaches the cache's metadata to the origin's own `Response` (one the cache cannot rebuild). */
export function withCacheInfo(response: Response, info: CacheInfo): Response {
  const extras = { url: response.url, redirected: response.redirected, type: response.type }
  Object.defineProperty(response, STATE, { value: { extras, info }, configurable: true })
  return response
}

const NULL_BODY = new Set([101, 103, 204, 205, 304])

/** A `Response` for a stored entry, with the headers to serve it with (`Age`, `Cache-Status` set). */
export function responseFromEntry(
  entry: CacheEntry,
  headers: Headers | [string, string][],
  info: CacheInfo,
  signal: AbortSignal | null | undefined,
  method: string,
): Response {
  let body: ReadableStream<Uint8Array> | Uint8Array | null = null
  if (!NULL_BODY.has(entry.status) && method !== 'HEAD') {
    const bytes = identityBody(entry)
    body = signal ? abortable(bytesStream(bytes), signal) : bytes
  }
  const init = { status: entry.status, statusText: entry.statusText, headers }
  return cachedResponse(body, init, { url: entry.responseUrl, redirected: entry.redirected }, info)
}

/** The body as a `fetch()` caller reads it: content-coding removed. */
export function identityBody(entry: CacheEntry): Uint8Array {
  if (entry.encoding === 'identity') return entry.body
  const coding = entry.headers.find(([name]) => name === 'content-encoding')?.[1]
  return decode(entry.body, coding)
}

/**
 * Removes the content-codings in `coding` (applied in order, so undone in reverse). With `limit`, each
 * step stops once its output passes `limit` bytes and throws a {@link TooLargeError}: a small
 * compressed body can decode into gigabytes (a "zip bomb"), and is never decoded whole.
 */
export function decode(body: Uint8Array, coding: string | undefined, limit?: number): Uint8Array {
  if (!coding) return body
  // zlib's own bound: it stops inflating at maxOutputLength and throws ERR_BUFFER_TOO_LARGE.
  const options = limit === undefined ? {} : { maxOutputLength: Math.max(1, Math.min(limit + 1, kMaxLength)) }
  let bytes = body
  for (const step of coding
    .toLowerCase()
    .split(',')
    .map((s) => s.trim())
    .reverse()) {
    try {
      if (step === 'gzip' || step === 'x-gzip') bytes = gunzipSync(bytes, options)
      else if (step === 'deflate') bytes = inflateSync(bytes, options)
      else if (step === 'br') bytes = brotliDecompressSync(bytes, options)
      else if (step !== 'identity' && step !== '') throw new Error(`unsupported content-encoding ${step}`)
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new TooLargeError(limit as number)
      throw error
    }
    if (limit !== undefined && bytes.byteLength > limit) throw new TooLargeError(limit)
  }
  return bytes
}

/** A body that decodes to more than the limit it was decoded with. */
export class TooLargeError extends RangeError {
  constructor(limit: number) {
    super(`decoded body larger than ${limit} bytes`)
    this.name = 'TooLargeError'
  }
}

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

/** Why a request went forward to the origin (RFC 9211 §2.2 `fwd`), when the cache took part. */
export type Forwarded = 'uri-miss' | 'vary-miss' | 'miss' | 'request' | 'stale'

/**
 * An RFC 9211 `Cache-Status` value, e.g. `fetch-http-cache; hit; ttl=42` or `fetch-http-cache; fwd=miss; stored`.
 * @see https://www.rfc-editor.org/rfc/rfc9211
 */
export function cacheStatus(status: {
  hit?: boolean
  fwd?: 'bypass' | 'method' | Forwarded | undefined
  fwdStatus?: number | undefined
  stored?: boolean
  ttl?: number | undefined
  detail?: string | undefined
}): string {
  let value = 'fetch-http-cache'
  if (status.hit) value += '; hit'
  if (status.fwd) value += `; fwd=${status.fwd}`
  if (status.fwdStatus !== undefined) value += `; fwd-status=${status.fwdStatus}`
  if (status.stored) value += '; stored'
  if (status.ttl !== undefined) value += `; ttl=${status.ttl}`
  if (status.detail) value += `; detail=${status.detail}`
  return value
}

/**
 * The `Cache-Status` of a response the cache stayed out of (RFC 9211 §2.2): `fwd=method` for a method
 * it does not take part in, `fwd=bypass` otherwise; with `withDetail`, the reason as a `detail` token (§2.8).
 */
export function bypassStatus(reason: string, fwdStatus: number, withDetail: boolean): string {
  const fwd = reason.startsWith('method') ? 'method' : 'bypass'
  return cacheStatus({ fwd, fwdStatus, detail: withDetail ? detailToken(reason) : undefined })
}

/** A reason as an RFC 9211 `detail` token (sf-token characters only). */
function detailToken(reason: string): string {
  return (
    reason
      .toLowerCase()
      .replace(/[^a-z0-9!#$%&'*+.^_`|~-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'bypass'
  )
}

/** Seconds of freshness left (negative when stale), as `Cache-Status`'s `ttl` wants. */
export function ttlSeconds(entry: CacheEntry, now: number): number | undefined {
  return entry.expires === null ? undefined : Math.floor((entry.expires - now) / 1000)
}
