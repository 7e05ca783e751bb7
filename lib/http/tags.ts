/**
 * The tags a response carries for purging by tag, as CDNs read them: `Cache-Tag` (Cloudflare,
 * comma-separated) and `Surrogate-Key` (Fastly, space-separated), or the fields `tagHeaders` names.
 * Either separator is accepted in any of them; repeated tags count once, in the order first seen.
 * `undefined` when there are none.
 */
export function responseTags(headers: readonly (readonly [string, string])[], names: readonly string[]): string[] | undefined {
  if (names.length === 0) return undefined
  let tags: Set<string> | undefined
  for (const [name, value] of headers) {
    if (!names.includes(name)) continue
    for (const tag of value.split(/[\s,]+/)) {
      if (tag === '') continue
      tags ??= new Set()
      tags.add(tag)
    }
  }
  return tags && [...tags]
}
