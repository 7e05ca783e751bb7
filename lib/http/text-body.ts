/** Media types whose bodies are text: `text/*`, JSON, XML, JavaScript, forms, and `+json` / `+xml` suffixes. */
const TEXTUAL =
  /^\s*(?:text\/|application\/(?:[\w.+-]*[+-])?(?:json|xml|javascript|ecmascript|x-www-form-urlencoded|graphql|yaml|toml|csv)\b)|\+(?:json|xml)\b/i

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * A body as text when its `Content-Type` says it is textual and its bytes are UTF-8 (a byte order
 * mark kept), so that encoding the text gives the same bytes back; otherwise `undefined`.
 */
export function bodyText(body: Uint8Array, contentType: string | undefined): string | undefined {
  if (contentType === undefined || !TEXTUAL.test(contentType)) return undefined
  try {
    return utf8.decode(body)
  } catch {
    return undefined
  }
}
