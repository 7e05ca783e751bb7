import type { Engine } from '../../engine/engine.js'
import { exchange } from '../../engine/exchange.js'
import type { OriginResponse, Outcome } from '../../engine/outcome.js'
import { type CacheEntry, identityBody } from '../../entry/entry.js'
import { isPromise } from '../../entry/store.js'
import { isFetchCacheError } from '../../errors.js'
import { isBodiless, notModifiedFields } from '../../http/bodiless.js'
import { appendCacheStatus } from '../../http/cache-status.js'
import { acceptsCoding } from '../../http/content-coding.js'
import type { CacheRequest } from '../../request/cache-request.js'
import { type CacheRequestInit, originInit, parseRequest } from '../../request/from-fetch.js'
import { asOriginRequest } from '../origin-mark.js'
import { fetchDecodes } from './decoding.js'
import { cachedResponse, responseFromEntry, withCacheInfo } from './response.js'

/** A fetch function (the standard signature, plus `init.cacheOptions`). */
export type FetchFunction = (input: string | URL | Request, init?: CacheRequestInit) => Promise<Response>

/** What the fetch front needs from whoever owns it (a session, or the global patch). */
export interface FetchFrontDeps {
  /** The engine for this call, or `undefined` when caching is off for it (e.g. inside `disabled()`). */
  engine(): Engine | undefined
  /** The fetch that reaches the origin. */
  baseFetch(): FetchFunction
}

/**
 * The fetch front (lib/README.md): a fresh hit is answered here, without undici; everything else goes
 * to the origin through `baseFetch`, marked as the fetch front's own so the dispatcher front lets it
 * pass, with the caller's `init` (and `dispatcher`) as given. The exchange decides; this module turns
 * its outcomes into `Response`s.
 */
export function createFetchFront(deps: FetchFrontDeps): FetchFunction {
  return async function fetch(input, init) {
    const engine = deps.engine()
    if (!engine) return asOriginRequest(() => deps.baseFetch()(input, originInit(init, input)))

    let parsed: CacheRequest
    try {
      const result = parseRequest(input, init, engine.settings.ignored)
      parsed = isPromise(result) ? await result : result
    } catch (error) {
      if (isFetchCacheError(error)) throw error // a bad cacheOptions: the caller's mistake, said at once
      return asOriginRequest(() => deps.baseFetch()(input, originInit(init, input))) // fetch raises its own error
    }
    if (parsed.signal?.aborted) throw parsed.signal.reason
    const redirect = init?.redirect ?? (input instanceof Request ? input.redirect : undefined) ?? 'follow'
    const request: CacheRequest = {
      ...parsed,
      bypass: bypassReason(parsed.url, input, init),
      bodyDigest: partitioned(parsed.bodyDigest, redirect),
      ...(redirect === 'follow' ? { follows: true } : {}),
    }
    const outcome = exchange(engine, request, (conditional, signal) =>
      send(deps, input, init, parsed.headers, conditional, signal).then(fromResponse),
    )
    return isPromise(outcome) ? outcome.then((done) => render(done, request)) : render(outcome, request)
  }
}

/**
 * Requests the cache stays out of: URLs that are not `http:` or `https:` (a `blob:` URL outlives its
 * revocation if stored), and `integrity`, which fetch checks on the body it reads from the origin.
 */
function bypassReason(url: string, input: string | URL | Request, init: CacheRequestInit | undefined): string | undefined {
  if (!url.startsWith('http:') && !url.startsWith('https:')) return 'not an http(s) URL'
  return init?.integrity || (input instanceof Request && input.integrity) ? 'integrity' : undefined
}

/**
 * A `redirect` mode other than `follow` changes what fetch answers (a 3xx instead of where it
 * leads), so such requests key apart: a stored 3xx never reaches a plain `fetch()`, which never
 * resolves to one. The mode joins the body digest, which every key (and re-key) is made from.
 */
function partitioned(digest: string | undefined, redirect: string) {
  return digest === undefined || redirect === 'follow' ? digest : `${digest}\nredirect=${redirect}`
}

/** Sends the request to the origin: the caller's init without the cache's fields, plus conditions. */
function send(
  deps: FetchFrontDeps,
  input: string | URL | Request,
  callerInit: CacheRequestInit | undefined,
  headers: Headers,
  conditional: Record<string, string> | undefined,
  signal: AbortSignal | undefined,
): Promise<Response> {
  const init: RequestInit = { ...originInit(callerInit, input) }
  if (conditional) {
    // originInit's headers carry the fields the cache mode calls for (Fetch §4.5).
    const withConditions = new Headers(init.headers ?? headers)
    for (const name in conditional) withConditions.set(name, conditional[name] as string)
    init.headers = withConditions
    // Fetch §4.5 turns a request with If-None-Match / If-Modified-Since into cache mode 'no-store',
    // which adds `Pragma: no-cache` and `Cache-Control: no-cache`; undici has no HTTP cache of its
    // own, so 'force-cache' changes nothing but keeps our revalidation free of those headers.
    ;(init as { cache?: string }).cache = 'force-cache'
  }
  // The exchange's signal, or none (a background refresh outlives the caller's).
  init.signal = signal ?? null
  return asOriginRequest(() => deps.baseFetch()(input, init))
}

function fromResponse(response: Response): OriginResponse {
  return {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
    body: response.body,
    decoded: fetchDecodes(response.headers.get('content-encoding')),
    url: response.url,
    redirected: response.redirected,
    type: response.type,
    source: response,
  }
}

/** Turns an outcome into the `Response` the caller gets. */
function render(outcome: Outcome, request: CacheRequest): Response {
  switch (outcome.kind) {
    case 'entry': {
      const { entry, info } = outcome
      if (outcome.notModified) {
        // The caller already holds this representation: tell it so, without the body (RFC 9111 §4.3.2).
        const init = { status: 304, statusText: 'Not Modified', headers: notModifiedFields(outcome.headers) }
        return cachedResponse(null, init, { url: servedUrl(entry, request), redirected: entry.redirected }, info)
      }
      const headers = servedFields(outcome.headers, request.headers, entry)
      return responseFromEntry(entry, headers, info, request.signal, request.method, servedUrl(entry, request))
    }
    case 'generated': {
      const headers = { 'content-type': 'text/plain; charset=utf-8', 'cache-status': outcome.cacheStatus }
      const init = { status: outcome.status, statusText: outcome.statusText, headers }
      return cachedResponse(outcome.body, init, { url: request.url, redirected: false }, outcome.info)
    }
    case 'origin': {
      const { response } = outcome
      // A copy carrying Cache-Status (fetch's own headers are immutable), our member after the origin's.
      const { headers } = response
      const init = { status: response.status, statusText: response.statusText, headers }
      const extras = { url: response.url, redirected: response.redirected, ...(response.type ? { type: response.type } : {}) }
      try {
        const rendered = cachedResponse(response.body, init, extras, outcome.info)
        rendered.headers.set('cache-status', appendCacheStatus(headers.get('cache-status'), outcome.cacheStatus))
        return rendered
      } catch (error) {
        // A status the constructor refuses (fetch passes 600 or 999 on): the origin's own Response,
        // without Cache-Status, when its body is untouched (the cache does not store it).
        if (response.source && response.source.body === response.body) return withCacheInfo(response.source, outcome.info)
        throw error
      }
    }
    default:
      return outcome satisfies never
  }
}

/**
 * The `url` of a response served from an entry, as fetch gives it: the caller's own URL without its
 * fragment, since the stored one has credential parameters hashed, ignored ones redacted, and the query
 * of whichever caller stored it; for a stored redirect, where it led (as stored).
 */
function servedUrl(entry: CacheEntry, request: CacheRequest): string {
  if (entry.redirected) return entry.responseUrl
  const hash = request.url.indexOf('#')
  return hash === -1 ? request.url : request.url.slice(0, hash)
}

/**
 * The fields a stored response is served with; its body is always served decoded. fetch hands a coded
 * response out decoded, with its `Content-Encoding` and `Content-Length` as they came, and so does the
 * cache. Two callers get the fields of the uncoded answer instead (no `Content-Encoding`, the decoded
 * length): one whose `Accept-Encoding` refuses that coding (`identity`, say), which the origin would
 * have answered uncoded; and one whose fetch leaves that coding on the body (`zstd` on Node 22), so
 * that no field claims a coding the body no longer has.
 */
function servedFields(fields: [string, string][], requestHeaders: Headers, entry: CacheEntry): [string, string][] {
  let coding: string | undefined
  let length: string | undefined
  for (const [name, value] of fields) {
    if (name === 'content-encoding') coding = value
    else if (name === 'content-length') length = value
  }
  if (coding === undefined) {
    // A fixture's body edited by hand no longer has the length it was recorded with: say the body's own
    // (as the other fronts do). A HEAD's entry or a 304 has no bytes to count.
    if (length === undefined || isBodiless(entry.status, entry.method) || Number(length) === entry.body.byteLength) return fields
    return withLength(fields, entry.body.byteLength)
  }
  if (fetchDecodes(coding) && acceptsCoding(requestHeaders.get('accept-encoding'), coding)) return fields
  return withLength(
    fields.filter(([name]) => name !== 'content-encoding'),
    identityBody(entry).byteLength,
  )
}

/** `fields` with `Content-Length` saying `length`. */
function withLength(fields: [string, string][], length: number): [string, string][] {
  const out = fields.filter(([name]) => name !== 'content-length')
  out.push(['content-length', String(length)])
  return out
}
