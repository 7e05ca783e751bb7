import type { CacheEntry } from '../entry.js'
import type { Directives } from './directives.js'

/**
 * Freshness arithmetic of RFC 9111 §4.2. Pure: every function takes `now` (ms since epoch).
 */

/** Status codes a cache may store and reuse without explicit freshness (RFC 9110 §15.1). */
export const HEURISTICALLY_CACHEABLE: ReadonlySet<number> = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501])

/** The share of (Date − Last-Modified) used as heuristic freshness (RFC 9111 §4.2.2 suggests 10%). */
const HEURISTIC_FRACTION = 0.1

/** An HTTP-date in ms, or `undefined` when absent or malformed. */
export function parseHttpDate(value: string | null | undefined): number | undefined {
  if (!value) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

/** The first header value of a list, for fields that must be single (duplicates: RFC 9111 §4.2.1). */
function first(value: string | null): string | null {
  if (value === null) return null
  const comma = value.indexOf(',')
  // HTTP-dates contain a comma after the weekday: only split past it.
  if (comma === -1 || /^\s*[A-Za-z]{3},/.test(value)) {
    const second = value.indexOf(',', comma + 1)
    return second === -1 || comma === -1 ? value : value.slice(0, second)
  }
  return value.slice(0, comma)
}

/** The `Age` header as seconds; malformed or absent is 0. */
export function parseAge(value: string | null): number {
  const text = first(value)?.trim()
  if (!text || !/^\d+$/.test(text)) return 0
  return Math.min(Number(text), 2_147_483_648)
}

/** `corrected_initial_age` of RFC 9111 §4.2.3, in ms. */
export function initialAge(headers: Headers, requestTime: number, responseTime: number): number {
  const date = parseHttpDate(first(headers.get('date'))) ?? responseTime
  const apparentAge = Math.max(0, responseTime - date)
  const responseDelay = Math.max(0, responseTime - requestTime)
  const correctedAgeValue = parseAge(headers.get('age')) * 1000 + responseDelay
  return Math.max(apparentAge, correctedAgeValue)
}

/** `current_age` of RFC 9111 §4.2.3, in ms, for a stored entry. */
export function currentAge(entry: CacheEntry, headers: Headers, now: number): number {
  return initialAge(headers, entry.requestTime, entry.responseTime) + Math.max(0, now - entry.responseTime)
}

/**
 * The freshness lifetime a response's own headers give it (RFC 9111 §4.2.1), in ms, or `undefined`
 * when it has none. As a private cache we ignore `s-maxage`.
 */
export function explicitLifetime(directives: Directives, headers: Headers): number | undefined {
  if (directives.maxAge !== undefined) return directives.maxAge * 1000
  const expiresHeader = headers.get('expires')
  if (expiresHeader !== null) {
    // A malformed Expires (e.g. "0") means already expired (§5.3).
    const expires = parseHttpDate(first(expiresHeader))
    if (expires === undefined) return 0
    const date = parseHttpDate(first(headers.get('date')))
    return date === undefined ? 0 : Math.max(0, expires - date)
  }
  return undefined
}

/** Heuristic freshness from `Last-Modified` (RFC 9111 §4.2.2), in ms, for statuses that allow it. */
export function heuristicLifetime(status: number, headers: Headers, responseTime: number): number | undefined {
  if (!HEURISTICALLY_CACHEABLE.has(status)) return undefined
  const lastModified = parseHttpDate(headers.get('last-modified'))
  if (lastModified === undefined) return undefined
  const date = parseHttpDate(first(headers.get('date'))) ?? responseTime
  return Math.max(0, (date - lastModified) * HEURISTIC_FRACTION)
}

/** Whether a response carries a validator usable in a conditional request. */
export function hasValidator(headers: Headers): boolean {
  return headers.has('etag') || headers.has('last-modified')
}

/** The conditional headers to revalidate a stored response with (RFC 9110 §13.1). */
export function conditionalHeaders(headers: Headers): Record<string, string> {
  const conditional: Record<string, string> = {}
  const etag = headers.get('etag')
  const lastModified = headers.get('last-modified')
  if (etag !== null) conditional['if-none-match'] = etag
  if (lastModified !== null) conditional['if-modified-since'] = lastModified
  return conditional
}
