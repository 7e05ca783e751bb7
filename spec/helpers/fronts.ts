import type { AssertPredicate } from 'node:assert'
import assert from 'node:assert/strict'
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import { describe } from 'node:test'
import { Agent, type Dispatcher, request } from 'undici'
import type { Engine } from '../../lib/engine/engine.js'
import { createInterceptor } from '../../lib/fronts/dispatcher/front.js'
import { createFetchFront } from '../../lib/fronts/fetch/front.js'
import { cachedRequest, type RequestFunction } from '../../lib/fronts/node-http/front.js'
import { type CacheOptions, cacheInterceptor, createCachedFetch } from '../../lib/index.js'
import { Cache } from '../../lib/inspect/cache.js'
import { createEngine } from '../../lib/install/session.js'
import { underlyingFetch } from '../../lib/install/state.js'
import { cacheInfo } from '../../lib/observe/cache-info.js'
import type { CacheSettings, RequestCacheOptions } from '../../lib/options/types.js'

/**
 * The ways into the cache, behind one interface, so a behaviour is written once and run through
 * each: the fetch front (`createCachedFetch`), the node:http front (`http.request()`), and the dispatcher front (`undici.request()` through an
 * Agent composed with the interceptor). What a test learns about the cache comes from `Cache-Status`
 * (RFC 9211), the one report both fronts give.
 */

type HeadersInit = ConstructorParameters<typeof Headers>[0] & {}

/** What a test may ask of a request, with the same meaning on both fronts. */
export interface FrontInit {
  method?: string
  headers?: HeadersInit
  body?: string
  signal?: AbortSignal
  /** Per-request options: fetch's `init.cacheOptions`, the dispatcher's `cacheOptions` dispatch option. */
  cacheOptions?: RequestCacheOptions
  /** Fetch follows redirects unless told not to; `undici.request()` never follows them. */
  redirect?: 'manual'
}

/** A response as a test reads it, whichever front produced it. */
export interface FrontResponse {
  status: number
  statusText: string
  /** The response's fields (multi-line fields combined with `, `). */
  headers: Headers
  header(name: string): string | undefined
  body: AsyncIterable<Uint8Array>
  text(): Promise<string>
  /** Stops reading (fetch: `body.cancel()`; undici: `body.destroy()`). */
  cancel(): Promise<void>
  /** The `Cache-Status` field value, or `null` when the cache added none. */
  cacheStatus: string | null
  /** `hit` in `Cache-Status`: served from the cache without asking the origin (RFC 9211 §2.1). */
  hit: boolean
  /** The origin answered 304 to the cache's own conditional request and the stored response was served. */
  revalidated: boolean
  /** The stored response was served: a hit, after a 304, or as a stale-if-error fallback. */
  fromCache: boolean
  /** A stored response served past its freshness lifetime (`ttl` below zero). */
  stale: boolean
  /** The stored response had expired (`ttl` below zero). */
  isExpired: boolean
  /** `stored` in `Cache-Status` (RFC 9211 §2.5). */
  stored: boolean
  /** `ttl` in `Cache-Status`: seconds of freshness left, negative when stale (RFC 9211 §2.7). */
  ttl: number | undefined
  /** The entry's expiry on the front's clock, from `ttl` (whole seconds). */
  expires: number | undefined
  /** The `Age` field, in seconds. */
  age: number | undefined
  /** The object the front returned (a `Response`, or undici's `ResponseData`), for identity checks. */
  raw: unknown
}

/** One cache behind one front. */
export interface Front {
  name: string
  get(url: string, init?: FrontInit): Promise<FrontResponse>
  close(): Promise<void>
}

/** A front opened on a cache of its own, with that cache's inspection API and live settings. */
export interface CacheFront extends Front {
  readonly cache: Cache
  readonly settings: CacheSettings
  /**
   * Resolves once the cache serves no request (answers being stored until their write settled,
   * background refreshes included) and the store has committed what it accepted: what a test
   * awaits before it looks at the store, or checks that something did not happen.
   */
  settled(): Promise<void>
}

/** A way into the cache: opens a {@link CacheFront} on a fresh cache. */
export interface FrontKind {
  name: 'fetch' | 'dispatcher' | 'node:http'
  /** A cache on `options`, its policy clock `now` (ms since the epoch). */
  open(options: CacheOptions, now?: () => number): CacheFront
  /**
   * What a request rejects with when the origin has gone away, as the front without the cache would:
   * a refused connection, or a kept-alive connection the origin closed under it.
   */
  networkError: AssertPredicate
}

/** The fetch front: `createFetchFront()` on an engine of its own, as `createCachedFetch()` builds it. */
export const FETCH: FrontKind = {
  name: 'fetch',
  open(options, now = Date.now) {
    const { engine, owned } = createEngine(options, now)
    const cachedFetch = createFetchFront({ engine: () => engine, baseFetch: underlyingFetch })
    const cache = new Cache(engine, owned)
    return {
      name: 'fetch',
      cache,
      settings: engine.live.view,
      async get(url, init = {}) {
        const response = await cachedFetch(url, init as RequestInit)
        const normalized = fromFetch(response, now)
        agreesWithCacheInfo(response, normalized)
        return normalized
      },
      settled: () => settledCache(engine),
      close: () => cache.close(),
    }
  },
  networkError: TypeError,
}

/**
 * The dispatcher front: `undici.request()` through `new Agent().compose(createInterceptor(() => engine))`,
 * per-request options passed as the `cacheOptions` dispatch option.
 */
export const DISPATCHER: FrontKind = {
  name: 'dispatcher',
  open(options, now = Date.now) {
    const { engine, owned } = createEngine(options, now)
    const agent = new Agent().compose(createInterceptor(() => engine))
    const cache = new Cache(engine, owned)
    return {
      name: 'dispatcher',
      cache,
      settings: engine.live.view,
      get: (url, init = {}) => viaUndici(agent, url, init, now),
      settled: () => settledCache(engine),
      async close() {
        await agent.close()
        await cache.close()
      },
    }
  },
  networkError: (error: unknown) => ['ECONNREFUSED', 'UND_ERR_SOCKET'].includes((error as { code?: string }).code ?? ''),
}

/**
 * The node:http front: `http.request()` through the front over an engine of its own (no global
 * patch), on a keep-alive agent; per-request options in the `fetch-http-cache-options` header.
 */
export const NODE_HTTP: FrontKind = {
  name: 'node:http',
  open(options, now = Date.now) {
    const { engine, owned } = createEngine(options, now)
    const agent = new http.Agent({ keepAlive: true })
    const send = cachedRequest(http.request as RequestFunction, () => agent, { engine: () => engine })
    const cache = new Cache(engine, owned)
    return {
      name: 'node:http',
      cache,
      settings: engine.live.view,
      get: (url, init = {}) => viaNodeHttp(send, url, init, now),
      settled: () => settledCache(engine),
      async close() {
        agent.destroy()
        await cache.close()
      },
    }
  },
  networkError: (error: unknown) => ['ECONNREFUSED', 'ECONNRESET'].includes((error as { code?: string }).code ?? ''),
}

async function settledCache(engine: Engine): Promise<void> {
  await engine.inFlight.settled()
  await engine.capabilities.flush?.flush()
}

/** Every front a shared test runs through. */
export const FRONTS: readonly FrontKind[] = [FETCH, DISPATCHER, NODE_HTTP]

/** Registers `define` once per front, in a suite named `title [front]`. */
export function forEachFront(title: string, define: (front: FrontKind) => void): void {
  for (const front of FRONTS) describe(`${title} [${front.name}]`, () => define(front))
}

/** `createCachedFetch(options)`, as a {@link Front}. */
export function fetchFront(options: CacheOptions): Front {
  const cachedFetch = createCachedFetch(options)
  return {
    name: 'cached fetch',
    get: async (url, init = {}) => fromFetch(await cachedFetch(url, init as RequestInit), Date.now),
    close: () => cachedFetch.cache.close(),
  }
}

/** `undici.request()` through an Agent composed with the public `cacheInterceptor(options)`. */
export function undiciFront(options: CacheOptions): Front {
  const interceptor = cacheInterceptor(options)
  const agent = new Agent().compose(interceptor)
  return {
    name: 'undici.request + cacheInterceptor',
    get: (url, init = {}) => viaUndici(agent, url, init, Date.now),
    close: async () => {
      await agent.close()
      await interceptor.cache.close()
    },
  }
}

/** Reads a body to the end. */
export async function readAll(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Our member of a `Cache-Status` field value: the last one (RFC 9211 §2: each cache appends its own
 * after the members of the caches nearer the origin), or `undefined` when the last is not ours.
 */
export function ourMember(value: string | null | undefined): string | undefined {
  const last = (value ?? '').split(',').at(-1)?.trim()
  return last?.split(';')[0] === 'fetch-http-cache' ? last : undefined
}

/** The parameters of our `Cache-Status` member (RFC 9211 §2), as a map; empty when there is none. */
export function parseCacheStatus(value: string | null | undefined): Map<string, string | true> {
  const [, ...params] = (ourMember(value) ?? '').split(';').map((s) => s.trim())
  return new Map(
    params.map((p): [string, string | true] => {
      const i = p.indexOf('=')
      return i === -1 ? [p, true] : [p.slice(0, i), p.slice(i + 1)]
    }),
  )
}

function fromFetch(response: Response, now: () => number): FrontResponse {
  const body = response.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() })
  return {
    ...fromCacheStatus(response.headers.get('cache-status'), now),
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
    header: (name) => response.headers.get(name) ?? undefined,
    body: body as unknown as AsyncIterable<Uint8Array>,
    text: () => response.text(),
    cancel: () => body.cancel(),
    age: ageOf(response.headers.get('age')),
    raw: response,
  }
}

async function viaUndici(dispatcher: Dispatcher, url: string, init: FrontInit, now: () => number): Promise<FrontResponse> {
  const { method = 'GET', headers, body, signal, cacheOptions } = init
  const options = {
    dispatcher,
    method: method as Dispatcher.HttpMethod,
    ...(headers === undefined ? {} : { headers: dispatchHeaders(headers) }),
    ...(body === undefined ? {} : { body }),
    ...(signal === undefined ? {} : { signal }),
    ...(cacheOptions === undefined ? {} : { cacheOptions }),
  }
  const response = await request(url, options as Parameters<typeof request>[1])
  const header = (name: string) => joined(response.headers[name.toLowerCase()])
  const status = header('cache-status') ?? null
  let headersView: Headers | undefined
  return {
    ...fromCacheStatus(status, now),
    status: response.statusCode,
    statusText: (response as { statusText?: string }).statusText ?? '',
    // Built on first use: some tests send field values a Headers object would refuse.
    get headers() {
      headersView ??= toHeaders(response.headers)
      return headersView
    },
    header,
    body: response.body,
    text: () => response.body.text(),
    // undici's body emits RequestAbortedError when destroyed unread, with or without the cache.
    cancel: async () => void response.body.on('error', () => {}).destroy(),
    age: ageOf(header('age') ?? null),
    raw: response,
  }
}

type CacheStatusFacts = Pick<
  FrontResponse,
  'cacheStatus' | 'hit' | 'revalidated' | 'fromCache' | 'stale' | 'isExpired' | 'stored' | 'ttl' | 'expires'
>

/** What `Cache-Status` says about a response (RFC 9211 §2). */
function fromCacheStatus(cacheStatus: string | null, now: () => number): CacheStatusFacts {
  const params = parseCacheStatus(cacheStatus)
  const fwd = params.get('fwd')
  const hit = params.has('hit')
  // §2.2: the cache went forward (the entry was stale, or the request asked) and got a 304.
  const revalidated = params.get('fwd-status') === '304' && (fwd === 'stale' || fwd === 'request')
  const fromCache = hit || revalidated || params.get('detail') === 'stale-if-error'
  const ttl = params.has('ttl') ? Number(params.get('ttl')) : undefined
  return {
    cacheStatus,
    hit,
    revalidated,
    fromCache,
    stale: fromCache && !revalidated && ttl !== undefined && ttl < 0,
    isExpired: fromCache && ttl !== undefined && ttl < 0,
    stored: params.has('stored'),
    ttl,
    expires: ttl === undefined ? undefined : now() + ttl * 1000,
  }
}

/**
 * On the fetch front, `cacheInfo()` and `Cache-Status` must tell the same story: that is what lets one
 * test, reading `Cache-Status`, mean the same on both fronts.
 */
function agreesWithCacheInfo(response: Response, normalized: FrontResponse): void {
  const info = cacheInfo(response)
  const said = { fromCache: normalized.fromCache, revalidated: normalized.revalidated, stale: normalized.stale }
  const known = { fromCache: info?.fromCache ?? false, revalidated: info?.revalidated ?? false, stale: info?.stale ?? false }
  assert.deepEqual(said, known, `Cache-Status "${normalized.cacheStatus}" disagrees with cacheInfo()`)
}

/** Request fields as undici takes them; pairs repeating a name become several field lines. */
function dispatchHeaders(init: HeadersInit): Record<string, string | string[]> {
  if (!Array.isArray(init)) return init instanceof Headers ? Object.fromEntries(init) : (init as Record<string, string>)
  const record: Record<string, string[]> = {}
  for (const [name, value] of init as [string, string][]) {
    const key = name.toLowerCase()
    record[key] = [...(record[key] ?? []), value]
  }
  return record
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value
}

function ageOf(value: string | null): number | undefined {
  return value === null ? undefined : Number(value)
}

function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers()
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v)
  }
  return headers
}

function viaNodeHttp(send: RequestFunction, url: string, init: FrontInit, now: () => number): Promise<FrontResponse> {
  const { method = 'GET', headers, body, signal, cacheOptions } = init
  const fields: Record<string, string | string[]> = headers === undefined ? {} : dispatchHeaders(headers)
  if (cacheOptions !== undefined) fields['fetch-http-cache-options'] = JSON.stringify(cacheOptions)
  // Node sends a DELETE or GET body without a length unless told one (fetch always tells it).
  if (body !== undefined) fields['content-length'] = String(Buffer.byteLength(body))
  return new Promise<FrontResponse>((resolve, reject) => {
    const req = send(url, { method, headers: fields, ...(signal ? { signal } : {}) })
    req.once('error', reject)
    req.once('response', (res: IncomingMessage) => {
      res.on('error', () => {}) // read through `body`, which rethrows
      const header = (name: string) => joined(res.headers[name.toLowerCase()])
      const status = header('cache-status') ?? null
      let headersView: Headers | undefined
      const normalized: FrontResponse = {
        ...fromCacheStatus(status, now),
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? '',
        get headers() {
          headersView ??= toHeaders(res.headers)
          return headersView
        },
        header,
        // A node:http caller learns of its abort from the request's error; the response only says 'aborted'.
        body: abortedAs(res, signal),
        text: () => readAll(abortedAs(res, signal)),
        cancel: async () => void res.destroy(),
        age: ageOf(header('age') ?? null),
        raw: res,
      }
      const info = cacheInfo(res)
      const known = { fromCache: info?.fromCache ?? false, revalidated: info?.revalidated ?? false, stale: info?.stale ?? false }
      const said = { fromCache: normalized.fromCache, revalidated: normalized.revalidated, stale: normalized.stale }
      if (info) assert.deepEqual(said, known, `Cache-Status "${normalized.cacheStatus}" disagrees with cacheInfo()`)
      resolve(normalized)
    })
    req.end(body)
  })
}

async function* abortedAs(res: IncomingMessage, signal: AbortSignal | undefined): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of res) yield chunk as Uint8Array
  } catch (error) {
    throw signal?.aborted ? signal.reason : error
  }
}
