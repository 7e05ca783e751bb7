/**
 * Entity-tags (RFC 9110 §8.8.3): `"opaque"` or, weak, `W/"opaque"`. The weakness indicator is
 * case-sensitive (`%s"W/"`): `w/"x"` is not a weak tag. Nothing here throws on a malformed value.
 */

/** Whether an entity-tag is weak. */
export function isWeak(tag: string): boolean {
  return tag.trim().startsWith('W/')
}

/** An entity-tag without its weakness indicator. */
function opaque(tag: string): string {
  const trimmed = tag.trim()
  return trimmed.startsWith('W/') ? trimmed.slice(2) : trimmed
}

/** The strong comparison (RFC 9110 §8.8.3.2): neither tag weak, and the same opaque-tag. */
export function strongMatch(a: string, b: string): boolean {
  return !isWeak(a) && !isWeak(b) && a.trim() === b.trim()
}

/** The weak comparison (RFC 9110 §8.8.3.2): the same opaque-tag, either or both may be weak. */
export function weakMatch(a: string, b: string): boolean {
  return opaque(a) === opaque(b)
}

/**
 * Whether an `If-None-Match` field value matches an entity-tag (RFC 9110 §13.1.2): `*`, or one member
 * of the list by the weak comparison.
 */
export function noneMatchMatches(field: string, etag: string | undefined): boolean {
  if (field.trim() === '*') return true
  if (etag === undefined) return false
  return field.split(',').some((tag) => weakMatch(tag, etag))
}
