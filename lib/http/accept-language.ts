/**
 * `Accept-Language` preference (RFC 9110 §12.5.4): the language range a request prefers most, by
 * `q` weight (RFC 9110 §12.4.2), the first listed winning a tie. Never throws on malformed input.
 */
export function preferredLanguage(value: string | null): string | undefined {
  let best: string | undefined
  let bestQ = 0
  for (const member of (value ?? '').split(',')) {
    const [range = '', ...params] = member.split(';').map((part) => part.trim())
    if (range === '' || range === '*') continue
    let q = 1
    for (const param of params) {
      const match = /^q\s*=\s*([01](?:\.\d{0,3})?)$/i.exec(param)
      if (match) q = Number(match[1])
    }
    if (q > bestQ) {
      best = range.toLowerCase()
      bestQ = q
    }
  }
  return best
}

/** The one language tag of a `Content-Language` field, lower-case, or `undefined` for none or several. */
export function contentLanguage(headers: readonly [string, string][]): string | undefined {
  const values = headers.filter(([name]) => name === 'content-language').map(([, value]) => value.trim().toLowerCase())
  return values.length === 1 && values[0] !== '' && !values[0]?.includes(',') ? values[0] : undefined
}

/** The request headers with `Accept-Language` set to one language. */
export function withLanguage(headers: Headers, language: string): Headers {
  const changed = new Headers(headers)
  changed.set('accept-language', language)
  return changed
}
