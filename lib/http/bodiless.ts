/** Responses without content, and what a 304 carries. */

/**
 * Statuses whose responses never carry content: 1xx, 204 and 304 (RFC 9110 §6.4.1) and 205 (§15.3.6),
 * the informational ones Fetch can see included (its "null body status": 101, 103, 204, 205, 304).
 */
const BODILESS: ReadonlySet<number> = new Set([101, 103, 204, 205, 304])

/** Whether a response to `method` with `status` has no content (a HEAD response never has any, §9.3.2). */
export function isBodiless(status: number, method = 'GET'): boolean {
  return method === 'HEAD' || BODILESS.has(status)
}

/**
 * Representation metadata a 304 does not repeat (RFC 9110 §15.4.5: it carries Content-Location, Date,
 * ETag, Vary, Cache-Control, Expires and what guides cache updates such as Last-Modified, but no other
 * metadata of the representation the caller already holds).
 */
const NOT_IN_304: ReadonlySet<string> = new Set([
  'content-type',
  'content-encoding',
  'content-language',
  'content-length',
  'content-range',
  'transfer-encoding',
])

/** The fields of a 304 that answers a caller's own conditional request from the stored fields. */
export function notModifiedFields(fields: readonly [string, string][]): [string, string][] {
  return fields.filter(([name]) => !NOT_IN_304.has(name))
}
