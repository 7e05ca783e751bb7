import type { CacheEntry } from '../entry/entry.js'
import type { CachePlan } from '../policy/actions.js'
import { type ContentRange, heldRange, parseContentRange, strongEtag } from '../policy/range.js'
import { prepend } from './body.js'
import { discard, type Forward, type OriginResponse, type Outcome } from './outcome.js'

/**
 * Completing a stored piece (a 206 stored as an incomplete 200, RFC 9111 §3.3) when a request asks for
 * the whole: the cache asks only for the rest, with `If-Range` naming the piece's strong entity-tag,
 * and combines the two (§3.4) when the answer is that rest of the same representation.
 */

/** How a stored piece can be completed: what it holds and the strong entity-tag it carries. */
export interface Completion {
  held: ContentRange
  etag: string
}

/**
 * A piece a GET for the whole may be completed from: one that starts at byte 0 and carries a strong
 * entity-tag (§3.4 combines only pieces that share one), when the request may use the cache.
 * `undefined`: the piece cannot answer, and the request is a miss.
 */
export function completion(entry: CacheEntry, plan: CachePlan, method: string): Completion | undefined {
  if (method !== 'GET' || !plan.read || plan.revalidate || plan.onlyIfCached) return undefined
  const held = heldRange(entry)
  const etag = strongEtag(entry.headers)
  return held && held.start === 0 && etag !== undefined ? { held, etag } : undefined
}

/**
 * Asks for the rest of a piece and hands the caller the whole: the stored bytes and the remainder as
 * one 200 with the new response's fields (§3.4: all but `Content-Range` replace the stored ones), which
 * `pass` stores and passes on. A 200 (the representation changed, or ranges are not supported) is
 * passed on as it is; any other 206 cannot be combined, and the whole is asked for again (`refetch`).
 */
export async function complete(
  entry: CacheEntry,
  { held, etag }: Completion,
  forward: Forward,
  signal: AbortSignal | undefined,
  now: () => number,
  pass: (response: OriginResponse, requestTime: number, responseTime: number) => Outcome,
  refetch: () => Promise<Outcome>,
): Promise<Outcome> {
  const requestTime = now()
  const response = await forward({ range: `bytes=${held.end + 1}-`, 'if-range': etag }, signal, false)
  const responseTime = now()
  if (response.status !== 206) return pass(response, requestTime, responseTime)
  const rest = parseContentRange(response.headers.get('content-range'))
  const coding = response.headers.get('content-encoding')
  const fits =
    rest !== undefined &&
    rest.start === held.end + 1 &&
    rest.end === held.total - 1 &&
    rest.total === held.total &&
    strongEtag([...response.headers]) === etag &&
    (coding === null || coding.trim().toLowerCase() === 'identity')
  if (!fits) {
    await discard(response)
    return refetch()
  }
  const { source: _piece, ...answer } = response
  const headers = new Headers(answer.headers)
  headers.delete('content-range')
  headers.set('content-length', String(held.total))
  const whole = { ...answer, status: 200, statusText: 'OK', headers, body: prepend(entry.body, answer.body) }
  return pass(whole, requestTime, responseTime)
}
