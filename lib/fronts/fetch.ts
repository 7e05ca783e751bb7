import { debug, type Engine, type KeyedRequest } from '../engine/engine.js'
import { freshenFromHead, notModifiedMatches, satisfiesConditional, storableHeaders } from '../engine/revalidation.js'
import { isFetchCacheError } from '../errors.js'
import {
  type CachePlan,
  decideCached,
  decideWrite,
  isExpired,
  isOriginError,
  mayServeOnError,
  planRequest,
} from '../policy/actions.js'
import { conditionalHeaders, currentAge, hasValidator, isConditionalRequest } from '../policy/freshness.js'
import { type CacheRequestInit, originInit, type ParsedRequest, parseRequest } from '../request/from-fetch.js'
import { redactUrl } from '../request/key.js'
import type { CacheEntry } from '../stores/entry.js'
import { isPromise } from '../stores/store.js'
import { abortable, fanOut, recordBody } from './body.js'
import {
  bypassStatus,
  type CacheInfo,
  cachedResponse,
  cacheInfo,
  cacheStatus,
  infoFor,
  responseFromEntry,
  ttlSeconds,
} from './response.js'

/** A fetch function (the standard signature, plus `init.cacheOptions`). */
export type FetchFunction = (input: string | URL | Request, init?: CacheRequestInit) => Promise<Response>

/** What the fetch front needs from whoever owns it (a session, or the global patch). */
export interface FetchFrontDeps {
  /** The engine for this call, or `undefined` when caching is off for it (e.g. inside `disabled()`). */
  engine(): Engine | undefined
  /** The fetch that reaches the origin. */
  baseFetch(): FetchFunction
  /** A dispatcher that does not cache, so a request is never looked up or stored twice. */
  dispatcher(): unknown
}

/** How the origin was involved, for `Cache-Status` (RFC 9211 §2.2). */
type Forward = 'miss' | 'stale' | 'request'

/**
 * The fetch front (DESIGN §2): a fresh hit is answered here, without undici; everything else goes to
 * the origin through `baseFetch` with an uncached dispatcher, and what comes back is stored.
 */
export function createFetchFront(deps: FetchFrontDeps): FetchFunction {
  return async function fetch(input, init) {
    const engine = deps.engine()
    if (!engine) return deps.baseFetch()(input, originInit(init, deps.dispatcher(), input))

    let request: ParsedRequest
    try {
      const parsed = parseRequest(input, init, engine.settings.ignored)
      request = isPromise(parsed) ? await parsed : parsed
    } catch (error) {
      if (isFetchCacheError(error)) throw error // a bad cacheOptions: the caller's mistake, said at once
      return deps.baseFetch()(input, originInit(init, deps.dispatcher(), input)) // fetch raises its own error for a bad URL
    }
    if (request.signal?.aborted) throw request.signal.reason

    const settings = engine.settings
    const facts = {
      method: request.method,
      url: request.url,
      headers: request.headers,
      mode: request.mode,
      options: request.options,
      unkeyableBody: request.bodyDigest === undefined,
    }
    const plan = planRequest(facts, settings)
    if (plan.kind === 'bypass') {
      debug('bypass %s %s: %s', request.method, request.url, plan.reason)
      return bypass({ engine, deps, input, init, request }, plan.reason)
    }

    let keyed: KeyedRequest
    try {
      const bodyDigest = request.bodyDigest as string
      keyed = { ...request, bodyDigest, baseKey: engine.keyFor(request.method, request.url, request.headers, bodyDigest) }
    } catch (error) {
      engine.report(error, 'key')
      return bypass({ engine, deps, input, init, request }, 'key failed')
    }
    const call: Call = { engine, deps, input, init, request, keyed, plan }
    let entry: CacheEntry | undefined
    if (plan.read) {
      const found = engine.lookupFor(keyed)
      entry = isPromise(found) ? await found : found
    }
    const now = engine.now()
    const action = decideCached(plan, entry, settings, now)
    debug('%s %s: %s', request.method, request.url, action.kind)
    switch (action.kind) {
      case 'serve':
        return serveOrRefetch(call, entry as CacheEntry, now, { stale: action.stale })
      case 'serve-stale-and-refresh':
        if (plan.write) refreshInBackground(call, entry as CacheEntry) // readOnly could not store the refresh
        return serveOrRefetch(call, entry as CacheEntry, now, { stale: true, detail: 'stale-while-revalidate' })
      case 'not-cached':
        return notCached(call, now)
      case 'revalidate':
        return fromOrigin(call, entry, action.headers, request.signal, forwardReason(call, entry, now))
      case 'fetch':
        if (!entry && settings.coalesce) return coalesced(call)
        return fromOrigin(call, entry, undefined, request.signal, forwardReason(call, entry, now))
      default:
        return action satisfies never
    }
  }
}

/** One request through the front, before a key exists. */
interface Pass {
  engine: Engine
  deps: FetchFrontDeps
  input: string | URL | Request
  init: CacheRequestInit | undefined
  request: ParsedRequest
}

/** One request the cache takes part in. */
interface Call extends Pass {
  keyed: KeyedRequest
  plan: CachePlan
}

/** Why a request went to the origin (RFC 9211 `fwd`): not read, revalidating a fresh entry on request, stale, or a miss. */
function forwardReason(call: Call, entry: CacheEntry | undefined, now: number): Forward {
  // RFC 9211 §2.2: `request` when the entry was fresh but the request (or a setting) asked to go on.
  if (!call.plan.read || (entry && !isExpired(entry, now))) return 'request'
  return entry ? 'stale' : 'miss'
}

/** Sends the request to the origin: the caller's init without the cache's fields, an uncached dispatcher. */
function send(call: Pass, conditional: Record<string, string> | undefined, signal: AbortSignal | undefined): Promise<Response> {
  const init: RequestInit = originInit(call.init, call.deps.dispatcher(), call.input) ?? {}
  if (conditional) {
    const headers = new Headers(call.request.headers)
    for (const name in conditional) headers.set(name, conditional[name] as string)
    init.headers = headers
    // Fetch §4.5 turns a request with If-None-Match / If-Modified-Since into cache mode 'no-store',
    // which adds `Pragma: no-cache` and `Cache-Control: no-cache`; undici has no HTTP cache of its
    // own, so 'force-cache' changes nothing but keeps our revalidation free of those headers.
    ;(init as { cache?: string }).cache = 'force-cache'
  }
  if (signal) init.signal = signal
  return call.deps.baseFetch()(call.input, init)
}

/** The request goes past the cache; a successful unsafe method still invalidates (RFC 9111 §4.4). */
async function bypass(pass: Pass, reason: string): Promise<Response> {
  const { engine, request } = pass
  const response = await send(pass, undefined, request.signal)
  await engine.invalidateAfter(request, response.status, response.headers)
  // rfc: with cacheControl on, an RFC 9211 §2.8 detail says why the cache stayed out of the way.
  const status = bypassStatus(reason, response.status, engine.settings.cacheControl)
  return withCacheStatus(response, status, infoFor(undefined, engine.now(), false))
}

/** A copy of an origin response carrying `Cache-Status` and cache metadata (fetch's own headers are immutable). */
function withCacheStatus(response: Response, status: string, info: CacheInfo): Response {
  const headers = new Headers(response.headers)
  headers.set('cache-status', status)
  const init = { status: response.status, statusText: response.statusText, headers }
  return cachedResponse(response.body, init, { url: response.url, redirected: response.redirected, type: response.type }, info)
}

/**
 * Serves a stored entry; one that cannot be served (say, an unknown content-coding) is dropped and
 * fetched anew. Not `async`: a hit returns its Response without another promise.
 */
function serveOrRefetch(call: Call, entry: CacheEntry, now: number, how: ServeHow): Response | Promise<Response> {
  try {
    return serveEntry(call, entry, now, how)
  } catch (error) {
    call.engine.report(error, 'decode')
    return Promise.resolve(call.engine.remove([entry.key])).then(() =>
      fromOrigin(call, undefined, undefined, call.request.signal, 'miss'),
    )
  }
}

interface ServeHow {
  stale?: boolean
  revalidated?: boolean
  detail?: string
  fwd?: Forward
  fwdStatus?: number
  stored?: boolean
}

function serveEntry(call: Call, entry: CacheEntry, now: number, how: ServeHow): Response {
  const age = Math.floor(currentAge(entry, now) / 1000)
  const ttl = ttlSeconds(entry, now)
  const status =
    how.fwd === undefined
      ? cacheStatus({ hit: true, ttl, detail: how.detail })
      : cacheStatus({ fwd: how.fwd, fwdStatus: how.fwdStatus, stored: how.stored ?? false, ttl, detail: how.detail })
  // Pairs, not a Headers object: the Response constructor validates and copies them once.
  const headers: [string, string][] = []
  for (const pair of entry.headers) if (pair[0] !== 'age' && pair[0] !== 'cache-status') headers.push(pair)
  headers.push(['age', String(age)], ['cache-status', status])
  const info = infoFor(entry, now, true, how.revalidated ?? false, how.stale ?? false)
  const { request } = call
  if (isConditionalRequest(request.headers) && satisfiesConditional(request.headers, entry)) {
    // The caller already holds this representation: tell it so, without the body (RFC 9111 §4.3.2).
    const omitted = new Set(['content-length', 'content-encoding', 'content-type'])
    const init = { status: 304, statusText: 'Not Modified', headers: headers.filter(([name]) => !omitted.has(name)) }
    return cachedResponse(null, init, { url: entry.responseUrl, redirected: entry.redirected }, info)
  }
  return responseFromEntry(entry, headers, info, request.signal, request.method)
}

/** `only-if-cached` with nothing usable stored: RFC 9111 §5.2.1.7's 504. */
function notCached(call: Call, now: number): Response {
  const init = {
    status: 504,
    statusText: 'Not Cached',
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'cache-status': cacheStatus({ fwd: 'miss', detail: 'only-if-cached' }),
    },
  }
  return cachedResponse('Not Cached', init, { url: call.request.url, redirected: false }, infoFor(undefined, now, false))
}

/**
 * Sends the request to the origin (conditionally when `conditional` is given) and stores what comes
 * back. A 304 refreshes `entry`; a failure falls back to `entry` when stale-if-error allows.
 */
async function fromOrigin(
  call: Call,
  entry: CacheEntry | undefined,
  conditional: Record<string, string> | undefined,
  signal: AbortSignal | undefined,
  fwd: Forward,
): Promise<Response> {
  const { engine, plan } = call
  const requestTime = engine.now()
  let response: Response
  try {
    response = await send(call, conditional, signal)
  } catch (error) {
    const now = engine.now()
    if (entry && !signal?.aborted && mayServeOnError(plan, entry, engine.settings, now)) {
      debug('network error, serving stale %s: %s', call.request.url, error)
      return serveOrRefetch(call, entry, now, { stale: isExpired(entry, now), detail: 'stale-if-error', fwd })
    }
    throw error
  }
  const responseTime = engine.now()
  const settings = engine.settings

  // RFC 9111 §4.3.4: a 304 to our conditional request freshens the stored entry, every time. An
  // origin that answers 304 to a plain request means the same (requests-cache: test_304_not_modified);
  // only a 304 to the caller's own conditional request is theirs to see.
  if (response.status === 304 && entry && (conditional || !isConditionalRequest(call.request.headers))) {
    await response.body?.cancel()
    // rfc: RFC 9111 §4.3.4: a 304 naming another strong validator does not describe what we hold:
    // ask again, unconditionally.
    if (!notModifiedMatches(entry, response.headers)) return fromOrigin(call, undefined, undefined, signal, fwd)
    const renewed = await engine.renew(plan, entry, response.headers, requestTime, responseTime)
    return serveOrRefetch(call, renewed.entry, responseTime, { revalidated: true, fwd, fwdStatus: 304, stored: renewed.stored })
  }
  if (entry && isOriginError(response.status, settings) && mayServeOnError(plan, entry, settings, responseTime)) {
    debug('origin %d, serving stale %s', response.status, call.request.url)
    await response.body?.cancel()
    const how = { stale: isExpired(entry, responseTime), detail: 'stale-if-error', fwd, fwdStatus: response.status }
    return serveOrRefetch(call, entry, responseTime, how)
  }
  // rfc: a HEAD answered by the origin while we hold a GET response: refresh that response (RFC 9111 §4.3.5).
  if (entry && call.keyed.method === 'HEAD' && entry.method === 'GET') {
    if (response.status === 200 && plan.write) {
      await freshenFromHead(engine, plan, entry, response.headers, requestTime, responseTime)
    }
    return withCacheStatus(response, cacheStatus({ fwd, fwdStatus: response.status }), infoFor(undefined, responseTime, false))
  }
  // An unsafe method the cache takes part in (allowableMethods) still invalidates (RFC 9111 §4.4).
  await engine.invalidateAfter(call.request, response.status, response.headers)
  return storeAndPass(call, response, requestTime, responseTime, fwd)
}

/** Whether the caller made the request conditional itself (RFC 9110 §13.1). */
/** Passes an origin response to the caller, recording its body to store it when read to the end. */
async function storeAndPass(
  call: Call,
  response: Response,
  requestTime: number,
  responseTime: number,
  fwd: Forward,
): Promise<Response> {
  const { engine, keyed, plan } = call
  const settings = engine.settings
  const decision = decideWrite(
    plan,
    { status: response.status, headers: response.headers, requestTime, responseTime, redirected: response.redirected },
    settings,
    responseTime,
  )
  let store = decision.store
  let reason = decision.store ? 'storing' : decision.reason
  if (store && settings.filter) {
    try {
      store = settings.filter(response) !== false
    } catch (error) {
      engine.report(error, 'filter')
      store = false
    }
    if (!store) reason = 'filtered'
  }
  if (store && Number(response.headers.get('content-length') ?? 0) > settings.maxEntrySize) {
    store = false
    reason = 'larger than maxEntrySize'
  }
  debug('origin %d for %s: %s', response.status, keyed.url, reason)

  const headers = new Headers(response.headers)
  const ttl =
    store && decision.store && decision.expires !== null ? Math.floor((decision.expires - responseTime) / 1000) : undefined
  headers.set('cache-status', cacheStatus({ fwd, fwdStatus: response.status, stored: store, ttl }))
  const info: CacheInfo = infoFor(undefined, responseTime, false)
  let body = response.body
  if (store) {
    const expires = decision.store ? decision.expires : null
    const save = async (bytes: Uint8Array) => {
      const saved = await engine.save(keyed, {
        responseUrl: redactUrl(response.url || keyed.url, settings.ignored),
        status: response.status,
        statusText: response.statusText,
        headers: storableHeaders(response.headers, settings.cacheControl),
        redirected: response.redirected,
        body: bytes,
        encoding: 'identity',
        requestTime,
        responseTime,
        createdAt: responseTime,
        expires,
      })
      // The caller's response learns its entry once stored (its body was read to the end).
      if (saved) Object.assign(info, infoFor(saved, responseTime, false))
    }
    if (body) body = recordBody(body, settings.maxEntrySize, save)
    else await save(new Uint8Array(0))
  }
  const init = { status: response.status, statusText: response.statusText, headers }
  return cachedResponse(body, init, { url: response.url, redirected: response.redirected, type: response.type }, info)
}

interface Member {
  resolve(response: Response): void
  reject(error: unknown): void
  signal: AbortSignal | undefined
}

interface Flight {
  members: Member[]
  controller: AbortController
}

/**
 * Identical concurrent misses share one origin request. Each caller gets its own body; a caller that
 * aborts leaves without failing the others; the origin request is aborted only when all have left.
 */
function coalesced(call: Call): Promise<Response> {
  const { engine, keyed } = call
  const flightKey = `${keyed.baseKey}\n${JSON.stringify([...keyed.headers])}`
  let flight = engine.inFlight.get(flightKey) as Flight | undefined
  if (!flight) {
    const started: Flight = { members: [], controller: new AbortController() }
    flight = started
    engine.inFlight.set(flightKey, started)
    // A signal costs undici work on every request: wire one only when the leader can abort. Without
    // it, callers who join later and all abort leave the request to finish (and be stored).
    const signal = call.request.signal ? started.controller.signal : undefined
    fromOrigin(call, undefined, undefined, signal, call.plan.read ? 'miss' : 'request').then(
      (response) => {
        engine.inFlight.delete(flightKey)
        distribute(started.members, response)
      },
      (error) => {
        engine.inFlight.delete(flightKey)
        for (const member of started.members.splice(0)) member.reject(error)
      },
    )
  }
  const joined = flight
  const signal = call.request.signal
  return new Promise<Response>((resolve, reject) => {
    const member: Member = { resolve, reject, signal }
    joined.members.push(member)
    signal?.addEventListener(
      'abort',
      () => {
        const index = joined.members.indexOf(member)
        if (index === -1) return // already has its response; its body handles the abort
        joined.members.splice(index, 1)
        reject(signal.reason)
        if (joined.members.length === 0) joined.controller.abort(signal.reason)
      },
      { once: true },
    )
  })
}

function distribute(members: Member[], response: Response): void {
  const taken = members.splice(0)
  if (taken.length === 0) {
    response.body?.cancel().catch(() => {})
    return
  }
  // The common case, one caller who cannot abort: the response as it is, no copy.
  const only = taken[0]
  if (taken.length === 1 && only && !only.signal) {
    only.resolve(response)
    return
  }
  // The leader's info object is shared on purpose: it is filled in once the body is stored.
  const info = cacheInfo(response) ?? infoFor(undefined, Date.now(), false)
  const branches = response.body ? fanOut(response.body, taken.length) : []
  taken.forEach((member, i) => {
    let body: ReadableStream<Uint8Array> | null = branches[i] ?? null
    if (body && member.signal) body = abortable(body, member.signal)
    const init = { status: response.status, statusText: response.statusText, headers: response.headers }
    member.resolve(cachedResponse(body, init, { url: response.url, redirected: response.redirected, type: response.type }, info))
  })
}

/**
 * stale-while-revalidate: refresh the entry off the caller's path (never with the caller's
 * AbortSignal: the caller has its answer already), one refresh per key at a time.
 */
function refreshInBackground(call: Call, entry: CacheEntry): void {
  const { engine, keyed } = call
  if (engine.refreshing.has(keyed.baseKey)) return
  engine.refreshing.add(keyed.baseKey)
  const headers = new Headers(entry.headers)
  const conditional = hasValidator(headers) ? conditionalHeaders(headers) : undefined
  const background: Call = { ...call, request: { ...call.request, signal: undefined } }
  fromOrigin(background, entry, conditional, new AbortController().signal, 'stale')
    .then((response) => response.arrayBuffer())
    .catch((error) => debug('background refresh of %s failed: %s', keyed.url, error))
    .finally(() => engine.refreshing.delete(keyed.baseKey))
}
