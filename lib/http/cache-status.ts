/** Why a request went forward to the origin (RFC 9211 §2.2 `fwd`), when the cache took part. */
export type Forwarded = 'uri-miss' | 'vary-miss' | 'miss' | 'request' | 'stale'

/**
 * An RFC 9211 `Cache-Status` value, e.g. `fetch-http-cache; hit; ttl=42` or `fetch-http-cache; fwd=miss; stored`.
 * @see https://www.rfc-editor.org/rfc/rfc9211
 */
export function cacheStatus(status: {
  hit?: boolean
  fwd?: 'bypass' | 'method' | Forwarded | undefined
  fwdStatus?: number | undefined
  stored?: boolean
  ttl?: number | undefined
  detail?: string | undefined
}): string {
  let value = 'fetch-http-cache'
  if (status.hit) value += '; hit'
  if (status.fwd) value += `; fwd=${status.fwd}`
  if (status.fwdStatus !== undefined) value += `; fwd-status=${status.fwdStatus}`
  if (status.stored) value += '; stored'
  if (status.ttl !== undefined) value += `; ttl=${status.ttl}`
  if (status.detail) value += `; detail=${status.detail}`
  return value
}

/**
 * RFC 9211 §2: a cache adds its member to the list, after those of the caches nearer the origin, so
 * the field as received (or as stored) is kept and ours goes last. `upstream` is the field's combined
 * value (`Headers.get()` joins several lines with `, `), or `null` without one.
 */
export function appendCacheStatus(upstream: string | null, ours: string): string {
  const kept = upstream?.trim()
  return kept ? `${kept}, ${ours}` : ours
}

/**
 * The `Cache-Status` of a response the cache stayed out of (RFC 9211 §2.2): `fwd=method` for a method
 * it does not take part in, `fwd=bypass` otherwise; with `withDetail`, the reason as a `detail` token (§2.8).
 */
export function bypassStatus(reason: string, fwdStatus: number, withDetail: boolean): string {
  const fwd = reason.startsWith('method') ? 'method' : 'bypass'
  return cacheStatus({ fwd, fwdStatus, detail: withDetail ? detailToken(reason) : undefined })
}

/** A reason as an RFC 9211 `detail` token (sf-token characters only). */
function detailToken(reason: string): string {
  return (
    reason
      .toLowerCase()
      .replace(/[^a-z0-9!#$%&'*+.^_`|~-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'bypass'
  )
}
