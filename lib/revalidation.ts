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
