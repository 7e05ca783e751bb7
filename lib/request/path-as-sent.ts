/**
 * Why a request target written by a client that sends it byte for byte (node:http, undici's
 * dispatch) cannot be keyed as the URL it parses to, or `undefined` when it can. The URL parser
 * resolves dot-segments (`/a/../b`, `%2e`), turns `\` into `/` and drops a `#fragment` (RFC 3986
 * §5.2.4, WHATWG URL); the origin gets the target as written and may answer it differently (a
 * router matching `/admin/../public` literally), so such a request passes uncached. fetch and
 * `undici.request(url)` resolve the URL before sending: there the parsed URL is what is sent.
 */
export function unresolvedTarget(target: string): string | undefined {
  if (target.includes('#')) return 'a fragment in the request target'
  const query = target.indexOf('?')
  const path = query === -1 ? target : target.slice(0, query)
  if (path.includes('\\')) return 'a backslash in the path'
  if (DOT_SEGMENT.test(path)) return 'a dot-segment in the path'
  return undefined
}

/** A `.` or `..` segment, percent-encoded or not. */
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i
