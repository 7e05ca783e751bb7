import { type Directives, parseCacheControl } from '../http/cache-control.js'
import { CREDENTIAL_HEADERS } from '../http/fields.js'
import { type Expiry, expiresAt } from '../options/expire-after.js'
import type { ResolvedSettings } from '../options/types.js'
import { type CacheControlMode, type CachePlan, mayServeStale, NO_DIRECTIVES, sharesAuthorized } from './actions.js'
import { allowsHeuristics, explicitLifetime, hasValidator, heuristicLifetime, initialAge } from './freshness.js'
import { parseContentRange } from './range.js'

/**
 * Whether and for how long a response from the origin is stored (RFC 9111 §3), and the two rules on
 * what a stored response also carries or answers (`Set-Cookie`, a POST's later GETs). Expiry follows
 * the precedence in actions.ts.
 */

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
  const directives = plan.cacheControl ? parseCacheControl(headers.get('cache-control')) : NO_DIRECTIVES
  const validator = hasValidator(headers)
  // rfc: RFC 9111 §3.3: a 206 is stored as if it were an incomplete 200, when it answers our one-range
  // GET with one byte range of a known length and no content-coding (whose ranges are of coded bytes).
  if (status === 206 && !storablePiece(plan, headers)) return { store: false, reason: 'partial content' }
  if (!isStorableStatus(status === 206 ? 200 : status, directives, headers, plan, settings)) {
    return { store: false, reason: `status ${status}` }
  }
  // RFC 9111 §5.2.2.3: must-understand stores only statuses whose caching we implement, and then
  // lets their no-store (sent for caches that do not know must-understand) be ignored.
  if (directives.mustUnderstand) {
    if (!UNDERSTOOD.has(status)) return { store: false, reason: `must-understand, status ${status} not understood` }
  } else if (directives.noStore) return { store: false, reason: 'response no-store' }
  if (plan.sharedCache) {
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
  if (plan.cacheControl && response.redirected) return { store: false, reason: 'redirected' }

  // The response's own freshness first (when it counts), then the rules (request max-age, per request,
  // per URL, expireAfter): requests-cache's order.
  if (plan.cacheControl) {
    const lifetime =
      directives.noCache === true ? 0 : explicitLifetime(directives, headers, response.responseTime, plan.sharedCache)
    if (lifetime !== undefined) {
      const expires = now + lifetime - initialAge(headers, response.requestTime, response.responseTime)
      // rfc: stale on arrival is still worth storing when it can be revalidated (requests-cache: max-age=0
      // + validator) or served stale (RFC 5861). A `no-cache` response with a `Date` is revalidated with
      // that date (RFC 9110 §13.1.3), and when the origin cannot be reached then, the caller gets a
      // generated 504 rather than a network error (RFC 9111 §4.2.4, §5.2.2.4).
      const datedNoCache = directives.noCache === true && headers.has('date')
      if (expires <= now && !validator && !datedNoCache && !maySoonServeStale(directives, plan, settings)) {
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
function maySoonServeStale(directives: Directives, mode: CacheControlMode, settings: ResolvedSettings): boolean {
  if (!mayServeStale(directives, mode)) return false
  return (
    directives.staleIfError !== undefined ||
    directives.staleWhileRevalidate !== undefined ||
    settings.staleIfError > 0 ||
    settings.staleWhileRevalidate > 0
  )
}

/** rfc: the statuses whose caching requirements we implement (RFC 9110 §15, RFC 9111 §4.2.2), for must-understand. */
const UNDERSTOOD: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501])

function isStorableStatus(
  status: number,
  directives: Directives,
  headers: Headers,
  mode: CacheControlMode,
  settings: ResolvedSettings,
): boolean {
  // rfc: a 304 (an answer about a response we may not hold, §4.3.4) is never stored as a response,
  // whatever allowableCodes says; a 206 comes here as the 200 it is a piece of (decideWrite).
  if (status === 206 || status === 304) return false
  if (settings.allowableCodes.has(status)) return true
  if (!mode.cacheControl || settings.allowableCodesExplicit) return false
  // RFC 9111 §3: a final status that is heuristically cacheable (or marked public), or any final
  // status with explicit freshness (max-age, Expires; s-maxage in a shared cache only).
  if (status < 200) return false
  if (mode.sharedCache && directives.sMaxAge !== undefined) return true
  return allowsHeuristics(status, directives) || directives.maxAge !== undefined || headers.has('expires')
}

/** A 206 the cache can place (see decideWrite): an answer to its one-range request, one range of a known length, not coded. */
function storablePiece(plan: CachePlan, headers: Headers): boolean {
  if (!plan.cacheControl || plan.range === undefined) return false
  const coding = headers.get('content-encoding')
  if (coding !== null && coding.trim().toLowerCase() !== 'identity') return false
  return parseContentRange(headers.get('content-range')) !== undefined
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
export function keepsSetCookie(mode: CacheControlMode, settings: ResolvedSettings): boolean {
  if (!mode.cacheControl || mode.sharedCache || settings.keyFn) return false
  return !CREDENTIAL_HEADERS.some((name) => settings.ignoredHeaders.has(name))
}

/**
 * RFC 9110 §9.3.3, RFC 9111 §4: a POST response with explicit freshness and a `Content-Location`
 * naming the request's own URI is a representation of that resource, so it may answer later GETs
 * (only with `cacheControl` on, and when `allowableMethods` lets the cache take part in POST).
 */
export function servesLaterGets(
  method: string,
  url: string,
  headers: Headers,
  mode: CacheControlMode,
  settings: ResolvedSettings,
): boolean {
  if (method !== 'POST' || !mode.cacheControl || !settings.allowableMethods.has('GET')) return false
  const location = headers.get('content-location')
  if (location === null) return false
  const directives = parseCacheControl(headers.get('cache-control'))
  const explicit =
    directives.maxAge !== undefined || headers.has('expires') || (mode.sharedCache && directives.sMaxAge !== undefined)
  if (!explicit) return false
  try {
    return new URL(location, url).href === new URL(url).href
  } catch {
    return false
  }
}
