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
  return utf8Text(body)
}

/** The bytes as text when they are UTF-8 (a byte order mark kept: encoding the text gives them back); else `undefined`. */
export function utf8Text(body: Uint8Array): string | undefined {
  try {
    return utf8.decode(body)
  } catch {
    return undefined
  }
}

/** Whether a `Content-Type` names a charset other than UTF-8 (or its subset US-ASCII). */
export function namesOtherCharset(contentType: string): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1]?.toLowerCase()
  return charset !== undefined && !['utf-8', 'utf8', 'us-ascii'].includes(charset)
}
