/**
 * The field lines a response arrived with, kept beside its `Headers`. A `Headers` joins a repeated
 * field into one value (RFC 9110 §5.3), which is what fetch shows, but `undici.request()` and node:http
 * show each line apart (`link: ['</a>', '</b>']`, Node keeping the first `Content-Type` of two): the
 * lines are what is stored and served, so every client gets them as it would without the cache.
 * Kept by `Headers` object: a response rebuilt with other headers (a completed range) falls back to them.
 */

const LINES = new WeakMap<Headers, readonly [string, string][]>()

/**
 * A `Headers` of field lines (lower-case names, in the order received) that remembers them. A line
 * `Headers` refuses is left out of both (Node's parser is more lenient than `Headers`).
 */
export function headersOfLines(lines: readonly (readonly [string, string])[]): Headers {
  const headers = new Headers()
  const kept: [string, string][] = []
  for (const [name, value] of lines) {
    try {
      headers.append(name, value)
      kept.push([name.toLowerCase(), value])
    } catch {}
  }
  LINES.set(headers, kept)
  return headers
}

/** The field lines of `headers`: as received when known, else as `Headers` iterates them (joined). */
export function fieldLines(headers: Headers): readonly [string, string][] {
  return LINES.get(headers) ?? [...headers]
}
