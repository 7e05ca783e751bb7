import { type CacheEntry, storedField, storedFields } from '../entry/entry.js'
import { type Directives, parseCacheControl } from '../http/cache-control.js'
import { CREDENTIAL_HEADERS } from '../http/fields.js'
import { type Expiry, expiresAt } from '../options/expire-after.js'
import type { ParsedRequestOptions } from '../options/settings.js'
import type { ResolvedSettings } from '../options/types.js'
import type { RequestCacheMode } from '../request/cache-request.js'
import {
  allowsHeuristics,
  conditionalHeaders,
  currentAge,
  explicitLifetime,
  hasValidator,
  heuristicLifetime,
  initialAge,
  isConditionalRequest,
} from './freshness.js'
import { type ByteRange, parseRange } from './range.js'

/**
 * The cache's decisions, as values (requests-cache's CacheActions): pure functions of the request,
 * the stored entry, the settings and `now`. The fronts switch on them and do the I/O.
 *
 * Expiry precedence, highest first (the README's "Expiry precedence"):
 * 1. the per-request `cacheOptions.expireAfter`;
 * 2. the response's `Cache-Control` / `Expires` / `Age` (only with `cacheControl`);
 * 3. the request's `Cache-Control: max-age`;
 * 4. the first matching `urlsExpireAfter` rule;
 * 5. `expireAfter`.
 * `DO_NOT_CACHE` from 4 or 5 is an exclusion rather than an expiry: only 1 overrides it.
 */

/** What the request itself says, before anything is looked up. */
export interface RequestFacts {
  method: string
  url: string
  headers: Headers
  /** `init.cache` (Fetch's cache mode). */
  mode: RequestCacheMode | undefined
  options: ParsedRequestOptions
  /** The body could not be keyed (a stream): the cache stays out of the way. */
  unkeyableBody: boolean
}

/** The plan for one request. */
export type RequestPlan =
  | { kind: 'bypass'; reason: string }
  | {
      kind: 'cache'
      read: boolean
      write: boolean
      /** Revalidate before using an entry, even a fresh one (`no-cache`, `refresh`, request `max-age=0`). */
      revalidate: boolean
      /**
       * The revalidation was asked only as a reload asks (request `max-age=0`, fetch's `no-cache`), which
       * a fresh `immutable` response does not need (RFC 8246 §2); `no-cache`, `Pragma`, `refresh` do.
       */
      reload: boolean
      /** The one byte range asked for (with cacheControl on): served from a stored 200, never stored. */
      range?: ByteRange | undefined
      /** Use any entry, even stale (`force-cache`, fetch's `only-if-cached`). */
      anyAge: boolean
      onlyIfCached: boolean
      /** The per-request `expireAfter`: it beats every other rule, response headers included. */
      requestExpiry: Expiry | undefined
      /** The expiry from request max-age, `urlsExpireAfter` or `expireAfter`; response headers beat it. */
      ruleExpiry: Expiry
      /** Whether `ruleExpiry` came from the user rather than the default. */
      ruleExplicit: boolean
      /** Per-request stale limits (ms), when given. */
      staleIfError: number | undefined
      staleWhileRevalidate: number | undefined
      /** The request's own Cache-Control directives. */
      request: Directives
      /** The request carries `Authorization`: a shared cache stores and reuses only what §3.5 allows. */
      authorization: boolean
    }

export type CachePlan = Extract<RequestPlan, { kind: 'cache' }>

const NO_DIRECTIVES: Directives = Object.freeze({})
const PRAGMA_NO_CACHE = /(?:^|,)\s*no-cache\s*(?:,|$)/i

/** Decides whether and how the cache takes part in a request. */
export function planRequest(facts: RequestFacts, settings: ResolvedSettings): RequestPlan {
  if (settings.disabled) return { kind: 'bypass', reason: 'disabled' }
  if (facts.mode === 'no-store') return { kind: 'bypass', reason: "cache: 'no-store'" }
  if (!settings.allowableMethods.has(facts.method)) return { kind: 'bypass', reason: `method ${facts.method}` }
  if (facts.unkeyableBody) return { kind: 'bypass', reason: 'stream body' }
  const cacheControl = facts.headers.get('cache-control')
  const request = parseCacheControl(cacheControl)
  // RFC 9111 §5.2.1.5: no-store in a request means neither reuse nor store.
  if (request.noStore) return { kind: 'bypass', reason: 'request no-store' }
  // rfc: we never store partial content (206; RFC 9111 §3.3 allows a cache not to combine ranges).
  // With cacheControl on, a GET for one byte range may be served from a stored complete 200 (§3.4,
  // policy/range.ts) and is never stored; any other Range request passes through.
  const rangeField = facts.headers.get('range')
  const range = rangeField === null ? undefined : parseRange(rangeField)
  if (rangeField !== null && !(settings.cacheControl && facts.method === 'GET' && range)) {
    return { kind: 'bypass', reason: 'Range request' }
  }
  // rfc: a request that carries its own validators is the caller's conditional request: it goes to the
  // origin as is and its answer (often a 304 for something we do not hold) is never stored, as Fetch
  // does for a request with If-None-Match & co. (Fetch "HTTP-network-or-cache fetch", step 15).
  if (settings.cacheControl && isConditionalRequest(facts.headers, range !== undefined)) {
    return { kind: 'bypass', reason: 'conditional request' }
  }

  const { options } = facts
  const requestExpiry = options.expiry
  const [configured, configuredExplicit] = configuredExpiry(facts.url, settings)
  // DO_NOT_CACHE in the settings excludes the URL: only this request's own expireAfter overrides it
  // (a request Cache-Control: max-age does not, unlike requests-cache, so an allow-list holds).
  if ((requestExpiry ?? configured).kind === 'skip') return { kind: 'bypass', reason: 'DO_NOT_CACHE' }
  const [ruleExpiry, ruleExplicit] =
    request.maxAge === undefined ? [configured, configuredExplicit] : [fromMaxAge(request.maxAge), true]

  // RFC 9111 §5.4: Pragma counts only when the request has no Cache-Control.
  const pragmaNoCache = cacheControl === null && PRAGMA_NO_CACHE.test(facts.headers.get('pragma') ?? '')
  const onlyIfCached =
    options.onlyIfCached ?? (facts.mode === 'only-if-cached' || request.onlyIfCached === true || settings.onlyIfCached)
  const forceRefresh = options.forceRefresh === true || facts.mode === 'reload'
  const forced = options.refresh === true || request.noCache !== undefined || pragmaNoCache
  const reload = facts.mode === 'no-cache' || request.maxAge === 0
  return {
    kind: 'cache',
    // Offline beats a forced refresh: there is no network to refresh from.
    read: !forceRefresh || onlyIfCached,
    write: !settings.readOnly && range === undefined,
    range,
    revalidate: forced || reload,
    reload: reload && !forced,
    anyAge: facts.mode === 'force-cache' || facts.mode === 'only-if-cached',
    onlyIfCached,
    requestExpiry,
    ruleExpiry,
    ruleExplicit,
    staleIfError: options.staleIfError,
    staleWhileRevalidate: options.staleWhileRevalidate,
    request,
    authorization: facts.headers.has('authorization'),
  }
}

/** The first matching `urlsExpireAfter` rule, else `expireAfter`; and whether the user set it. */
function configuredExpiry(url: string, settings: ResolvedSettings): [Expiry, boolean] {
  for (const rule of settings.urlRules) if (rule.test(url)) return [rule.expiry, true]
  return [settings.expiry, settings.expiryExplicit]
}

/** A request's `max-age` as the expiry to store with (requests-cache reads it so). */
function fromMaxAge(seconds: number): Expiry {
  return seconds === 0 ? { kind: 'immediately' } : { kind: 'duration', ms: seconds * 1000 }
}

/** What to do once the store has answered. */
export type CachedAction =
  | { kind: 'serve'; stale: boolean }
  /** `conditional`: the fields that revalidate the entry in the background, if it can be. */
  | { kind: 'serve-stale-and-refresh'; conditional: Record<string, string> | undefined }
  | { kind: 'revalidate'; headers: Record<string, string> }
  | { kind: 'fetch' }
  | { kind: 'not-cached' }

const SERVE_FRESH: CachedAction = Object.freeze({ kind: 'serve', stale: false })
const SERVE_STALE: CachedAction = Object.freeze({ kind: 'serve', stale: true })
const FETCH: CachedAction = Object.freeze({ kind: 'fetch' })
const NOT_CACHED: CachedAction = Object.freeze({ kind: 'not-cached' })

/** Decides between serving, revalidating and fetching, given what the store holds. */
export function decideCached(
  plan: CachePlan,
  entry: CacheEntry | undefined,
  settings: ResolvedSettings,
  now: number,
): CachedAction {
  if (!entry) return plan.onlyIfCached ? NOT_CACHED : FETCH
  const response = responseDirectives(entry, settings)
  // RFC 9111 §3.5: a shared cache reuses a response to a request with Authorization only when the
  // response allows it (an entry stored before the cache became shared may not).
  if (settings.sharedCache && plan.authorization && !sharesAuthorized(response)) return plan.onlyIfCached ? NOT_CACHED : FETCH
  const expired = isExpired(entry, now)
  if (plan.anyAge) return expired ? SERVE_STALE : SERVE_FRESH
  // RFC 8246 §2: a reload does not revalidate a fresh immutable response (browsers do the same).
  const reloadOfImmutable = plan.reload && response.immutable === true
  const fresh = !expired && isFreshForRequest(plan, entry, response, now, reloadOfImmutable)

  if (plan.onlyIfCached) {
    // Offline: never the network. A stale entry is served when some stale allowance covers it.
    if (fresh) return SERVE_FRESH
    if (expired && mayServeStale(response, settings)) {
      const maxStale = plan.request.maxStale
      if (maxStale !== undefined && staleWithin(entry, now, maxStale * 1000)) return SERVE_STALE
      if (staleWithin(entry, now, staleIfErrorLimit(plan, response, settings))) return SERVE_STALE
      if (staleWithin(entry, now, staleWhileRevalidateLimit(plan, response, settings))) return SERVE_STALE
    }
    return NOT_CACHED
  }

  if (fresh) {
    if (plan.revalidate && !reloadOfImmutable) return revalidateOrFetch(entry, settings)
    // alwaysRevalidate needs a validator (requests-cache); immutable means there is nothing to ask.
    if (settings.alwaysRevalidate && !response.immutable && entryHasValidator(entry)) return revalidateOrFetch(entry, settings)
    return SERVE_FRESH
  }

  if (expired && !plan.revalidate && mayServeStale(response, settings)) {
    // A client's max-stale accepts a stale entry as is (RFC 9111 §5.2.1.2).
    const maxStale = plan.request.maxStale
    if (maxStale !== undefined && staleWithin(entry, now, maxStale * 1000)) return SERVE_STALE
    if (staleWithin(entry, now, staleWhileRevalidateLimit(plan, response, settings)))
      return { kind: 'serve-stale-and-refresh', conditional: revalidationHeaders(entry, settings) }
  }
  return revalidateOrFetch(entry, settings)
}

/** A conditional request when the entry can be revalidated, a plain one otherwise. */
function revalidateOrFetch(entry: CacheEntry, settings: ResolvedSettings): CachedAction {
  const headers = revalidationHeaders(entry, settings)
  return headers ? { kind: 'revalidate', headers } : FETCH
}

/**
 * The header fields that revalidate a stored entry (RFC 9111 §4.3.1), or `undefined` when it cannot
 * be revalidated: its validators (RFC 9110 §13.1); without any, with cacheControl on, its `Date` as
 * `If-Modified-Since` (RFC 9110 §13.1.3 lets a cache use it). The one rule for every revalidation,
 * in the request's path or in the background.
 */
export function revalidationHeaders(entry: CacheEntry, settings: ResolvedSettings): Record<string, string> | undefined {
  const fields = storedFields(entry)
  if (hasValidator(fields)) return conditionalHeaders(fields)
  if (!settings.cacheControl) return undefined
  const byDate = conditionalHeaders(fields, true)
  return 'if-modified-since' in byDate ? byDate : undefined
}

/** Whether the entry is past its expiry (ignoring request directives). */
export function isExpired(entry: Pick<CacheEntry, 'expires'>, now: number): boolean {
  return entry.expires !== null && now >= entry.expires
}

/** Freshness as this request sees it (the entry is not expired): response no-cache, request max-age / min-fresh. */
function isFreshForRequest(plan: CachePlan, entry: CacheEntry, response: Directives, now: number, reload = false): boolean {
  // RFC 9111 §5.2.2.4: no-cache without field names means every use must be validated.
  if (response.noCache === true) return false
  const { maxAge, minFresh } = plan.request
  if (maxAge !== undefined && !(reload && maxAge === 0) && currentAge(entry, now) > maxAge * 1000) return false
  if (minFresh !== undefined && entry.expires !== null && entry.expires - now < minFresh * 1000) return false
  return true
}

/** The stored response's directives, read only when `cacheControl` is on. */
function responseDirectives(entry: CacheEntry, settings: ResolvedSettings): Directives {
  if (!settings.cacheControl) return NO_DIRECTIVES
  return parseCacheControl(storedField(entry, 'cache-control'))
}

function entryHasValidator(entry: CacheEntry): boolean {
  return hasValidator(storedFields(entry))
}

/**
 * must-revalidate, proxy-revalidate (a private cache honours it too: it is never wrong to be stricter)
 * and no-cache forbid serving stale; so does s-maxage in a shared cache (RFC 9111 §5.2.2.10: it
 * implies proxy-revalidate there).
 */
function mayServeStale(response: Directives, settings: ResolvedSettings): boolean {
  if (settings.sharedCache && response.sMaxAge !== undefined) return false
  return !response.mustRevalidate && !response.noCache && !response.proxyRevalidate
}

/** RFC 9111 §3.5: the response directives that let a shared cache store and reuse a response to an authorized request. */
function sharesAuthorized(response: Directives): boolean {
  return response.public === true || response.sMaxAge !== undefined || response.mustRevalidate === true
}

/** Whether the entry is at most `limitMs` past its expiry (a fresh entry is within any positive limit). */
function staleWithin(entry: CacheEntry, now: number, limitMs: number | undefined): boolean {
  if (!limitMs || entry.expires === null) return false
  return now - entry.expires <= limitMs
}

/** stale-if-error: the per-request option, the request directive, the response directive, the setting. */
function staleIfErrorLimit(plan: CachePlan, response: Directives, settings: ResolvedSettings): number {
  if (plan.staleIfError !== undefined) return plan.staleIfError
  if (plan.request.staleIfError !== undefined) return plan.request.staleIfError * 1000
  if (response.staleIfError !== undefined) return response.staleIfError * 1000
  return settings.staleIfError
}

/** stale-while-revalidate: the per-request option, the request directive (as requests-cache reads it), the response, the setting. */
function staleWhileRevalidateLimit(plan: CachePlan, response: Directives, settings: ResolvedSettings): number {
  if (plan.staleWhileRevalidate !== undefined) return plan.staleWhileRevalidate
  if (plan.request.staleWhileRevalidate !== undefined) return plan.request.staleWhileRevalidate * 1000
  if (response.staleWhileRevalidate !== undefined) return response.staleWhileRevalidate * 1000
  return settings.staleWhileRevalidate
}

/**
 * Whether an origin answer counts as a failure that stale-if-error covers: a 5xx the user did not
 * ask to store (with 500 in `allowableCodes`, a 500 is an answer like any other, as in requests-cache).
 */
export function isOriginError(status: number, settings: ResolvedSettings): boolean {
  return status >= 500 && !settings.allowableCodes.has(status)
}

/** Whether a failed origin request (network error or 5xx) may be answered with the stored entry. */
export function mayServeOnError(plan: CachePlan, entry: CacheEntry, settings: ResolvedSettings, now: number): boolean {
  const response = responseDirectives(entry, settings)
  // RFC 9111 §4.2.4: must-revalidate, no-cache and proxy-revalidate (or s-maxage, shared) forbid
  // serving the entry without validation; stale-if-error, the response's own included, cannot lift that.
  if (!mayServeStale(response, settings)) return false
  return staleWithin(entry, now, staleIfErrorLimit(plan, response, settings))
}

/**
 * Whether the entry's own directives forbid reusing it unvalidated (RFC 9111 §4.2.4, §5.2.2.2
 * must-revalidate, §5.2.2.4 no-cache, §5.2.2.8 proxy-revalidate and §5.2.2.10 s-maxage in a shared
 * cache): then a revalidation that cannot reach the origin is answered with a generated 504.
 */
export function mustRevalidate(entry: CacheEntry, settings: ResolvedSettings): boolean {
  return settings.cacheControl !== false && !mayServeStale(responseDirectives(entry, settings), settings)
}

/** What the origin answered, as the write decision needs it. */
export interface ResponseFacts {
  status: number
  headers: Headers
  requestTime: number
  responseTime: number
  /** The response is the end of a redirect chain that fetch followed. */
  redirected?: boolean
}

/** Whether to store a response, and until when. */
export type WriteDecision = { store: true; expires: number | null } | { store: false; reason: string }

/** Decides whether a response from the origin is stored (RFC 9111 §3 when `cacheControl` is on). */
export function decideWrite(plan: CachePlan, response: ResponseFacts, settings: ResolvedSettings, now: number): WriteDecision {
  if (!plan.write) return { store: false, reason: 'read-only' }
  const { status, headers } = response
  const directives = settings.cacheControl ? parseCacheControl(headers.get('cache-control')) : NO_DIRECTIVES
  const validator = hasValidator(headers)
  if (!isStorableStatus(status, directives, headers, settings)) return { store: false, reason: `status ${status}` }
  // RFC 9111 §5.2.2.3: must-understand stores only statuses whose caching we implement, and then
  // lets their no-store (sent for caches that do not know must-understand) be ignored.
  if (directives.mustUnderstand) {
    if (!UNDERSTOOD.has(status)) return { store: false, reason: `must-understand, status ${status} not understood` }
  } else if (directives.noStore) return { store: false, reason: 'response no-store' }
  if (settings.sharedCache) {
    // RFC 9111 §3 and §5.2.2.7: a shared cache does not store a private response (with field names,
    // it may store the rest; we store none of it).
    if (directives.private !== undefined) return { store: false, reason: 'response private (shared cache)' }
    // RFC 9111 §3.5: nor a response to a request with Authorization, unless the response allows it.
    if (plan.authorization && !sharesAuthorized(directives)) {
      return { store: false, reason: 'request Authorization without public, s-maxage or must-revalidate (shared cache)' }
    }
  }
  // RFC 9111 §4.1: a Vary member "*" (alone, in a list, or on any of several lines) never matches a
  // later request, so storing it would only waste space.
  if ((headers.get('vary') ?? '').split(',').some((name) => name.trim() === '*')) return { store: false, reason: 'Vary: *' }
  // rfc: the response to the original URL was a redirect whose own cacheability we never saw; storing
  // the final response under the original URL would replay the redirect's target without asking.
  if (settings.cacheControl && response.redirected) return { store: false, reason: 'redirected' }

  if (plan.requestExpiry) return fromRule(plan.requestExpiry, validator, now)
  if (settings.cacheControl) {
    const lifetime =
      directives.noCache === true ? 0 : explicitLifetime(directives, headers, response.responseTime, settings.sharedCache)
    if (lifetime !== undefined) {
      const expires = now + lifetime - initialAge(headers, response.requestTime, response.responseTime)
      // rfc: stale on arrival is still worth storing when it can be revalidated (requests-cache: max-age=0
      // + validator) or served stale (RFC 5861).
      if (expires <= now && !validator && !maySoonServeStale(directives, settings)) {
        return { store: false, reason: 'stale on arrival, no validator' }
      }
      return { store: true, expires }
    }
    // rfc: `immutable` only means something while fresh (RFC 8246 §2): without a lifetime it adds none
    // (requests-cache stores it forever; with cacheControl on, the RFC wins).
    if (!plan.ruleExplicit) {
      const heuristic = heuristicLifetime(status, headers, response.responseTime, directives)
      if (heuristic !== undefined) {
        return { store: true, expires: now + heuristic - initialAge(headers, response.requestTime, response.responseTime) }
      }
      // No freshness information: stale at once, worth storing only to revalidate.
      return validator ? { store: true, expires: now } : { store: false, reason: 'no freshness information, no validator' }
    }
  }
  return fromRule(plan.ruleExpiry, validator, now)
}

function fromRule(expiry: Expiry, validator: boolean, now: number): WriteDecision {
  if (expiry.kind === 'skip') return { store: false, reason: 'DO_NOT_CACHE' }
  // EXPIRE_IMMEDIATELY stores only what can be revalidated.
  if (expiry.kind === 'immediately' && !validator) return { store: false, reason: 'EXPIRE_IMMEDIATELY without a validator' }
  return { store: true, expires: expiresAt(expiry, now) }
}

/** rfc: whether a stale-on-arrival response without a validator could still be served (stale-if-error, stale-while-revalidate). */
function maySoonServeStale(directives: Directives, settings: ResolvedSettings): boolean {
  if (!mayServeStale(directives, settings)) return false
  return (
    directives.staleIfError !== undefined ||
    directives.staleWhileRevalidate !== undefined ||
    settings.staleIfError > 0 ||
    settings.staleWhileRevalidate > 0
  )
}

/** rfc: the statuses whose caching requirements we implement (RFC 9110 §15, RFC 9111 §4.2.2), for must-understand. */
const UNDERSTOOD: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501])

function isStorableStatus(status: number, directives: Directives, headers: Headers, settings: ResolvedSettings): boolean {
  // rfc: partial content (we do not combine ranges, RFC 9111 §3.3) and a 304 (an answer about a response
  // we may not hold, §4.3.4) are never stored as a response, whatever allowableCodes says.
  if (status === 206 || status === 304) return false
  if (settings.allowableCodes.has(status)) return true
  if (!settings.cacheControl || settings.allowableCodesExplicit) return false
  // RFC 9111 §3: a final status that is heuristically cacheable (or marked public), or any final
  // status with explicit freshness (max-age, Expires; s-maxage in a shared cache only).
  if (status < 200) return false
  if (settings.sharedCache && directives.sMaxAge !== undefined) return true
  return allowsHeuristics(status, directives) || directives.maxAge !== undefined || headers.has('expires')
}

/**
 * rfc: whether `Set-Cookie` is stored and replayed with the response. RFC 9111 §3.1 stores every
 * field but hop-by-hop ones, and §7.3 leaves `Set-Cookie` to the origin's `Cache-Control`: a private
 * cache (`cacheControl: true`) keeps it, as browsers do. Only while keys keep credentials apart (no
 * `keyFn`, no credential header in `ignoredParameters`), so a cookie is replayed only to requests
 * with the same `Cookie` and `Authorization` as the one that received it. A shared cache
 * (`cacheControl: 'shared'`) never stores it: one user's cookie must not reach another, and shared
 * caches commonly strip it. The default mode keeps requests-cache's behaviour: never stored.
 */
export function keepsSetCookie(settings: ResolvedSettings): boolean {
  if (!settings.cacheControl || settings.sharedCache || settings.keyFn) return false
  return !CREDENTIAL_HEADERS.some((name) => settings.ignoredHeaders.has(name))
}

/**
 * RFC 9110 §9.3.3, RFC 9111 §4: a POST response with explicit freshness and a `Content-Location`
 * naming the request's own URI is a representation of that resource, so it may answer later GETs
 * (only with `cacheControl` on, and when `allowableMethods` lets the cache take part in POST).
 */
export function servesLaterGets(method: string, url: string, headers: Headers, settings: ResolvedSettings): boolean {
  if (method !== 'POST' || !settings.cacheControl || !settings.allowableMethods.has('GET')) return false
  const location = headers.get('content-location')
  if (location === null) return false
  const directives = parseCacheControl(headers.get('cache-control'))
  const explicit =
    directives.maxAge !== undefined || headers.has('expires') || (settings.sharedCache && directives.sMaxAge !== undefined)
  if (!explicit) return false
  try {
    return new URL(location, url).href === new URL(url).href
  } catch {
    return false
  }
}
