import { type CacheEntry, storedField, storedFields } from '../entry/entry.js'
import { withFreshnessFacts } from '../entry/freshness-facts.js'
import { parseCacheControl } from '../http/cache-control.js'
import { parseHttpDate } from '../http/dates.js'
import { isWeak, noneMatchMatches, strongMatch, weakMatch } from '../http/etag.js'
import { fieldLines } from '../http/field-lines.js'

/**
 * Which response header fields are stored, and how a 304 (RFC 9111 §4.3.4) or a response to HEAD
 * (§4.3.5) updates a stored response's fields (§3.2).
 */

/**
 * Never stored (§3.1): hop-by-hop fields (RFC 9110 §7.6.1), the proxy authentication fields, and
 * `set-cookie` / the obsolete `set-cookie2` (credentials of their own); both are kept when
 * `storableHeaders` is told to (a private RFC 9111 cache, see `keepsSetCookie` in policy/actions.ts).
 */
const NEVER_STORED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authentication-info',
  'proxy-authorization',
  'set-cookie',
  'set-cookie2',
])

/** `Set-Cookie` and the obsolete `Set-Cookie2` (RFC 2965), which the private cache treats alike. */
const COOKIE_FIELDS: ReadonlySet<string> = new Set(['set-cookie', 'set-cookie2'])

/**
 * Fields a newer response never overwrites in a stored one (§3.2): those never stored, the
 * `Content-Length` of the stored body, and the content-coding the stored body depends on.
 */
const NOT_UPDATED = new Set([...NEVER_STORED, 'content-length', 'content-encoding', 'content-range'])

/** The field names a `Connection` header lists: hop-by-hop too, never stored (RFC 9111 §3.1). */
function connectionListed(headers: Headers): Set<string> {
  const listed = new Set<string>()
  for (const name of (headers.get('connection') ?? '').split(',')) {
    const trimmed = name.trim().toLowerCase()
    if (trimmed) listed.add(trimmed)
  }
  return listed
}

/**
 * Response header fields as stored (RFC 9111 §3.1): without hop-by-hop fields, the fields `Connection`
 * lists, and `set-cookie` unless `keepCookies`. Each field line is kept apart as it arrived when the
 * front knows the lines (http/field-lines.ts). With `cacheControl` on, also without the fields a qualified `no-cache="a, b"`
 * names, which must not be reused without revalidation (§5.2.2.4).
 */
export function storableHeaders(headers: Headers, cacheControl: boolean, keepCookies = false): [string, string][] {
  const skip = connectionListed(headers)
  const noCache = cacheControl ? parseCacheControl(headers.get('cache-control')).noCache : undefined
  if (Array.isArray(noCache)) for (const name of noCache) skip.add(name)
  const pairs: [string, string][] = []
  for (const [name, value] of fieldLines(headers)) {
    if (skip.has(name)) continue
    if (!NEVER_STORED.has(name) || (keepCookies && COOKIE_FIELDS.has(name))) pairs.push([name, value])
  }
  return pairs
}

/**
 * The stored fields updated by a newer response's (§3.2): each field it carries replaces the stored
 * one, except the fields above. A stored `Age` is dropped (it belonged to the old response) and a
 * newer response without `Date` gets the time it arrived (RFC 9110 §6.6.1), so the age calculation
 * restarts from the newer response.
 */
function updateHeaders(
  stored: readonly [string, string][],
  newer: Headers,
  responseTime: number,
  keepCookies = false,
): [string, string][] {
  const skip = connectionListed(newer)
  const replaced = new Set<string>(['age'])
  // One pass over the newer fields (each pass over a `Headers` sorts and copies them).
  const updates: [string, string][] = []
  for (const field of fieldLines(newer)) {
    const name = field[0]
    if ((!NOT_UPDATED.has(name) || (keepCookies && COOKIE_FIELDS.has(name))) && !skip.has(name)) {
      replaced.add(name)
      updates.push(field)
    }
  }
  const headers: [string, string][] = stored.filter(([name]) => !replaced.has(name))
  for (const field of updates) headers.push([field[0], field[1]])
  if (!newer.has('date')) {
    const date = headers.findIndex(([name]) => name === 'date')
    const pair: [string, string] = ['date', new Date(responseTime).toUTCString()]
    if (date === -1) headers.push(pair)
    else headers[date] = pair
  }
  return headers
}

/**
 * The entry updated by a 304 Not Modified (RFC 9111 §4.3.4): the new header fields replace the
 * stored ones (its `Set-Cookie` too, with `keepCookies`), the body stays, and the timing restarts
 * for the age calculation.
 */
export function mergeNotModified(
  entry: CacheEntry,
  notModified: Headers,
  requestTime: number,
  responseTime: number,
  keepCookies = false,
): CacheEntry {
  const headers = updateHeaders(entry.headers, notModified, responseTime, keepCookies)
  return withFreshnessFacts({ ...entry, headers, requestTime, responseTime })
}

/**
 * Whether a 304 may update the stored entry (RFC 9111 §4.3.4): the validators it names must be the
 * stored response's: an entity-tag compared strongly when it is strong, weakly when it is weak, else a
 * `Last-Modified` as the same date. A validator the stored response lacks cannot contradict it, and a
 * 304 without one applies to the response we validated.
 */
export function notModifiedMatches(entry: CacheEntry, notModified: Headers): boolean {
  const etag = notModified.get('etag')
  const storedEtag = storedField(entry, 'etag')
  if (etag && storedEtag !== null) return isWeak(etag) ? weakMatch(storedEtag, etag) : strongMatch(storedEtag, etag)
  const lastModified = notModified.get('last-modified')
  const storedLastModified = storedField(entry, 'last-modified')
  if (lastModified === null || storedLastModified === null) return true
  return (parseHttpDate(lastModified) ?? lastModified) === (parseHttpDate(storedLastModified) ?? storedLastModified)
}

/**
 * A stored GET response refreshed by a 200 response to HEAD for the same request (RFC 9111 §4.3.5):
 * updated when every validator the HEAD response carries (`ETag`, `Last-Modified`) and its
 * `Content-Length`, if any, match the stored response's; otherwise the representation changed and the
 * stored response must be treated as stale (`invalidate: true`).
 */
export function mergeHead(
  entry: CacheEntry,
  head: Headers,
  requestTime: number,
  responseTime: number,
): { entry: CacheEntry; invalidate: boolean } {
  const stored = storedFields(entry)
  const etag = head.get('etag')
  const lastModified = head.get('last-modified')
  const length = head.get('content-length')
  const storedLength =
    stored.get('content-length') ?? (stored.get('content-encoding') !== null ? null : String(entry.body.byteLength))
  const changed =
    (etag !== null && !weakMatch(etag, stored.get('etag') ?? '')) ||
    (lastModified !== null &&
      (parseHttpDate(lastModified) ?? lastModified) !==
        (parseHttpDate(stored.get('last-modified')) ?? stored.get('last-modified'))) ||
    (length !== null && Number(length) !== Number(storedLength))
  if (changed) return { entry, invalidate: true }
  return {
    entry: withFreshnessFacts({ ...entry, headers: updateHeaders(entry.headers, head, responseTime), requestTime, responseTime }),
    invalidate: false,
  }
}

/**
 * Whether a caller's own conditional request is satisfied by the entry about to be served, so the
 * answer is a 304 rather than the whole body (RFC 9111 §4.3.2, RFC 9110 §13.1.2 and §13.1.3):
 * `If-None-Match` with the weak comparison, else `If-Modified-Since` against `Last-Modified`.
 */
export function satisfiesConditional(request: Headers, entry: Pick<CacheEntry, 'status' | 'headers'>): boolean {
  if (entry.status !== 200) return false
  const ifNoneMatch = request.get('if-none-match')
  if (ifNoneMatch !== null) {
    return noneMatchMatches(ifNoneMatch, storedField(entry, 'etag') ?? undefined)
  }
  const ifModifiedSince = request.get('if-modified-since')
  if (ifModifiedSince === null) return false
  const since = parseHttpDate(ifModifiedSince)
  const lastModified = parseHttpDate(storedField(entry, 'last-modified'))
  return since !== undefined && lastModified !== undefined && lastModified <= since
}
