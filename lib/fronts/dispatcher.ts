import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'
import { debug, type Engine, type KeyedRequest } from '../engine/engine.js'
import { freshenFromHead, notModifiedMatches, storableHeaders } from '../engine/revalidation.js'
import { type CachePlan, decideCached, decideWrite, isOriginError, mayServeOnError, planRequest } from '../policy/actions.js'
import { conditionalHeaders, currentAge } from '../policy/freshness.js'
import { bodyDigest } from '../request/key.js'
import type { CacheEntry } from '../stores/entry.js'
import { concat } from './body.js'
import { bypassStatus, cacheStatus, decode, identityBody, ttlSeconds } from './response.js'

type Handler = Dispatcher.DispatchHandler
type Controller = Dispatcher.DispatchController
type Dispatch = Dispatcher.Dispatch

/**
 * The dispatcher front (DESIGN §2): an undici interceptor over the same engine as the fetch front,
 * for `undici.request()`, `stream()`, undici's `fetch` and any fetch that reads the global dispatcher.
 * Bodies are stored without content-coding and served with it removed (dispatchers do not decode).
 */
export function createInterceptor(resolveEngine: () => Engine | undefined): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    const engine = resolveEngine()
    if (!engine || opts.upgrade || opts.method === 'CONNECT') return dispatch(opts, handler)
    let prepared: Prepared | undefined
    try {
      prepared = prepare(engine, opts)
    } catch (error) {
      engine.report(error, 'key')
    }
    if (!prepared) return dispatch(opts, handler)
    if (prepared.plan.kind === 'bypass') {
      debug('bypass %s %s: %s', prepared.method, prepared.url, prepared.plan.reason)
      return dispatch(opts, new BypassHandler(handler, engine, prepared, prepared.plan.reason))
    }
    const exchange: Exchange = { engine, dispatch, opts, keyed: prepared.keyed as KeyedRequest, plan: prepared.plan }
    run(exchange, handler).catch((error) => {
      engine.report(error, 'interceptor')
      handler.onResponseError?.(idleController(), error instanceof Error ? error : new Error(String(error)))
    })
    return true
  }
}

interface Prepared {
  method: string
  url: string
  headers: Headers
  plan: ReturnType<typeof planRequest>
  keyed: KeyedRequest | undefined
}

function prepare(engine: Engine, opts: Dispatcher.DispatchOptions): Prepared | undefined {
  const method = (opts.method ?? 'GET').toUpperCase()
  const url = new URL(opts.path, opts.origin ?? undefined).href
  const headers = toHeaders(opts.headers)
  const body = opts.body
  const keyable = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array
  const digest = keyable
    ? bodyDigest((body ?? undefined) as string | Uint8Array | undefined, headers.get('content-type'), engine.settings.ignored)
    : undefined
  const plan = planRequest(
    { method, url, headers, mode: undefined, options: {}, unkeyableBody: digest === undefined },
    engine.settings,
  )
  if (plan.kind === 'bypass') return { method, url, headers, plan, keyed: undefined }
  const bodyKey = digest as string
  const keyed: KeyedRequest = { method, url, headers, bodyDigest: bodyKey, baseKey: engine.keyFor(method, url, headers, bodyKey) }
  return { method, url, headers, plan, keyed }
}

/** One request the cache takes part in. */
interface Exchange {
  engine: Engine
  /** The next dispatch in the chain (towards the origin). */
  dispatch: Dispatch
  /** The caller's options, without the cache's conditional headers. */
  opts: Dispatcher.DispatchOptions
  keyed: KeyedRequest
  plan: CachePlan
}

async function run(exchange: Exchange, handler: Handler) {
  const { engine, dispatch, opts, keyed, plan } = exchange
  const entry = plan.read ? await engine.lookupFor(keyed) : undefined
  const now = engine.now()
  const action = decideCached(plan, entry, engine.settings, now)
  debug('%s %s (dispatcher): %s', keyed.method, keyed.url, action.kind)
  switch (action.kind) {
    case 'serve':
      return serve(
        handler,
        entry as CacheEntry,
        keyed.method,
        now,
        cacheStatus({ hit: true, ttl: ttlSeconds(entry as CacheEntry, now) }),
      )
    case 'serve-stale-and-refresh': {
      if (!engine.refreshing.has(keyed.baseKey)) {
        engine.refreshing.add(keyed.baseKey)
        const done = () => engine.refreshing.delete(keyed.baseKey)
        const conditional = conditionalHeaders(new Headers((entry as CacheEntry).headers))
        dispatch(withHeaders(opts, conditional), new StoringHandler(discardHandler(done), exchange, entry, true))
      }
      return serve(
        handler,
        entry as CacheEntry,
        keyed.method,
        now,
        cacheStatus({ hit: true, ttl: ttlSeconds(entry as CacheEntry, now), detail: 'stale-while-revalidate' }),
      )
    }
    case 'not-cached':
      return serveGenerated(handler, 504, 'Not Cached', cacheStatus({ fwd: 'miss', detail: 'only-if-cached' }))
    case 'revalidate':
      dispatch(withHeaders(opts, action.headers), new StoringHandler(handler, exchange, entry, true))
      return
    case 'fetch':
      dispatch(opts, new StoringHandler(handler, exchange, entry, false))
      return
    default:
      return action satisfies never
  }
}

/**
 * Between the origin and the caller's handler: forwards the response while recording it, stores it
 * at the end, and swaps in the stored entry on a 304 (or on a failure stale-if-error covers).
 */
class StoringHandler implements Handler {
  readonly #handler: Handler
  readonly #exchange: Exchange
  readonly #entry: CacheEntry | undefined
  readonly #conditional: boolean
  readonly #requestTime: number
  #responseTime = 0
  #status = 0
  #statusText = ''
  #headers: [string, string][] = []
  #chunks: Buffer[] | undefined
  #size = 0
  #expires: number | null = null
  /**
   * Set when the origin's answer is not passed on as is: a 304 or a failure stale-if-error covers
   * (the stored entry is served instead), or a 304 about another response (asked again, unconditionally).
   */
  #swap: 'revalidated' | 'stale' | 'retry' | undefined
  /** A HEAD request working on the stored GET response: the origin's answer refreshes it (RFC 9111 §4.3.5). */
  #headOfGet = false
  #invalidation: Promise<void> | undefined
  #started = false

  constructor(handler: Handler, exchange: Exchange, entry: CacheEntry | undefined, conditional: boolean) {
    this.#handler = handler
    this.#exchange = exchange
    this.#entry = entry
    this.#conditional = conditional
    this.#requestTime = exchange.engine.now()
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.#handler.onRequestStart?.(controller, context)
  }

  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    const { engine, keyed, plan } = this.#exchange
    const settings = engine.settings
    this.#responseTime = engine.now()
    this.#status = statusCode
    this.#statusText = statusMessage ?? ''
    this.#headers = toPairs(headers)
    const responseHeaders = new Headers(this.#headers)
    const entry = this.#entry
    if (entry && this.#conditional && statusCode === 304) {
      // rfc: RFC 9111 §4.3.4: a 304 naming another strong validator does not describe what we hold.
      this.#swap = notModifiedMatches(entry, responseHeaders) ? 'revalidated' : 'retry'
      return
    }
    if (entry && isOriginError(statusCode, settings) && mayServeOnError(plan, entry, settings, this.#responseTime)) {
      this.#swap = 'stale'
      return
    }
    // An unsafe method the cache takes part in (allowableMethods) still invalidates (RFC 9111 §4.4).
    this.#invalidation = engine.invalidateAfter(keyed, statusCode, responseHeaders)
    let store = false
    if (entry && keyed.method === 'HEAD' && entry.method === 'GET') {
      this.#headOfGet = true
    } else {
      const facts = {
        status: statusCode,
        headers: responseHeaders,
        requestTime: this.#requestTime,
        responseTime: this.#responseTime,
      }
      const decision = decideWrite(plan, facts, settings, this.#responseTime)
      store = decision.store && Number(responseHeaders.get('content-length') ?? 0) <= settings.maxEntrySize
      if (store && settings.filter) {
        try {
          const response = new Response(null, { status: Math.max(statusCode, 200), headers: responseHeaders })
          store = settings.filter(response) !== false
        } catch (error) {
          engine.report(error, 'filter')
          store = false
        }
      }
      if (decision.store) this.#expires = decision.expires
    }
    this.#chunks = store ? [] : undefined
    this.#started = true
    const status = cacheStatus({ fwd: plan.read ? 'miss' : 'request', fwdStatus: statusCode, stored: store })
    this.#handler.onResponseStart?.(controller, statusCode, { ...headers, 'cache-status': status }, statusMessage)
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.#swap) return
    if (this.#chunks) {
      this.#size += chunk.byteLength
      if (this.#size > this.#exchange.engine.settings.maxEntrySize) this.#chunks = undefined
      else this.#chunks.push(chunk)
    }
    this.#handler.onResponseData?.(controller, chunk)
  }

  onResponseEnd(controller: Controller, trailers: IncomingHttpHeaders): void {
    this.#finish(controller, trailers).catch((error) => {
      this.#exchange.engine.report(error, 'write')
      this.#handler.onResponseError?.(controller, error instanceof Error ? error : new Error(String(error)))
    })
  }

  async #finish(controller: Controller, trailers: IncomingHttpHeaders): Promise<void> {
    const { engine, keyed, plan } = this.#exchange
    const entry = this.#entry
    if (this.#swap === 'retry') {
      const { dispatch, opts } = this.#exchange
      dispatch(opts, new StoringHandler(this.#handler, this.#exchange, undefined, false))
      return
    }
    if (this.#swap === 'revalidated' && entry) {
      const renewed = await engine.renew(plan, entry, new Headers(this.#headers), this.#requestTime, this.#responseTime)
      const ttl = ttlSeconds(renewed.entry, this.#responseTime)
      const status = cacheStatus({ fwd: 'stale', fwdStatus: 304, stored: renewed.stored, ttl })
      serve(this.#handler, renewed.entry, keyed.method, this.#responseTime, status, controller)
      return
    }
    if (this.#swap === 'stale' && entry) {
      const status = cacheStatus({
        hit: true,
        fwd: 'stale',
        fwdStatus: this.#status,
        ttl: ttlSeconds(entry, this.#responseTime),
        detail: 'stale-if-error',
      })
      serve(this.#handler, entry, keyed.method, this.#responseTime, status, controller)
      return
    }
    await this.#invalidation
    if (this.#headOfGet && entry && this.#status === 200 && plan.write) {
      await freshenFromHead(engine, plan, entry, new Headers(this.#headers), this.#requestTime, this.#responseTime)
    }
    if (this.#chunks) {
      const raw = concat(this.#chunks, this.#size)
      const coding = this.#headers.find(([name]) => name === 'content-encoding')?.[1]
      let body: Uint8Array | undefined
      try {
        body = decode(raw, coding)
      } catch (error) {
        engine.report(error, 'decode')
      }
      if (body) {
        await engine.save(keyed, {
          responseUrl: keyed.url,
          status: this.#status,
          statusText: this.#statusText,
          headers: storableHeaders(new Headers(this.#headers), engine.settings.cacheControl),
          redirected: false,
          body,
          encoding: 'identity',
          requestTime: this.#requestTime,
          responseTime: this.#responseTime,
          createdAt: this.#responseTime,
          expires: this.#expires,
        })
      }
    }
    this.#handler.onResponseEnd?.(controller, trailers)
  }

  onResponseError(controller: Controller, error: Error): void {
    this.#chunks = undefined
    const { engine, keyed, plan } = this.#exchange
    const entry = this.#entry
    const now = engine.now()
    if (!this.#started && !controller.aborted && entry && mayServeOnError(plan, entry, engine.settings, now)) {
      const status = cacheStatus({ hit: true, ttl: ttlSeconds(entry, now), detail: 'stale-if-error' })
      serve(this.#handler, entry, keyed.method, now, status, controller)
      return
    }
    this.#handler.onResponseError?.(controller, error)
  }
}

/**
 * Passes a request the cache stays out of through, saying so in `Cache-Status` (RFC 9211); a
 * successful unsafe method still invalidates its URL (RFC 9111 §4.4).
 */
class BypassHandler implements Handler {
  readonly #handler: Handler
  readonly #engine: Engine
  readonly #request: Prepared
  readonly #reason: string
  #invalidation: Promise<void> | undefined

  constructor(handler: Handler, engine: Engine, request: Prepared, reason: string) {
    this.#handler = handler
    this.#engine = engine
    this.#request = request
    this.#reason = reason
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.#handler.onRequestStart?.(controller, context)
  }

  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    this.#invalidation = this.#engine.invalidateAfter(this.#request, statusCode, new Headers(toPairs(headers)))
    // rfc: with cacheControl on, an RFC 9211 §2.8 detail says why the cache stayed out of the way.
    const status = bypassStatus(this.#reason, statusCode, this.#engine.settings.cacheControl)
    this.#handler.onResponseStart?.(controller, statusCode, { ...headers, 'cache-status': status }, statusMessage)
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.#handler.onResponseData?.(controller, chunk)
  }

  onResponseEnd(controller: Controller, trailers: IncomingHttpHeaders): void {
    const end = () => this.#handler.onResponseEnd?.(controller, trailers)
    if (this.#invalidation) this.#invalidation.then(end)
    else end()
  }

  onResponseError(controller: Controller, error: Error): void {
    this.#handler.onResponseError?.(controller, error)
  }
}

/** A controller for responses the cache generates itself: nothing to pause, abort stops delivery. */
class ServeController implements Controller {
  #aborted = false
  #reason: Error | null = null
  #paused = false
  get aborted() {
    return this.#aborted
  }
  get paused() {
    return this.#paused
  }
  get reason() {
    return this.#reason
  }
  abort(reason: Error) {
    this.#aborted = true
    this.#reason = reason
  }
  pause() {
    this.#paused = true
  }
  resume() {
    this.#paused = false
  }
}

function idleController(): Controller {
  return new ServeController()
}

/** Delivers a stored entry to a handler, body without content-coding. */
function serve(handler: Handler, entry: CacheEntry, method: string, now: number, status: string, started?: Controller): void {
  const controller = started ?? new ServeController()
  if (!started) {
    handler.onRequestStart?.(controller, {})
    if (controller.aborted) return
  }
  const body = method === 'HEAD' || entry.status === 204 || entry.status === 304 ? undefined : Buffer.from(identityBody(entry))
  const headers: IncomingHttpHeaders = {}
  for (const [name, value] of entry.headers) {
    if (name === 'content-encoding' || name === 'content-length' || name === 'transfer-encoding' || name === 'age') continue
    const existing = headers[name]
    if (existing === undefined) headers[name] = value
    else headers[name] = Array.isArray(existing) ? [...existing, value] : [existing, value]
  }
  if (body || method === 'HEAD') headers['content-length'] = String(body ? body.byteLength : identityBody(entry).byteLength)
  headers.age = String(Math.floor(currentAge(entry, now) / 1000))
  headers['cache-status'] = status
  handler.onResponseStart?.(controller, entry.status, headers, entry.statusText)
  if (controller.aborted) return
  if (body && body.byteLength > 0) handler.onResponseData?.(controller, body)
  if (controller.aborted) return
  handler.onResponseEnd?.(controller, {})
}

function serveGenerated(handler: Handler, statusCode: number, text: string, status: string): void {
  const controller = new ServeController()
  handler.onRequestStart?.(controller, {})
  if (controller.aborted) return
  const body = Buffer.from(text)
  handler.onResponseStart?.(
    controller,
    statusCode,
    { 'content-type': 'text/plain', 'content-length': String(body.byteLength), 'cache-status': status },
    text,
  )
  if (controller.aborted) return
  handler.onResponseData?.(controller, body)
  handler.onResponseEnd?.(controller, {})
}

/** A handler that reads and drops a response: background refreshes store as a side effect. */
function discardHandler(done: () => void): Handler {
  return {
    onResponseEnd: done,
    onResponseError: done,
  }
}

function withHeaders(opts: Dispatcher.DispatchOptions, extra: Record<string, string>): Dispatcher.DispatchOptions {
  const headers = toHeaders(opts.headers)
  for (const [name, value] of Object.entries(extra)) headers.set(name, value)
  return { ...opts, headers: Object.fromEntries(headers) }
}

/** undici accepts headers as an object, a flat `[name, value, …]` array or an iterable of pairs. */
function toHeaders(raw: Dispatcher.DispatchOptions['headers']): Headers {
  const headers = new Headers()
  if (!raw) return headers
  if (Array.isArray(raw)) {
    if (raw.length > 0 && Array.isArray(raw[0])) {
      for (const pair of raw as unknown as [string, string][]) headers.append(String(pair[0]), String(pair[1]))
    } else {
      for (let i = 0; i + 1 < raw.length; i += 2) headers.append(String(raw[i]), String(raw[i + 1]))
    }
    return headers
  }
  if (typeof (raw as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [name, value] of raw as Iterable<[string, string | string[]]>) appendValue(headers, name, value)
    return headers
  }
  for (const [name, value] of Object.entries(raw as Record<string, string | string[] | undefined>))
    appendValue(headers, name, value)
  return headers
}

function appendValue(headers: Headers, name: string, value: string | string[] | number | undefined): void {
  if (value === undefined) return
  if (Array.isArray(value)) for (const v of value) headers.append(name, v)
  else headers.append(name, String(value))
}

function toPairs(headers: IncomingHttpHeaders): [string, string][] {
  const pairs: [string, string][] = []
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    if (Array.isArray(value)) for (const v of value) pairs.push([name.toLowerCase(), v])
    else pairs.push([name.toLowerCase(), String(value)])
  }
  return pairs
}
