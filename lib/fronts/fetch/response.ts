import { abortable, byteStream, bytesStream } from '../../engine/body.js'
import { type CacheEntry, identityBody } from '../../entry/entry.js'
import { isBodiless } from '../../http/bodiless.js'
import { type CacheInfo, RESPONSE_STATE as STATE } from '../../observe/cache-info.js'

interface ResponseState {
  extras: ResponseExtras
  info: CacheInfo
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
  // fetch's bodies are byte streams (a BYOB reader works on them): ours too.
  if (body instanceof ReadableStream) body = byteStream(body)
  // The fields are appended once the Response exists: the constructor's own `headers` member goes
  // through WebIDL's record/sequence conversion first, which cost more than the appends (about 5 µs
  // for ten fields). Same result: the constructor fills its headers from init by the same appends.
  // A string body is the exception: its Content-Type comes only when init has none, so it is given first.
  const late = typeof body !== 'string' && init.headers !== undefined
  const own = late ? { status: init.status ?? 200, statusText: init.statusText ?? '' } : init
  let response: Response
  try {
    response = new Cached(body, own, { extras, info })
  } catch (error) {
    // The reason phrase fetch accepted from the origin but the constructor refuses: kept aside.
    if (!(error instanceof TypeError) || !init.statusText) throw error
    response = new Cached(body, { ...own, statusText: '' }, { extras: { ...extras, statusText: init.statusText }, info })
  }
  if (late) appendAll(response.headers, init.headers as Fields)
  return response
}

type Fields = Headers | readonly (readonly [string, string])[] | Record<string, string>

/** Appends `fields` (a `Headers`, name-value pairs or a record) to `target`, in order. */
function appendAll(target: Headers, fields: Fields): void {
  if (Array.isArray(fields)) {
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i] as readonly [string, string]
      if (field.length !== 2) throw new TypeError('Headers constructor: expected name/value pair to be length 2')
      target.append(field[0], field[1])
    }
  } else if (Symbol.iterator in fields) {
    // Any undici's Headers (the origin's may come from another copy of undici than the global one).
    for (const [name, value] of fields as Iterable<[string, string]>) target.append(name, value)
  } else {
    for (const name of Object.keys(fields)) target.append(name, fields[name] as string)
  }
}

/** Attaches the cache's metadata to the origin's own `Response` (one the cache cannot rebuild). */
export function withCacheInfo(response: Response, info: CacheInfo): Response {
  const extras = { url: response.url, redirected: response.redirected, type: response.type }
  Object.defineProperty(response, STATE, { value: { extras, info }, configurable: true })
  return response
}

/** A `Response` for a stored entry, with the headers to serve it with (`Age`, `Cache-Status` set). */
export function responseFromEntry(
  entry: CacheEntry,
  headers: Headers | [string, string][],
  info: CacheInfo,
  signal: AbortSignal | null | undefined,
  method: string,
  url = entry.responseUrl,
): Response {
  let body: ReadableStream<Uint8Array> | Uint8Array | null = null
  if (!isBodiless(entry.status, method)) {
    const bytes = identityBody(entry)
    body = signal ? abortable(bytesStream(bytes), signal) : bytes
  }
  const init = { status: entry.status, statusText: entry.statusText, headers }
  return cachedResponse(body, init, { url, redirected: entry.redirected }, info)
}
