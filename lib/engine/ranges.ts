import { type CacheEntry, storedField } from '../entry/entry.js'
import { type ByteRange, heldRange, ifRangeAllows, resolveRange } from '../policy/range.js'

/**
 * A range of a stored response, as an entry the fronts serve like any (RFC 9110 §14.2, §15.3.7,
 * §15.5.17): `undefined` when the entry cannot answer it (not a 200 nor a stored piece, a piece that
 * does not hold the range, or a body kept with its content-coding, whose ranges are of the coded
 * bytes): the request then goes to the origin. `asked` is the request's `Range` field as it came.
 */
export function rangeOf(entry: CacheEntry, range: ByteRange, ifRange: string | null, asked: string): CacheEntry | undefined {
  if (entry.status === 206) return pieceOf(entry, range, ifRange, asked)
  if (entry.status !== 200 || entry.encoding !== 'identity') return undefined
  const coding = storedField(entry, 'content-encoding')
  if (coding !== null && coding.trim().toLowerCase() !== 'identity') return undefined
  // §13.1.5: If-Range that does not match: the whole representation, as a 200.
  if (!ifRangeAllows(ifRange, entry)) return entry
  const length = entry.body.byteLength
  const headers = entry.headers.filter(([name]) => name !== 'content-length' && name !== 'content-range')
  const bytes = resolveRange(range, length)
  if (!bytes) {
    headers.push(['content-range', `bytes */${length}`], ['content-length', '0'])
    return { ...entry, status: 416, statusText: 'Range Not Satisfiable', headers, body: new Uint8Array(0) }
  }
  const body = entry.body.subarray(bytes.start, bytes.end + 1)
  headers.push(['content-range', `bytes ${bytes.start}-${bytes.end}/${length}`], ['content-length', String(body.byteLength)])
  return { ...entry, status: 206, statusText: 'Partial Content', headers, body }
}

/**
 * rfc: RFC 9111 §3.3: a stored piece answers a range request wholly within what it holds, and only
 * that; with an `If-Range` it does not match, the whole representation is asked of the origin. The
 * very `Range` it was stored for gets it as the origin sent it (the same answer to the same request),
 * even when its body and its `Content-Range` disagree and its bytes cannot be placed.
 */
function pieceOf(entry: CacheEntry, range: ByteRange, ifRange: string | null, asked: string): CacheEntry | undefined {
  if (entry.encoding !== 'identity' || !ifRangeAllows(ifRange, entry)) return undefined
  if (entry.requestHeaders.range === asked) return entry
  const held = heldRange(entry)
  if (!held) return undefined
  const headers = entry.headers.filter(([name]) => name !== 'content-length' && name !== 'content-range')
  const bytes = resolveRange(range, held.total)
  if (!bytes) {
    headers.push(['content-range', `bytes */${held.total}`], ['content-length', '0'])
    return { ...entry, status: 416, statusText: 'Range Not Satisfiable', headers, body: new Uint8Array(0) }
  }
  if (bytes.start < held.start || bytes.end > held.end) return undefined
  const body = entry.body.subarray(bytes.start - held.start, bytes.end - held.start + 1)
  headers.push(['content-range', `bytes ${bytes.start}-${bytes.end}/${held.total}`], ['content-length', String(body.byteLength)])
  return { ...entry, headers, body }
}
