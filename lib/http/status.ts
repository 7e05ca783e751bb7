/** Status codes with a meaning of their own to the cache. */

/** Fetch's "null body status": a `Response` with one of these cannot carry a body, not even an empty one. */
export function isNullBodyStatus(status: number): boolean {
  return status === 101 || status === 103 || status === 204 || status === 205 || status === 304
}
