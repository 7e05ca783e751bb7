import type { CacheEntry, FieldReader } from '../entry/entry.js'
import { correctedInitialAge } from '../entry/freshness-facts.js'
import type { Directives } from '../http/cache-control.js'
import { firstHttpDate } from '../http/dates.js'

/**
 * Freshness arithmetic of RFC 9111 §4.2, and the validators of RFC 9110 §8.8 / §13. Pure: every
 * function takes `now` (ms since epoch). Nothing here throws on a malformed header.
 */

/**
 * Status codes that are heuristically cacheable (RFC 9110 §15.1): storable and reusable with a
 * freshness lifetime computed from `Last-Modified` when the response gives none.
 */
const HEURISTICALLY_CACHEABLE: ReadonlySet<number> = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501])

/** The share of (Date − Last-Modified) used as heuristic freshness (RFC 9111 §4.2.2 suggests 10%). */
const HEURISTIC_FRACTION = 0.1

/** The response's `Date` in ms; without a valid one, when it was received (RFC 9110 §6.6.1). */
function dateValue(headers: Headers, responseTime: number): number {
  return firstHttpDate(headers.get('date')) ?? responseTime
}

/** `corrected_initial_age` of RFC 9111 §4.2.3, in ms, of a response not yet stored. */
export function initialAge(headers: Headers, requestTime: number, responseTime: number): number {
  return correctedInitialAge(headers.get('date'), headers.get('age'), requestTime, responseTime)
}

/**
 * `current_age` of RFC 9111 §4.2.3, in ms, for a stored entry: its initial age (computed when it was
 * written, entry/freshness-facts.ts) plus the time it has been resident.
 */
export function currentAge(entry: Pick<CacheEntry, 'initialAge' | 'responseTime'>, now: number): number {
  return entry.initialAge + Math.max(0, now - entry.responseTime)
}

/**
 * The freshness lifetime a response's own headers give it (RFC 9111 §4.2.1), in ms, or `undefined`
 * when it has none. A `shared` cache takes `s-maxage` first; a private one ignores it (§5.2.2.10).
 * `max-age` beats `Expires`; an invalid `Expires` (e.g. `0`) means already expired (§5.3); `Expires`
 * is measured against `Date`, or against the time the response arrived when `Date` is missing or invalid.
 */
export function explicitLifetime(
  directives: Directives,
  headers: Headers,
  responseTime = Date.now(),
  shared = false,
): number | undefined {
  if (shared && directives.sMaxAge !== undefined) return directives.sMaxAge * 1000
  if (directives.maxAge !== undefined) return directives.maxAge * 1000
  const expiresHeader = headers.get('expires')
  if (expiresHeader !== null) {
    const expires = firstHttpDate(expiresHeader)
    if (expires === undefined) return 0
    return Math.max(0, expires - dateValue(headers, responseTime))
  }
  return undefined
}

/**
 * Whether a response may be given heuristic freshness (RFC 9111 §4.2.2): its status is heuristically
 * cacheable, or `Cache-Control: public` marks it explicitly cacheable.
 */
export function allowsHeuristics(status: number, directives: Directives): boolean {
  return HEURISTICALLY_CACHEABLE.has(status) || directives.public === true
}

/**
 * Heuristic freshness from `Last-Modified` (RFC 9111 §4.2.2), in ms: 10% of the time since the last
 * modification. `undefined` when the status does not allow heuristics or there is no valid
 * `Last-Modified`; 0 when `Last-Modified` is in the future.
 */
export function heuristicLifetime(
  status: number,
  headers: Headers,
  responseTime: number,
  directives: Directives = {},
): number | undefined {
  if (!allowsHeuristics(status, directives)) return undefined
  const lastModified = firstHttpDate(headers.get('last-modified'))
  if (lastModified === undefined) return undefined
  return Math.max(0, (dateValue(headers, responseTime) - lastModified) * HEURISTIC_FRACTION)
}

/** Whether a response carries a validator usable in a conditional request (RFC 9110 §8.8). */
export function hasValidator(headers: FieldReader): boolean {
  return headers.get('etag') !== null || firstHttpDate(headers.get('last-modified')) !== undefined
}

/**
 * The conditional headers to revalidate a stored response with (RFC 9111 §4.3.1): `If-None-Match`
 * with its entity-tag, and `If-Modified-Since` with its `Last-Modified` (a valid date only). With
 * `dateFallback`, a response with neither gets `If-Modified-Since` with its `Date` (RFC 9110 §13.1.3
 * allows a cache to use it), so an origin that can answer 304 spares the body.
 */
export function conditionalHeaders(headers: FieldReader, dateFallback = false): Record<string, string> {
  const conditional: Record<string, string> = {}
  const etag = headers.get('etag')
  const lastModified = headers.get('last-modified')
  if (etag !== null) conditional['if-none-match'] = etag
  if (lastModified !== null && firstHttpDate(lastModified) !== undefined) conditional['if-modified-since'] = lastModified
  else if (dateFallback && etag === null) {
    const date = headers.get('date')
    if (date !== null && firstHttpDate(date) !== undefined) conditional['if-modified-since'] = date
  }
  return conditional
}

/** The request header fields that make a request conditional (RFC 9110 §13.1). */
const CONDITIONAL_REQUEST_HEADERS: readonly string[] = [
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
]

/** Whether the caller made the request conditional itself (`If-Range` aside with `exceptIfRange`). */
export function isConditionalRequest(headers: Headers, exceptIfRange = false): boolean {
  return CONDITIONAL_REQUEST_HEADERS.some((name) => headers.has(name) && !(exceptIfRange && name === 'if-range'))
}
