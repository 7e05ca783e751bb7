import { type CacheEntry, storedField } from '../entry/entry.js'
import { parseHttpDate } from '../http/dates.js'
import { isWeak, strongMatch } from '../http/etag.js'

/**
 * Serving a byte range from a stored response, complete or a stored piece (RFC 9110 §14, RFC 9111
 * §3.3-3.4 let a cache answer a range request from what it holds). Only one range (`bytes=a-b`,
 * `bytes=a-`, `bytes=-n`); a list of ranges, another unit or a malformed value goes to the origin.
 */

/** One byte range as asked: `first`-`last` (either may be absent), or the last `suffix` bytes. */
export interface ByteRange {
  first?: number
  last?: number
  suffix?: number
}

const SINGLE = /^\s*bytes\s*=\s*(?:(\d+)\s*-\s*(\d*)|-\s*(\d+))\s*$/i

/** The one byte range a `Range` field asks for, or `undefined` when we do not serve it. */
export function parseRange(value: string): ByteRange | undefined {
  const match = SINGLE.exec(value)
  if (!match) return undefined
  const [, first, last, suffix] = match
  if (suffix !== undefined) return { suffix: Number(suffix) }
  const range: ByteRange = { first: Number(first) }
  if (last) {
    range.last = Number(last)
    if (range.last < (range.first as number)) return undefined // invalid: RFC 9110 §14.1.1 says ignore it
  }
  return range
}

/** The bytes `range` selects in a body of `length` bytes (`end` inclusive), or `null` when unsatisfiable (§14.1.1). */
export function resolveRange(range: ByteRange, length: number): { start: number; end: number } | null {
  if (range.suffix !== undefined) {
    if (range.suffix === 0 || length === 0) return null
    return { start: Math.max(0, length - range.suffix), end: length - 1 }
  }
  const first = range.first as number
  if (first >= length) return null
  return { start: first, end: Math.min(range.last ?? length - 1, length - 1) }
}

/**
 * RFC 9110 §13.1.5: whether `If-Range` lets the range be served from `entry`: an entity-tag must
 * match its `ETag` by the strong comparison (neither weak); a date must equal its `Last-Modified`
 * exactly. Without `If-Range`, it may.
 */
export function ifRangeAllows(ifRange: string | null, entry: CacheEntry): boolean {
  if (ifRange === null) return true
  const value = ifRange.trim()
  const field = (name: string) => storedField(entry, name)?.trim()
  if (value.startsWith('"') || isWeak(value)) {
    const etag = field('etag')
    return etag !== undefined && strongMatch(etag, value)
  }
  const date = parseHttpDate(value)
  const lastModified = parseHttpDate(field('last-modified'))
  return date !== undefined && lastModified !== undefined && date === lastModified
}

/** One satisfied byte range of a representation of known length: `Content-Range: bytes a-b/total` (RFC 9110 §14.4). */
export interface ContentRange {
  start: number
  end: number
  total: number
}

const CONTENT_RANGE = /^\s*bytes\s+(\d+)\s*-\s*(\d+)\s*\/\s*(\d+)\s*$/i

/** A `Content-Range` of one byte range with a known complete length, or `undefined` (`*`, other units, malformed). */
export function parseContentRange(value: string | null | undefined): ContentRange | undefined {
  const match = CONTENT_RANGE.exec(value ?? '')
  if (!match) return undefined
  const [start, end, total] = [Number(match[1]), Number(match[2]), Number(match[3])]
  return start <= end && end < total ? { start, end, total } : undefined
}

/**
 * rfc: the bytes a stored 206 holds (RFC 9111 §3.3 stores it as an incomplete 200): from its
 * `Content-Range` start, as many as arrived. A body shorter than its `Content-Range` says is an
 * incomplete piece; a longer one, or none, holds nothing we can place.
 */
export function heldRange(entry: CacheEntry): ContentRange | undefined {
  const stated = parseContentRange(entry.headers.find(([name]) => name === 'content-range')?.[1])
  const length = entry.body.byteLength
  if (!stated || length === 0 || length > stated.end - stated.start + 1) return undefined
  return { start: stated.start, end: stated.start + length - 1, total: stated.total }
}

/** The strong entity-tag among `headers`, if any: the only validator two pieces may be combined by (RFC 9111 §3.4). */
export function strongEtag(headers: readonly [string, string][]): string | undefined {
  const etag = headers.find(([name]) => name === 'etag')?.[1]?.trim()
  return etag?.startsWith('"') ? etag : undefined
}
