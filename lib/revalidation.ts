import type { CacheEntry } from './entry.js'

/**
 * Header fields a 304 must not overwrite (RFC 9111 §3.2): hop-by-hop fields (§3.1), Content-Length,
 * and fields the stored body depends on (its content-coding). `set-cookie` is never stored at all.
 */
const NOT_UPDATED = new Set([
  'connection',
  'content-encoding',
  'content-length',
  'keep-alive',
  'proxy-connection',
  'set-cookie',
  'te',
  'transfer-encoding',
  'upgrade',
])

/**
 * The entry updated by a 304 Not Modified (RFC 9111 §4.3.4): the new header fields replace the
 * stored ones, the body stays, and the timing restarts for the age calculation.
 */
export function mergeNotModified(entry: CacheEntry, notModified: Headers, requestTime: number, responseTime: number): CacheEntry {
  const replaced = new Set<string>()
  for (const [name] of notModified) if (!NOT_UPDATED.has(name)) replaced.add(name)
  const headers: [string, string][] = entry.headers.filter(([name]) => !replaced.has(name))
  for (const [name, value] of notModified) if (replaced.has(name)) headers.push([name, value])
  return { ...entry, headers, requestTime, responseTime }
}

/**
 * Whether a caller's own conditional request is satisfied by the entry about to be served, so the
 * answer is a 304 rather than the whole body (RFC 9111 §4.3.2, RFC 9110 §13.1.2 and §13.1.3):
 * `If-None-Match` with the weak comparison, else `If-Modified-Since` against `Last-Modified`.
 */
export function satisfiesConditional(request: Headers, entry: CacheEntry): boolean {
  if (entry.status !== 200) return false
  const ifNoneMatch = request.get('if-none-match')
  if (ifNoneMatch !== null) {
    const etag = storedField(entry, 'etag')
    if (ifNoneMatch.trim() === '*') return true
    if (etag === undefined) return false
    const stored = opaqueTag(etag)
    return ifNoneMatch.split(',').some((tag) => opaqueTag(tag) === stored)
  }
  const ifModifiedSince = request.get('if-modified-since')
  if (ifModifiedSince === null) return false
  const since = Date.parse(ifModifiedSince)
  const lastModified = Date.parse(storedField(entry, 'last-modified') ?? '')
  return !Number.isNaN(since) && !Number.isNaN(lastModified) && lastModified <= since
}

function storedField(entry: CacheEntry, name: string): string | undefined {
  return entry.headers.find(([field]) => field === name)?.[1]
}

/** An entity-tag without its weakness indicator, for the weak comparison. */
function opaqueTag(tag: string): string {
  const trimmed = tag.trim()
  return trimmed.startsWith('W/') ? trimmed.slice(2) : trimmed
}
