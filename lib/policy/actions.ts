import { type CacheEntry, storedFields } from '../entry/entry.js'
import { type Directives, parseCacheControl, type ReuseDirectives } from '../http/cache-control.js'
import type { Expiry } from '../options/expire-after.js'
import type { ParsedRequestOptions } from '../options/settings.js'
import type { ResolvedSettings } from '../options/types.js'
import type { RequestCacheMode } from '../request/cache-request.js'
import { conditionalHeaders, currentAge, hasValidator, isConditionalRequest } from './freshness.js'
import { type ByteRange, parseRange } from './range.js'

/**
 * The cache's decisions, as values (requests-cache's CacheActions): pure functions of the request,
 * the stored entry, the settings and `now`. The exchange (engine/exchange.ts) switches on them and does
 * the I/O; the fronts only render its outcomes.
 *
 * Expiry precedence, highest first (requests-cache's order; the README's "Expiry precedence"):
 * 1. the response's `Cache-Control` / `Expires` / `Age` (only with `cacheControl`, which a request can
 *    turn off or on for itself);
 * 2. the request's `Cache-Control: max-age`;
 * 3. the per-request `cacheOptions.expireAfter`;
 * 4. the first matching `urlsExpireAfter` rule;
 * 5. `expireAfter`.
 * `DO_NOT_CACHE` from 4 or 5 is an exclusion rather than an expiry: only 3 lifts it.
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
      /** The one byte range asked for (with cacheControl on): served from a stored 200 or a stored piece (206). */
      range?: ByteRange | undefined
      /** Use any entry, even stale (`force-cache`, fetch's `only-if-cached`, `onlyIfCached: 'throw'`). */
      anyAge: boolean
      onlyIfCached: boolean
      /** `onlyIfCached: 'throw'`: what the store cannot answer rejects with a `CacheMissError`, never a 504. */
      replay: boolean
      /**
       * Whether the response's `Cache-Control`, `Expires` and `Age` count (RFC 9111): the `cacheControl`
       * setting, or this request's own `cacheOptions.cacheControl`.
       */
      cacheControl: boolean
      /** ...as a shared cache's do (`cacheControl: 'shared'`, RFC 9111 §3). */
      sharedCache: boolean
      /**
       * The expiry when the response's headers give none (or do not count): the request's max-age, else
       * the per-request `expireAfter`, else the first matching `urlsExpireAfter` rule, else `expireAfter`.
       */
      ruleExpiry: Expiry
      /** Whether `ruleExpiry` came from the request or the user rather than the default. */
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

/** Whether, and as which kind of cache, a request honours the response's directives. */
export type CacheControlMode = Pick<CachePlan, 'cacheControl' | 'sharedCache'>

export const NO_DIRECTIVES: Directives = Object.freeze({})
const PRAGMA_NO_CACHE = /(?:^|,)\s*no-cache\s*(?:,|$)/i

/** Decides whether and how the cache takes part in a request. */
export function planRequest(facts: RequestFacts, settings: ResolvedSettings): RequestPlan {
  if (settings.disabled) return { kind: 'bypass', reason: 'disabled' }
  if (facts.mode === 'no-store') return { kind: 'bypass', reason: "cache: 'no-store'" }
  if (!settings.allowableMethods.has(facts.method)) return { kind: 'bypass', reason: `method ${facts.method}` }
  if (facts.unkeyableBody) return { kind: 'bypass', reason: 'stream body' }
  const cacheControlField = facts.headers.get('cache-control')
  const request = parseCacheControl(cacheControlField)
  // RFC 9111 §5.2.1.5: no-store in a request means neither reuse nor store.
  if (request.noStore) return { kind: 'bypass', reason: 'request no-store' }
  const { options } = facts
  const cacheControl = options.cacheControl ?? settings.cacheControl
  // rfc: with cacheControl on, a GET for one byte range may be served from a stored complete 200 or a
  // stored piece that holds it, and its answer (a 206 piece, or the whole 200) may be stored (RFC 9111
  // §3.3-3.4, policy/range.ts); any other Range request passes through.
  const rangeField = facts.headers.get('range')
  const range = rangeField === null ? undefined : parseRange(rangeField)
  if (rangeField !== null && !(cacheControl && facts.method === 'GET' && range)) {
    return { kind: 'bypass', reason: 'Range request' }
  }
  // rfc: If-Match and If-Unmodified-Since are preconditions only the origin evaluates (RFC 9110
  // §13.1.1, §13.1.4); a cache must not evaluate them (RFC 9111 §4.3.2), and a stored answer would
  // ignore them. Such a request goes to the origin, whatever the mode.
  if (facts.headers.has('if-match') || facts.headers.has('if-unmodified-since')) {
    return { kind: 'bypass', reason: 'origin precondition' }
  }
  // rfc: a request that carries its own validators is the caller's conditional request: the private
  // cache sends it to the origin as is and never stores its answer (often a 304 for something we do
  // not hold), as Fetch does for a request with If-None-Match & co. (Fetch "HTTP-network-or-cache
  // fetch", step 15). A shared cache answers it from what it holds (RFC 9111 §4.3.2).
  if (cacheControl && !settings.sharedCache && isConditionalRequest(facts.headers, range !== undefined)) {
    return { kind: 'bypass', reason: 'conditional request' }
  }

  const requestExpiry = options.expiry
  const [configured, configuredExplicit] = configuredExpiry(facts.url, settings)
  // DO_NOT_CACHE in the settings excludes the URL: only this request's own expireAfter lifts it
  // (a request Cache-Control: max-age does not, unlike requests-cache, so an allow-list holds).
  if ((requestExpiry ?? configured).kind === 'skip') return { kind: 'bypass', reason: 'DO_NOT_CACHE' }
  // requests-cache's order below the response's headers: request max-age, per request, per URL, session.
  const [ruleExpiry, ruleExplicit]: [Expiry, boolean] =
    request.maxAge !== undefined
      ? [fromMaxAge(request.maxAge), true]
      : requestExpiry
        ? [requestExpiry, true]
        : [configured, configuredExplicit]

  // RFC 9111 §5.4: Pragma counts only when the request has no Cache-Control.
  const pragmaNoCache = cacheControlField === null && PRAGMA_NO_CACHE.test(facts.headers.get('pragma') ?? '')
  // RFC 9111 §5.2.1.7: the request's own `only-if-cached` directive holds whatever the options say.
  const offline =
    (options.onlyIfCached ?? (settings.onlyIfCached || facts.mode === 'only-if-cached')) || request.onlyIfCached === true
  const onlyIfCached = offline !== false
  const replay = offline === 'throw'
  const forceRefresh = (options.forceRefresh ?? settings.forceRefresh) || facts.mode === 'reload'
  const forced = options.refresh === true || request.noCache !== undefined || pragmaNoCache
  const reload = facts.mode === 'no-cache' || request.maxAge === 0
  return {
    kind: 'cache',
    // Offline beats a forced refresh: there is no network to refresh from.
    read: !forceRefresh || onlyIfCached,
    write: !settings.readOnly,
    range,
    revalidate: forced || reload,
    reload: reload && !forced,
    anyAge: facts.mode === 'force-cache' || facts.mode === 'only-if-cached' || replay,
    onlyIfCached,
    replay,
    cacheControl: cacheControl !== false,
    sharedCache: cacheControl !== false && settings.sharedCache,
    ruleExpiry,
    ruleExplicit,
    staleIfError: options.staleIfError,
    staleWhileRevalidate: options.staleWhileRevalidate,
    request,
    authorization: facts.headers.has('authorization'),
  }
}

/**
 * `onlyIfCached: 'throw'` (the request's, else the setting's) on a cache that is not disabled: the
 * request must never reach the network, even one the cache would stay out of (a method not cached,
 * a stream body, `cache: 'no-store'`): replaying fixtures, a request sent is a test gone wrong.
 */
export function replays(options: ParsedRequestOptions, settings: ResolvedSettings): boolean {
  return !settings.disabled && (options.onlyIfCached ?? settings.onlyIfCached) === 'throw'
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
  const response = responseDirectives(entry, plan)
  // RFC 9111 §3.5: a shared cache reuses a response to a request with Authorization only when the
  // response allows it (an entry stored before the cache became shared may not).
  if (plan.sharedCache && plan.authorization && !sharesAuthorized(response)) return plan.onlyIfCached ? NOT_CACHED : FETCH
  const expired = isExpired(entry, now)
  if (plan.anyAge) return expired ? SERVE_STALE : SERVE_FRESH
  // RFC 8246 §2: a reload does not revalidate a fresh immutable response (browsers do the same).
  const reloadOfImmutable = plan.reload && response.immutable === true
  const fresh = !expired && isFreshForRequest(plan, entry, response, now, reloadOfImmutable)

  if (plan.onlyIfCached) {
    // Offline: never the network. A stale entry is served when some stale allowance covers it.
    if (fresh) return SERVE_FRESH
    if (expired && mayServeStale(response, plan)) {
      const maxStale = plan.request.maxStale
      if (maxStale !== undefined && staleWithin(entry, now, maxStale * 1000)) return SERVE_STALE
      if (staleWithin(entry, now, staleIfErrorLimit(plan, response, settings))) return SERVE_STALE
      if (staleWithin(entry, now, staleWhileRevalidateLimit(plan, response, settings))) return SERVE_STALE
    }
    return NOT_CACHED
  }

  if (fresh) {
    if (plan.revalidate && !reloadOfImmutable) return revalidateOrFetch(entry, plan)
    // alwaysRevalidate needs a validator (requests-cache); immutable means there is nothing to ask.
    if (settings.alwaysRevalidate && !response.immutable && entryHasValidator(entry)) return revalidateOrFetch(entry, plan)
    return SERVE_FRESH
  }

  if (expired && !plan.revalidate && mayServeStale(response, plan)) {
    // A client's max-stale accepts a stale entry as is (RFC 9111 §5.2.1.2).
    const { maxStale, maxAge, minFresh } = plan.request
    if (maxStale !== undefined && staleWithin(entry, now, maxStale * 1000)) return SERVE_STALE
    // RFC 9111 §4.2.4, §5.2.1: stale-while-revalidate never overrides the client's own limits: a
    // max-stale already exceeded, a min-fresh (a stale entry has no freshness left), a max-age the
    // entry's age exceeds.
    const clientRefuses =
      maxStale !== undefined || minFresh !== undefined || (maxAge !== undefined && currentAge(entry, now) > maxAge * 1000)
    if (!clientRefuses && staleWithin(entry, now, staleWhileRevalidateLimit(plan, response, settings)))
      return { kind: 'serve-stale-and-refresh', conditional: revalidationHeaders(entry, plan) }
  }
  return revalidateOrFetch(entry, plan)
}

/** A conditional request when the entry can be revalidated, a plain one otherwise. */
function revalidateOrFetch(entry: CacheEntry, mode: CacheControlMode): CachedAction {
  const headers = revalidationHeaders(entry, mode)
  return headers ? { kind: 'revalidate', headers } : FETCH
}

/**
 * The header fields that revalidate a stored entry (RFC 9111 §4.3.1), or `undefined` when it cannot
 * be revalidated: its validators (RFC 9110 §13.1); without any, with cacheControl on, its `Date` as
 * `If-Modified-Since` (RFC 9110 §13.1.3 lets a cache use it). The one rule for every revalidation,
 * in the request's path or in the background.
 */
function revalidationHeaders(entry: CacheEntry, mode: CacheControlMode): Record<string, string> | undefined {
  const fields = storedFields(entry)
  if (hasValidator(fields)) return conditionalHeaders(fields)
  if (!mode.cacheControl) return undefined
  const byDate = conditionalHeaders(fields, true)
  return 'if-modified-since' in byDate ? byDate : undefined
}

/** Whether the entry is past its expiry (ignoring request directives). */
export function isExpired(entry: Pick<CacheEntry, 'expires'>, now: number): boolean {
  return entry.expires !== null && now >= entry.expires
}

/** Freshness as this request sees it (the entry is not expired): response no-cache, request max-age / min-fresh. */
function isFreshForRequest(plan: CachePlan, entry: CacheEntry, response: ReuseDirectives, now: number, reload = false): boolean {
  // RFC 9111 §5.2.2.4: no-cache without field names means every use must be validated.
  if (response.noCache === true) return false
  const { maxAge, minFresh } = plan.request
  if (maxAge !== undefined && !(reload && maxAge === 0) && currentAge(entry, now) > maxAge * 1000) return false
  if (minFresh !== undefined && entry.expires !== null && entry.expires - now < minFresh * 1000) return false
  return true
}

/** The stored response's reuse directives (parsed when it was written), heeded only when `cacheControl` is on. */
function responseDirectives(entry: CacheEntry, mode: CacheControlMode): ReuseDirectives {
  if (!mode.cacheControl) return NO_DIRECTIVES
  return entry.directives ?? NO_DIRECTIVES
}

function entryHasValidator(entry: CacheEntry): boolean {
  return hasValidator(storedFields(entry))
}

/**
 * must-revalidate, proxy-revalidate (a private cache honours it too: it is never wrong to be stricter)
 * and no-cache forbid serving stale; so does s-maxage in a shared cache (RFC 9111 §5.2.2.10: it
 * implies proxy-revalidate there).
 */
export function mayServeStale(response: ReuseDirectives, mode: CacheControlMode): boolean {
  if (mode.sharedCache && response.sMaxAge !== undefined) return false
  return !response.mustRevalidate && !response.noCache && !response.proxyRevalidate
}

/** RFC 9111 §3.5: the response directives that let a shared cache store and reuse a response to an authorized request. */
export function sharesAuthorized(response: ReuseDirectives): boolean {
  return response.public === true || response.sMaxAge !== undefined || response.mustRevalidate === true
}

/** Whether the entry is at most `limitMs` past its expiry (a fresh entry is within any positive limit). */
function staleWithin(entry: CacheEntry, now: number, limitMs: number | undefined): boolean {
  if (!limitMs || entry.expires === null) return false
  return now - entry.expires <= limitMs
}

/** stale-if-error: the per-request option, the request directive, the response directive, the setting. */
function staleIfErrorLimit(plan: CachePlan, response: ReuseDirectives, settings: ResolvedSettings): number {
  if (plan.staleIfError !== undefined) return plan.staleIfError
  if (plan.request.staleIfError !== undefined) return plan.request.staleIfError * 1000
  if (response.staleIfError !== undefined) return response.staleIfError * 1000
  return settings.staleIfError
}

/** stale-while-revalidate: the per-request option, the request directive (as requests-cache reads it), the response, the setting. */
function staleWhileRevalidateLimit(plan: CachePlan, response: ReuseDirectives, settings: ResolvedSettings): number {
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
  const response = responseDirectives(entry, plan)
  // RFC 9111 §4.2.4: must-revalidate, no-cache and proxy-revalidate (or s-maxage, shared) forbid
  // serving the entry without validation; stale-if-error, the response's own included, cannot lift that.
  if (!mayServeStale(response, plan)) return false
  return staleWithin(entry, now, staleIfErrorLimit(plan, response, settings))
}

/**
 * Whether the entry's own directives forbid reusing it unvalidated (RFC 9111 §4.2.4, §5.2.2.2
 * must-revalidate, §5.2.2.4 no-cache, §5.2.2.8 proxy-revalidate and §5.2.2.10 s-maxage in a shared
 * cache): then a revalidation that cannot reach the origin is answered with a generated 504.
 */
export function mustRevalidate(mode: CacheControlMode, entry: CacheEntry): boolean {
  return mode.cacheControl && !mayServeStale(responseDirectives(entry, mode), mode)
}
