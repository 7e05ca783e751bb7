import { createHash } from 'node:crypto'
import { isPromise, type MaybePromise } from '../entry/store.js'
import { InvalidOptionTypeError } from '../errors.js'
import { validateRequestOptions } from '../options/settings.js'
import type { CacheRequest, RequestCacheMode } from './cache-request.js'
import { bodyDigest } from './key.js'

export type { RequestCacheMode }

/**
 * The `init` a cached fetch takes: `RequestInit`, to which augment.ts adds `cacheOptions` (and the
 * `cache` modes undici's types leave out).
 */
export type CacheRequestInit = RequestInit

/**
 * Reads the request's method, URL, headers and body digest. Throws a TypeError for a URL fetch would
 * reject too (the caller then lets fetch raise its own error), and a typed error for bad `cacheOptions`.
 */
export function parseRequest(
  input: string | URL | Request,
  init: CacheRequestInit | undefined,
  ignored: ReadonlySet<string>,
): MaybePromise<CacheRequest> {
  // fetch reads a null `init` as none, and refuses any other value that is not an object.
  if (init === null) init = undefined
  else if (init !== undefined && typeof init !== 'object' && typeof init !== 'function') {
    throw new TypeError(`fetch: init must be an object, not ${typeof init}`)
  }
  const request = input instanceof Request ? input : undefined
  const url = request ? request.url : new URL(String(input)).href
  const method = (init?.method ?? request?.method ?? 'GET').toUpperCase()
  const headers = init?.headers !== undefined ? new Headers(init.headers) : (request?.headers ?? new Headers())
  const parsed: CacheRequest = {
    method,
    url,
    headers,
    bodyDigest: '',
    mode: init?.cache === undefined ? requestMode(request) : checkMode(init.cache),
    options: validateRequestOptions(init?.cacheOptions),
    signal: signalOf(init, request),
  }
  if (init?.body !== undefined && init.body !== null) {
    // Synchronous unless the body is a Blob or FormData: most requests cost no extra turn of the loop.
    const digest = digestBody(init.body, headers.get('content-type'), ignored)
    if (isPromise(digest)) return digest.then((bodyDigest) => ({ ...parsed, bodyDigest }))
    parsed.bodyDigest = digest
  } else if (request?.body && init?.body === undefined) {
    parsed.bodyDigest = undefined
  }
  return parsed
}

/**
 * The request's signal, as fetch takes it: `init.signal` when given, `null` meaning none even on a
 * `Request` that has one; anything but an `AbortSignal` is refused (then fetch raises its own error).
 */
function signalOf(init: CacheRequestInit | undefined, request: Request | undefined): AbortSignal | undefined {
  const signal: unknown = init?.signal !== undefined ? init.signal : request?.signal
  if (signal === null || signal === undefined) return undefined
  if (!(signal instanceof AbortSignal)) throw new TypeError('fetch: signal must be an AbortSignal')
  return signal
}

const CACHE_MODES: ReadonlySet<string> = new Set(['default', 'no-store', 'reload', 'no-cache', 'force-cache', 'only-if-cached'])

/** `init.cache`, checked as fetch would (a TypeError), since it never reaches fetch to be checked there. */
function checkMode(mode: unknown): RequestCacheMode | undefined {
  if (typeof mode !== 'string' || !CACHE_MODES.has(mode)) {
    throw new InvalidOptionTypeError('cache', mode, `one of ${[...CACHE_MODES].map((m) => `'${m}'`).join(', ')}`)
  }
  return mode === 'default' ? undefined : (mode as RequestCacheMode)
}

function requestMode(request: Request | undefined): RequestCacheMode | undefined {
  return request && request.cache !== 'default' ? (request.cache as RequestCacheMode) : undefined
}

function digestBody(
  body: NonNullable<RequestInit['body']>,
  contentType: string | null,
  ignored: ReadonlySet<string>,
): MaybePromise<string | undefined> {
  if (typeof body === 'string') return bodyDigest(body, contentType ?? 'text/plain', ignored)
  if (body instanceof URLSearchParams) return bodyDigest(body.toString(), 'application/x-www-form-urlencoded', ignored)
  if (body instanceof ArrayBuffer) return bodyDigest(new Uint8Array(body), contentType, ignored)
  if (ArrayBuffer.isView(body))
    return bodyDigest(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), contentType, ignored)
  // Reading a Blob or FormData does not consume it: the caller's body stays intact.
  if (body instanceof Blob) {
    return body.arrayBuffer().then((bytes) => bodyDigest(new Uint8Array(bytes), contentType ?? body.type, ignored))
  }
  if (body instanceof FormData) return formDigest(body, ignored)
  return undefined
}

/** Multipart bodies get a random boundary each time: key them by their fields instead. */
async function formDigest(form: FormData, ignored: ReadonlySet<string>): Promise<string> {
  const fields: [string, string][] = []
  for (const [name, value] of form) {
    if (ignored.has(name)) continue
    if (typeof value === 'string') fields.push([name, value])
    else {
      const bytes = new Uint8Array(await value.arrayBuffer())
      fields.push([name, `file:${value.name}:${value.type}:${createHash('sha256').update(bytes).digest('hex')}`])
    }
  }
  fields.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  return createHash('sha256').update('multipart/form-data\n').update(JSON.stringify(fields)).digest('hex')
}

/**
 * `init` without the cache's own fields. Cache modes never reach undici (it rejects `only-if-cached`
 * and would turn a revalidation into an unconditional request), so a `Request` carrying a mode gets
 * `cache: 'default'` (which overrides it without touching its body); the request header fields the
 * mode calls for are added here instead (see {@link modeHeaders}). The caller's `dispatcher` stays.
 */
export function originInit(init: CacheRequestInit | undefined, input?: string | URL | Request): RequestInit | undefined {
  const modeInRequest = input instanceof Request && input.cache !== 'default'
  if (init == null && !modeInRequest) return undefined
  if (init != null && init.cache === undefined && init.cacheOptions === undefined && !modeInRequest) return init
  const { cache, cacheOptions: _options, ...rest } = init ?? {}
  if (modeInRequest) (rest as { cache?: string }).cache = 'default'
  const mode = cache ?? (input instanceof Request ? (input.cache as RequestCacheMode) : undefined)
  if (mode === 'no-cache' || mode === 'no-store' || mode === 'reload') {
    const headers = new Headers(rest.headers ?? (input instanceof Request ? input.headers : undefined))
    if (modeHeaders(mode, headers)) rest.headers = headers
  }
  return rest
}

/**
 * The Fetch standard's HTTP-network-or-cache fetch (§4.5): `no-cache` adds `Cache-Control: max-age=0`
 * when the request has no `Cache-Control`; `no-store` and `reload` add `Pragma: no-cache` and
 * `Cache-Control: no-cache` when absent, so caches between us and the origin do as ours did. Adds
 * them to `headers`; says whether it added any.
 */
function modeHeaders(mode: RequestCacheMode | undefined, headers: Headers): boolean {
  let added = false
  if (mode === 'no-cache' && !headers.has('cache-control')) {
    headers.set('cache-control', 'max-age=0')
    added = true
  } else if (mode === 'no-store' || mode === 'reload') {
    if (!headers.has('pragma')) {
      headers.set('pragma', 'no-cache')
      added = true
    }
    if (!headers.has('cache-control')) {
      headers.set('cache-control', 'no-cache')
      added = true
    }
  }
  return added
}
