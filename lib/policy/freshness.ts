import { type CacheEntry, type FieldReader, storedField } from '../entry/entry.js'
import { type Directives, MAX_DELTA_SECONDS } from '../http/cache-control.js'
import { parseHttpDate } from '../http/dates.js'

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

/**
 * The first member of a field that must be single (`Date`, `Expires`) but arrived as a list, from
 * several field lines or a comma (RFC 9111 §4.2.1 "the first occurrence should be used"). Dates
 * contain a comma themselves, so the first prefix that parses as a date wins.
 */
function firstDate(value: string | null): number | undefined {
  if (value === null) return undefined
  const whole = parseHttpDate(value)
  if (whole !== undefined) return whole
  for (let comma = value.indexOf(','); comma !== -1; comma = value.indexOf(',', comma + 1)) {
    const parsed = parseHttpDate(value.slice(0, comma))
    if (parsed !== undefined) return parsed
  }
  return undefined
}

/**
 * The `Age` header as seconds. A list uses its first member and an invalid value (not a non-negative
 * integer: `-5`, `1.5`, `abc`) is ignored, i.e. 0 (RFC 9111 §5.1).
 */
export function parseAge(value: string | null): number {
  if (value === null) return 0
  const text = value.split(',')[0]?.trim() ?? ''
  if (!/^\d+$/.test(text)) return 0
  return Math.min(Number(text), MAX_DELTA_SECONDS)
}

/** The response's `Date` in ms; without a valid one, when it was received (RFC 9110 §6.6.1). */
function dateValue(headers: Headers, responseTime: number): number {
  return firstDate(headers.get('date')) ?? responseTime
}

/** `corrected_initial_age` of RFC 9111 §4.2.3, in ms. */
export function initialAge(headers: Headers, requestTime: number, responseTime: number): number {
  return correctedInitialAge(headers.get('date'), headers.get('age'), requestTime, responseTime)
}

function correctedInitialAge(date: string | null, age: string | null, requestTime: number, responseTime: number): number {
  const apparentAge = Math.max(0, responseTime - (cachedDate(date) ?? responseTime))
  const responseDelay = Math.max(0, responseTime - requestTime)
  const correctedAgeValue = parseAge(age) * 1000 + responseDelay
  return Math.max(apparentAge, correctedAgeValue)
}

/**
 * `current_age` of RFC 9111 §4.2.3, in ms, for a stored entry: initial age plus time resident. Reads
 * the stored header pairs directly: it runs on every hit.
 */
export function currentAge(entry: CacheEntry, now: number): number {
  const initial = correctedInitialAge(
    storedField(entry, 'date'),
    storedField(entry, 'age'),
    entry.requestTime,
    entry.responseTime,
  )
  return initial + Math.max(0, now - entry.responseTime)
}

// Parsed `Date` values: an entry is served many times with the same one. Bounded, cleared when full.
const PARSED_DATES = new Map<string, number | undefined>()

function cachedDate(value: string | null): number | undefined {
  if (value === null) return undefined
  if (PARSED_DATES.has(value)) return PARSED_DATES.get(value)
  const parsed = firstDate(value)
  if (PARSED_DATES.size >= 1024) PARSED_DATES.clear()
  PARSED_DATES.set(value, parsed)
  return parsed
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
    const expires = firstDate(expiresHeader)
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
  const lastModified = firstDate(headers.get('last-modified'))
  if (lastModified === undefined) return undefined
  return Math.max(0, (dateValue(headers, responseTime) - lastModified) * HEURISTIC_FRACTION)
}

/** Whether a response carries a validator usable in a conditional request (RFC 9110 §8.8). */
export function hasValidator(headers: FieldReader): boolean {
  return headers.get('etag') !== null || firstDate(headers.get('last-modified')) !== undefined
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
  if (lastModified !== null && firstDate(lastModified) !== undefined) conditional['if-modified-since'] = lastModified
  else if (dateFallback && etag === null) {
    const date = headers.get('date')
    if (date !== null && firstDate(date) !== undefined) conditional['if-modified-since'] = date
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
