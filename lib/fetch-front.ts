import { abortable, fanOut, recordBody } from './body.js'
import type { CacheEntry } from './entry.js'
import { debug, type Engine, type KeyedRequest } from './engine.js'
import { isFetchCacheError } from './errors.js'
import { type CachePlan, decideCached, decideWrite, mayServeOnError, planRequest } from './policy/actions.js'
import { parseCacheControl } from './policy/directives.js'
import { conditionalHeaders, currentAge, hasValidator } from './policy/freshness.js'
import { type CacheRequestInit, originInit, type ParsedRequest, parseRequest } from './request.js'
import { type CacheInfo, cacheInfo, cacheStatus, decorate, infoFor, responseFromEntry, ttlSeconds } from './response.js'
import { mergeHead, mergeNotModified, notModifiedMatches, storableHeaders } from './revalidation.js'

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

const UNSAFE_SUCCESS = (status: number) => status >= 200 && status < 400
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/**
 * The fetch front (DESIGN §2): a fresh hit is answered here, without undici; everything else goes to
 * the origin through `baseFetch` with an uncached dispatcher, and what comes back is stored.
 */
export function createFetchFront(deps: FetchFrontDeps): FetchFunction {
  return async function fetch(input, init) {
    const engine = deps.engine()
    const passInit = originInit(init, deps.dispatcher())
    const base = deps.baseFetch()
    if (!engine) return base(input, passInit)

    let request: ParsedRequest
    try {
      request = await parseRequest(input, init, engine.settings.ignored)
    } catch (error) {
      if (isFetchCacheError(error)) throw error
      return base(input, passInit) // let fetch raise its own error for a bad URL
    }
    if (request.signal?.aborted) throw request.signal.reason

    const settings = engine.settings
    const plan = planRequest(
      {
        method: request.method,
        url: request.url,
        headers: request.headers,
        mode: request.mode,
        options: request.options,
        unkeyableBody: request.bodyDigest === undefined,
      },
      settings,
    )
    if (plan.kind === 'bypass') {
      debug('bypass %s %s: %s', request.method, request.url, plan.reason)
      const response = await base(input, passInit)
      if (!SAFE_METHODS.has(request.method) && UNSAFE_SUCCESS(response.status)) await invalidate(engine, request, response.headers)
      // rfc: RFC 9211 §2: every response that passed through the cache says what the cache did with it.
      const fwd = plan.reason.startsWith('method') ? 'method' : 'bypass'
      return withCacheStatus(response, cacheStatus({ fwd, fwdStatus: response.status, detail: detailToken(plan.reason) }))
    }

    let keyed: KeyedRequest
    try {
      keyed = { ...request, bodyDigest: request.bodyDigest as string, baseKey: engine.keyFor(request.method, request.url, request.headers, request.bodyDigest as string) }
    } catch (error) {
      engine.report(error, 'key')
      return base(input, passInit)
    }
    const call: Call = { engine, input, passInit, base, request, keyed, plan }
    let entry = plan.read ? await engine.lookup(keyed) : undefined
    // rfc: RFC 9110 §9.3.2 / RFC 9111 §4: a HEAD can be answered from the stored response to GET.
    if (!entry && plan.read && request.method === 'HEAD') {
      const get = getKeyed(engine, request)
      const stored = get && (await engine.lookup(get))
      if (stored) {
        call.keyed = get as KeyedRequest
        call.headOfGet = true
        entry = stored
      }
    }
    const now = engine.now()
    const action = decideCached(plan, entry, settings, now)
    debug('%s %s: %s', request.method, request.url, action.kind)
    switch (action.kind) {
      case 'serve':
        return serveEntry(call, entry as CacheEntry, now, { stale: action.stale })
      case 'serve-stale-and-refresh':
        refreshInBackground(call, entry as CacheEntry)
        return serveEntry(call, entry as CacheEntry, now, { stale: true, detail: 'stale-while-revalidate' })
      case 'not-cached':
        return notCached()
      case 'revalidate':
        return fromOrigin(call, entry, action.headers, request.signal)
      case 'fetch':
        return settings.coalesce && !entry ? coalesced(call) : fromOrigin(call, entry, undefined, request.signal)
      default:
        return action satisfies never
    }
  }
}

interface Call {
  engine: Engine
  input: string | URL | Request
  passInit: RequestInit | undefined
  base: FetchFunction
  request: ParsedRequest
  keyed: KeyedRequest
  plan: CachePlan
  /** rfc: a HEAD request working on the stored GET response (`keyed` is then the GET's). */
  headOfGet?: boolean
}

/** rfc: the keyed GET request a HEAD request can be answered from, or `undefined` if it cannot be keyed. */
function getKeyed(engine: Engine, request: ParsedRequest): KeyedRequest | undefined {
  try {
    return { ...request, method: 'GET', bodyDigest: '', baseKey: engine.keyFor('GET', request.url, request.headers, '') }
  } catch (error) {
    engine.report(error, 'key')
    return undefined
  }
}

/** rfc: a passed-through response with a `Cache-Status` field (fetch's own headers are immutable). */
function withCacheStatus(response: Response, status: string): Response {
  const headers = new Headers(response.headers)
  headers.set('cache-status', status)
  const output = new Response(response.body, { status: response.status, statusText: response.statusText, headers })
  return decorate(output, { url: response.url, redirected: response.redirected, type: response.type }, cacheInfo(response) ?? infoFor(undefined, Date.now(), false))
}

/** rfc: a bypass reason as an RFC 9211 `detail` token (sf-token characters only). */
function detailToken(reason: string): string {
  return reason.toLowerCase().replace(/[^a-z0-9!#$%&'*+.^_`|~-]+/g, '-').replace(/^-+|-+$/g, '') || 'bypass'
}

function serveEntry(
  call: Call,
  entry: CacheEntry,
  now: number,
  how: { stale?: boolean; revalidated?: boolean; detail?: string; fwdStatus?: number; fwd?: 'request' | 'stale' },
): Response {
  const age = Math.floor(currentAge(entry, new Headers(entry.headers), now) / 1000)
  const status = how.revalidated
    ? cacheStatus({ fwd: how.fwd ?? 'stale', fwdStatus: how.fwdStatus ?? 304, stored: true, ttl: ttlSeconds(entry, now) })
    : cacheStatus({ hit: true, ttl: ttlSeconds(entry, now), detail: how.detail, ...(how.fwdStatus ? { fwd: 'stale', fwdStatus: how.fwdStatus } : {}) })
  const info = infoFor(entry, now, true, how.revalidated ?? false, how.stale ?? false)
  return responseFromEntry(
    entry,
    [
      ['age', String(age)],
      ['cache-status', status],
    ],
    info,
    call.request.signal,
    call.request.method,
  )
}

function notCached(): Response {
  return new Response('Not Cached', {
    status: 504,
    statusText: 'Not Cached',
    headers: { 'content-type': 'text/plain', 'cache-status': cacheStatus({ detail: 'only-if-cached' }) },
  })
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
): Promise<Response> {
  const { engine, request, plan } = call
  const init: RequestInit = { ...call.passInit }
  if (conditional) {
    const headers = new Headers(request.headers)
    for (const [name, value] of Object.entries(conditional)) headers.set(name, value)
    init.headers = headers
  }
  if (signal !== undefined) init.signal = signal
  const requestTime = engine.now()
  let response: Response
  try {
    response = await call.base(call.input, init)
  } catch (error) {
    if (entry && !signal?.aborted && mayServeOnError(plan, entry, engine.settings, engine.now())) {
      debug('network error, serving stale %s: %s', request.url, error)
      return serveEntry(call, entry, engine.now(), { stale: true, detail: 'stale-if-error' })
    }
    throw error
  }
  const responseTime = engine.now()

  if (response.status === 304 && entry && conditional) {
    await response.body?.cancel()
    // rfc: RFC 9111 §4.3.4: a 304 naming another strong validator does not describe what we hold:
    // ask again, unconditionally.
    if (!notModifiedMatches(entry, response.headers)) return fromOrigin(call, undefined, undefined, signal)
    const updated = mergeNotModified(entry, response.headers, requestTime, responseTime)
    const decision = decideWrite(plan, { status: entry.status, headers: new Headers(updated.headers), requestTime, responseTime }, engine.settings, responseTime)
    const renewed: CacheEntry = { ...updated, createdAt: responseTime, expires: decision.store ? decision.expires : responseTime }
    if (plan.write) await engine.update(renewed)
    return serveEntry(call, renewed, responseTime, { revalidated: true, fwd: forwardReason(call, entry, requestTime) })
  }
  if (response.status >= 500 && entry && mayServeOnError(plan, entry, engine.settings, responseTime)) {
    await response.body?.cancel()
    return serveEntry(call, entry, responseTime, { stale: true, detail: 'stale-if-error', fwdStatus: response.status })
  }
  // rfc: a HEAD answered by the origin while we hold a GET response: refresh that response (RFC 9111 §4.3.5).
  if (call.headOfGet && entry) {
    if (response.status === 200) await refreshFromHead(call, entry, response.headers, requestTime, responseTime)
    return withCacheStatus(response, cacheStatus({ fwd: forwardReason(call, entry, requestTime), fwdStatus: response.status }))
  }
  return storeAndPass(call, response, requestTime, responseTime, entry ? forwardReason(call, entry, requestTime) : undefined)
}

/** rfc: why a request that found an entry still went to the origin (RFC 9211 `fwd`). */
function forwardReason(call: Call, entry: CacheEntry, now: number): 'request' | 'stale' {
  return call.plan.revalidate && (entry.expires === null || entry.expires > now) ? 'request' : 'stale'
}

/**
 * rfc: RFC 9111 §4.3.5: a 200 to HEAD updates the stored GET response's header fields when its
 * validators match, and makes it stale when they show the representation changed.
 */
async function refreshFromHead(call: Call, entry: CacheEntry, head: Headers, requestTime: number, responseTime: number): Promise<void> {
  const { engine, plan } = call
  if (!plan.write) return
  const merged = mergeHead(entry, head, requestTime, responseTime)
  if (merged.invalidate) {
    await engine.update({ ...entry, expires: Math.min(entry.expires ?? responseTime, responseTime) })
    return
  }
  const decision = decideWrite(
    plan,
    { status: entry.status, headers: new Headers(merged.entry.headers), requestTime, responseTime },
    engine.settings,
    responseTime,
  )
  await engine.update({ ...merged.entry, createdAt: responseTime, expires: decision.store ? decision.expires : responseTime })
}

/** Passes an origin response to the caller, recording its body to store it when read to the end. */
async function storeAndPass(
  call: Call,
  response: Response,
  requestTime: number,
  responseTime: number,
  fwd?: 'request' | 'stale',
): Promise<Response> {
  const { engine, keyed, plan } = call
  const settings = engine.settings
  // rfc: an unsafe method the cache takes part in (allowableMethods) still invalidates (RFC 9111 §4.4).
  if (!SAFE_METHODS.has(keyed.method) && UNSAFE_SUCCESS(response.status)) await invalidate(engine, call.request, response.headers)
  const decision = decideWrite(
    plan,
    { status: response.status, headers: response.headers, requestTime, responseTime, redirected: response.redirected },
    settings,
    responseTime,
  )
  let store = decision.store
  if (store && settings.filter) {
    try {
      store = settings.filter(response) !== false
    } catch (error) {
      engine.report(error, 'filter')
      store = false
    }
  }
  const length = Number(response.headers.get('content-length') ?? 0)
  if (length > settings.maxEntrySize) store = false
  debug('origin %d for %s: %s', response.status, keyed.url, store ? 'storing' : decision.store ? 'filtered' : decision.reason)

  const headers = new Headers(response.headers)
  headers.set('cache-status', cacheStatus({ fwd: fwd ?? (call.plan.read ? 'miss' : 'request'), fwdStatus: response.status, stored: store }))
  const expires = decision.store ? decision.expires : null
  const info: CacheInfo = infoFor(undefined, responseTime, false)
  const save = async (body: Uint8Array) => {
    const saved = await engine.save(keyed, {
      responseUrl: response.url || keyed.url,
      status: response.status,
      statusText: response.statusText,
      headers: storableHeaders(response.headers, settings.cacheControl ? parseCacheControl(response.headers.get('cache-control')) : undefined),
      redirected: response.redirected,
      body,
      encoding: 'identity',
      requestTime,
      responseTime,
      createdAt: responseTime,
      expires,
    })
    if (saved) Object.assign(info, infoFor(saved, responseTime, false))
  }
  let body = response.body
  if (store) {
    if (body) body = recordBody(body, settings.maxEntrySize, save)
    else await save(new Uint8Array(0))
  }
  const output = new Response(body, { status: response.status, statusText: response.statusText, headers })
  return decorate(output, { url: response.url, redirected: response.redirected, type: response.type }, info)
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
    fromOrigin(call, undefined, undefined, started.controller.signal).then(
      (response) => {
        engine.inFlight.delete(flightKey)
        distribute(started.members, response)
      },
      (error) => {
        engine.inFlight.delete(flightKey)
        for (const member of started.members) member.reject(error)
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
  // The leader's info object is shared on purpose: it is filled in once the body is stored.
  const info = cacheInfo(response) ?? infoFor(undefined, Date.now(), false)
  const branches = response.body ? fanOut(response.body, taken.length) : []
  taken.forEach((member, i) => {
    let body: ReadableStream<Uint8Array> | null = branches[i] ?? null
    if (body && member.signal) body = abortable(body, member.signal)
    const copy = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
    member.resolve(decorate(copy, response, info))
  })
}

/** stale-while-revalidate: refresh the entry off the caller's path, one refresh per key at a time. */
function refreshInBackground(call: Call, entry: CacheEntry): void {
  const { engine, keyed } = call
  if (engine.refreshing.has(keyed.baseKey)) return
  engine.refreshing.add(keyed.baseKey)
  const conditional = conditionalFor(entry)
  const background: Call = { ...call, request: { ...call.request, signal: undefined }, passInit: withoutSignal(call.passInit) }
  fromOrigin(background, entry, conditional, undefined)
    .then((response) => response.arrayBuffer())
    .catch((error) => debug('background refresh of %s failed: %s', keyed.url, error))
    .finally(() => engine.refreshing.delete(keyed.baseKey))
}

function conditionalFor(entry: CacheEntry): Record<string, string> | undefined {
  const headers = new Headers(entry.headers)
  return hasValidator(headers) ? conditionalHeaders(headers) : undefined
}

function withoutSignal(init: RequestInit | undefined): RequestInit | undefined {
  if (!init?.signal) return init
  const { signal: _signal, ...rest } = init
  return rest
}

/** RFC 9111 §4.4: a successful unsafe request invalidates the URL and same-origin Location / Content-Location. */
async function invalidate(engine: Engine, request: ParsedRequest, responseHeaders: Headers): Promise<void> {
  const origin = new URL(request.url).origin
  const urls = [request.url]
  for (const name of ['location', 'content-location']) {
    const value = responseHeaders.get(name)
    if (!value) continue
    try {
      const target = new URL(value, request.url)
      if (target.origin === origin) urls.push(target.href)
    } catch {
      // An unparsable Location invalidates nothing.
    }
  }
  const keys: string[] = []
  try {
    for (const url of urls) for (const method of ['GET', 'HEAD']) keys.push(engine.keyFor(method, url, request.headers, ''))
  } catch (error) {
    engine.report(error, 'key')
    return
  }
  debug('invalidating %s after %s', urls.join(', '), request.method)
  await engine.remove(keys)
}
