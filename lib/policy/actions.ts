import type { CacheEntry } from '../entry.js'
import type { RequestCacheMode } from '../request.js'
import { type Directives, parseCacheControl } from './directives.js'
import { type Expiry, expiresAt, parseExpireAfter, parseStaleLimit } from './expiration.js'
import {
  allowsHeuristics,
  CONDITIONAL_REQUEST_HEADERS,
  conditionalHeaders,
  currentAge,
  explicitLifetime,
  hasValidator,
  heuristicLifetime,
  initialAge,
} from './freshness.js'
import type { RequestCacheOptions, ResolvedSettings } from './settings.js'

/**
 * The cache's decisions, as values (requests-cache's CacheActions): pure functions of the request,
 * the stored entry, the settings and `now`. The fronts switch on them and do the I/O.
 */

/** What the request itself says, before anything is looked up. */
export interface RequestFacts {
  method: string
  url: string
  headers: Headers
  /** `init.cache` (Fetch's cache mode). */
  mode: RequestCacheMode | undefined
  options: RequestCacheOptions
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
      /** Revalidate before using an entry (`no-cache`, `refresh`). */
      revalidate: boolean
      /** Use any entry, even stale (`force-cache`, fetch's `only-if-cached`). */
      anyAge: boolean
      onlyIfCached: boolean
      /** The per-request `expireAfter`: it beats every other rule, response headers included. */
      requestExpiry: Expiry | undefined
      /** The expiry from request max-age, `urlsExpireAfter` or `expireAfter`; response headers beat it. */
      ruleExpiry: Expiry
      /** Whether `ruleExpiry` came from the user rather than the default. */
      ruleExplicit: boolean
      staleIfError: number | undefined
      staleWhileRevalidate: number | undefined
      request: Directives
    }

export type CachePlan = Extract<RequestPlan, { kind: 'cache' }>

/** Decides whether and how the cache takes part in a request. */
export function planRequest(facts: RequestFacts, settings: ResolvedSettings): RequestPlan {
  if (settings.disabled) return { kind: 'bypass', reason: 'disabled' }
  if (!settings.allowableMethods.has(facts.method)) return { kind: 'bypass', reason: `method ${facts.method}` }
  if (facts.unkeyableBody) return { kind: 'bypass', reason: 'stream body' }
  if (facts.mode === 'no-store') return { kind: 'bypass', reason: "cache: 'no-store'" }
  const request = parseCacheControl(facts.headers.get('cache-control'))
  if (request.noStore) return { kind: 'bypass', reason: 'request no-store' }
  // Range requests are passed through: we neither store partial content (206) nor serve ranges from a
  // stored response (RFC 9111 §3.3 allows a cache not to).
  if (facts.headers.has('range')) return { kind: 'bypass', reason: 'Range request' }
  // rfc: a request that carries its own validators is the caller's conditional request: it goes to the
  // origin as is and its answer (often a 304 for something we do not hold) is never stored, as Fetch
  // does for a request with If-None-Match & co. (Fetch "HTTP-network-or-cache fetch", step 15).
  if (settings.cacheControl && CONDITIONAL_REQUEST_HEADERS.some((name) => facts.headers.has(name))) {
    return { kind: 'bypass', reason: 'conditional request' }
  }

  const { options } = facts
  const requestExpiry = options.expireAfter === undefined ? undefined : parseExpireAfter('cacheOptions.expireAfter', options.expireAfter)
  const [ruleExpiry, ruleExplicit] = chooseRule(facts, request, settings)
  if ((requestExpiry ?? ruleExpiry).kind === 'skip') return { kind: 'bypass', reason: 'DO_NOT_CACHE' }

  const pragmaNoCache = request.noCache === undefined && /(^|,)\s*no-cache\s*(,|$)/i.test(facts.headers.get('pragma') ?? '')
  const forceRefresh = options.forceRefresh === true || facts.mode === 'reload'
  const onlyIfCached =
    options.onlyIfCached ?? (facts.mode === 'only-if-cached' || request.onlyIfCached === true || settings.onlyIfCached)
  return {
    kind: 'cache',
    read: !forceRefresh || onlyIfCached,
    write: !settings.readOnly,
    revalidate: options.refresh === true || facts.mode === 'no-cache' || request.noCache !== undefined || pragmaNoCache,
    anyAge: facts.mode === 'force-cache' || facts.mode === 'only-if-cached',
    onlyIfCached,
    requestExpiry,
    ruleExpiry,
    ruleExplicit,
    staleIfError: options.staleIfError === undefined ? undefined : parseStaleLimit('cacheOptions.staleIfError', options.staleIfError),
    staleWhileRevalidate:
      options.staleWhileRevalidate === undefined
        ? undefined
        : parseStaleLimit('cacheOptions.staleWhileRevalidate', options.staleWhileRevalidate),
    request,
  }
}

/**
 * Expiry precedence below response headers: request max-age (requests-cache reads it as the expiry
 * to store with; with `cacheControl` it keeps only its RFC meaning), urlsExpireAfter, expireAfter.
 */
function chooseRule(facts: RequestFacts, request: Directives, settings: ResolvedSettings): [Expiry, boolean] {
  if (request.maxAge !== undefined && !settings.cacheControl) {
    return [request.maxAge === 0 ? { kind: 'immediately' } : { kind: 'duration', ms: request.maxAge * 1000 }, true]
  }
  for (const rule of settings.urlRules) if (rule.test(facts.url)) return [rule.expiry, true]
  return [settings.expiry, settings.expiryExplicit]
}

/** What to do once the store has answered. */
export type CachedAction =
  | { kind: 'serve'; stale: boolean }
  | { kind: 'serve-stale-and-refresh' }
  | { kind: 'revalidate'; headers: Record<string, string> }
  | { kind: 'fetch' }
  | { kind: 'not-cached' }

/** Decides between serving, revalidating and fetching, given what the store holds. */
export function decideCached(plan: CachePlan, entry: CacheEntry | undefined, settings: ResolvedSettings, now: number): CachedAction {
  if (!entry) return plan.onlyIfCached ? { kind: 'not-cached' } : { kind: 'fetch' }
  const headers = new Headers(entry.headers)
  const response = settings.cacheControl ? parseCacheControl(headers.get('cache-control')) : NO_DIRECTIVES
  const validator = hasValidator(headers)

  if (plan.anyAge) return { kind: 'serve', stale: isExpired(entry, now) }
  const fresh = isFresh(plan, entry, headers, response, now)
  if (plan.onlyIfCached) {
    if (fresh || mayServeStale(response) || staleWithin(entry, now, staleIfErrorLimit(plan, response, settings))) {
      return { kind: 'serve', stale: !fresh }
    }
    return { kind: 'not-cached' }
  }
  const mustRevalidate = plan.revalidate || (settings.alwaysRevalidate && !(response.immutable && fresh))
  if (fresh && !mustRevalidate) return { kind: 'serve', stale: false }
  if (fresh && mustRevalidate) return validator ? { kind: 'revalidate', headers: conditionalHeaders(headers) } : { kind: 'fetch' }

  // Stale. A client's max-stale accepts it as is (RFC 9111 §5.2.1.2), unless the response forbids.
  const maxStale = plan.request.maxStale
  if (maxStale !== undefined && !plan.revalidate && mayServeStale(response) && staleWithin(entry, now, maxStale * 1000)) {
    return { kind: 'serve', stale: true }
  }
  if (!plan.revalidate && mayServeStale(response) && staleWithin(entry, now, staleWhileRevalidateLimit(plan, response, settings))) {
    return { kind: 'serve-stale-and-refresh' }
  }
  return validator ? { kind: 'revalidate', headers: conditionalHeaders(headers) } : { kind: 'fetch' }
}

const NO_DIRECTIVES: Directives = Object.freeze({})

/** Whether the entry is past its expiry (ignoring request directives). */
export function isExpired(entry: CacheEntry, now: number): boolean {
  return entry.expires !== null && now >= entry.expires
}

function isFresh(plan: CachePlan, entry: CacheEntry, headers: Headers, response: Directives, now: number): boolean {
  if (isExpired(entry, now)) return false
  // RFC 9111 §5.2.2.4: no-cache without field names means every use must be validated.
  if (response.noCache === true) return false
  const { maxAge, minFresh } = plan.request
  if (maxAge !== undefined && currentAge(entry, headers, now) > maxAge * 1000) return false
  if (minFresh !== undefined && entry.expires !== null && entry.expires - now < minFresh * 1000) return false
  return true
}

/** must-revalidate, proxy-revalidate (we honour it too: it is never wrong to be stricter) and no-cache forbid serving stale. */
function mayServeStale(response: Directives): boolean {
  return !response.mustRevalidate && !response.noCache && !response.proxyRevalidate
}

function staleWithin(entry: CacheEntry, now: number, limitMs: number | undefined): boolean {
  if (!limitMs || entry.expires === null) return false
  return now - entry.expires <= limitMs
}

function staleIfErrorLimit(plan: CachePlan, response: Directives, settings: ResolvedSettings): number {
  if (plan.staleIfError !== undefined) return plan.staleIfError
  if (plan.request.staleIfError !== undefined) return plan.request.staleIfError * 1000
  if (response.staleIfError !== undefined) return response.staleIfError * 1000
  return settings.staleIfError
}

function staleWhileRevalidateLimit(plan: CachePlan, response: Directives, settings: ResolvedSettings): number {
  if (plan.staleWhileRevalidate !== undefined) return plan.staleWhileRevalidate
  if (response.staleWhileRevalidate !== undefined) return response.staleWhileRevalidate * 1000
  return settings.staleWhileRevalidate
}

/** Whether a failed origin request (network error or 5xx) may be answered with the stored entry. */
export function mayServeOnError(plan: CachePlan, entry: CacheEntry, settings: ResolvedSettings, now: number): boolean {
  if (!isExpired(entry, now)) return true // still fresh, e.g. a failed no-cache revalidation
  const response = settings.cacheControl ? parseCacheControl(new Headers(entry.headers).get('cache-control')) : NO_DIRECTIVES
  if (!mayServeStale(response) && response.staleIfError === undefined) return false
  return staleWithin(entry, now, staleIfErrorLimit(plan, response, settings))
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
  if (directives.noStore) return { store: false, reason: 'response no-store' }
  // rfc: RFC 9111 §4.1: a Vary member "*" (alone, in a list, or on any of several lines) never matches.
  if (settings.cacheControl && (headers.get('vary') ?? '').split(',').some((name) => name.trim() === '*')) {
    return { store: false, reason: 'Vary: *' }
  }
  // rfc: the response to the original URL was a redirect whose own cacheability we never saw; storing
  // the final response under the original URL would replay the redirect's target without asking.
  if (settings.cacheControl && response.redirected) return { store: false, reason: 'redirected' }

  // Precedence (DESIGN §3): per-request option, then response headers (cacheControl), then the rules.
  if (plan.requestExpiry) return fromRule(plan.requestExpiry, validator, now)
  if (settings.cacheControl) {
    const lifetime = directives.noCache === true ? 0 : explicitLifetime(directives, headers, response.responseTime)
    if (lifetime !== undefined) {
      const expires = now + lifetime - initialAge(headers, response.requestTime, response.responseTime)
      // rfc: stale on arrival is still worth storing when it can be revalidated or served stale (RFC 5861).
      if (expires <= now && !validator && !maySoonServeStale(directives, settings)) {
        return { store: false, reason: 'stale on arrival, no validator' }
      }
      return { store: true, expires }
    }
    // `immutable` only means something while fresh (RFC 8246 §2): without a lifetime it adds none.
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
  // EXPIRE_IMMEDIATELY stores only what can be revalidated (DESIGN §3).
  if (expiry.kind === 'immediately' && !validator) return { store: false, reason: 'EXPIRE_IMMEDIATELY without a validator' }
  return { store: true, expires: expiresAt(expiry, now) }
}

/** rfc: whether a stale-on-arrival response without a validator could still be served (stale-if-error, stale-while-revalidate). */
function maySoonServeStale(directives: Directives, settings: ResolvedSettings): boolean {
  if (!mayServeStale(directives)) return false
  return (
    directives.staleIfError !== undefined || directives.staleWhileRevalidate !== undefined || settings.staleIfError > 0 || settings.staleWhileRevalidate > 0
  )
}

function isStorableStatus(status: number, directives: Directives, headers: Headers, settings: ResolvedSettings): boolean {
  // rfc: partial content (we do not combine ranges, RFC 9111 §3.3) and a 304 (an answer about a response
  // we may not hold, §4.3.4) are never stored as a response, whatever allowableCodes says.
  if (status === 206 || status === 304) return false
  if (settings.allowableCodes.has(status)) return true
  if (!settings.cacheControl || settings.allowableCodesExplicit) return false
  // RFC 9111 §3: a final status that is heuristically cacheable (or marked public), or any final
  // status with explicit freshness (max-age, Expires; s-maxage is for shared caches only).
  if (status < 200) return false
  return allowsHeuristics(status, directives) || directives.maxAge !== undefined || headers.has('expires')
}
