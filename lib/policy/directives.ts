/**
 * Cache-Control parsing (RFC 9111 §5.2). Never throws: a malformed directive is ignored, a malformed
 * delta-seconds counts as 0 (stale), which is the safe reading of §4.2.1.
 */

/** The directives we act on, request and response alike. Seconds for the numeric ones. */
export interface Directives {
  maxAge?: number
  sMaxAge?: number
  maxStale?: number
  minFresh?: number
  staleWhileRevalidate?: number
  staleIfError?: number
  /** `true`, or the field names it applies to (RFC 9111 §5.2.2.4). */
  noCache?: true | string[]
  noStore?: true
  mustRevalidate?: true
  proxyRevalidate?: true
  private?: true | string[]
  public?: true
  immutable?: true
  onlyIfCached?: true
  mustUnderstand?: true
}

const EMPTY: Directives = Object.freeze({})
// 2^31: RFC 9111 §1.2.2 says to use it when delta-seconds overflows.
const MAX_DELTA = 2_147_483_648

/** Parses one or more `Cache-Control` field values (joined with commas). */
export function parseCacheControl(value: string | null | undefined): Directives {
  if (!value) return EMPTY
  const directives: Directives = {}
  for (const [name, arg] of splitDirectives(value)) {
    // RFC 9111 §4.2.1: with duplicates, use the first occurrence.
    switch (name) {
      case 'max-age':
        directives.maxAge ??= deltaSeconds(arg)
        break
      case 's-maxage':
        directives.sMaxAge ??= deltaSeconds(arg)
        break
      case 'max-stale':
        // A bare max-stale accepts any staleness (§5.2.1.2).
        directives.maxStale ??= arg === undefined ? Number.POSITIVE_INFINITY : deltaSeconds(arg)
        break
      case 'min-fresh':
        directives.minFresh ??= deltaSeconds(arg)
        break
      case 'stale-while-revalidate':
        directives.staleWhileRevalidate ??= deltaSeconds(arg)
        break
      case 'stale-if-error':
        directives.staleIfError ??= deltaSeconds(arg)
        break
      case 'no-cache':
        directives.noCache = mergeFieldList(directives.noCache, arg)
        break
      case 'private':
        directives.private = mergeFieldList(directives.private, arg)
        break
      case 'no-store':
        directives.noStore = true
        break
      case 'must-revalidate':
        directives.mustRevalidate = true
        break
      case 'proxy-revalidate':
        directives.proxyRevalidate = true
        break
      case 'public':
        directives.public = true
        break
      case 'immutable':
        directives.immutable = true
        break
      case 'only-if-cached':
        directives.onlyIfCached = true
        break
      case 'must-understand':
        directives.mustUnderstand = true
        break
      // Unknown directives are ignored (§5.2.3).
    }
  }
  return directives
}

/** `no-cache` / `private` without a value apply to the whole response; with one, to the named fields. */
function mergeFieldList(current: true | string[] | undefined, arg: string | undefined): true | string[] {
  if (current === true || arg === undefined) return true
  const fields = arg
    .split(',')
    .map((f) => f.trim().toLowerCase())
    .filter(Boolean)
  if (fields.length === 0) return true
  return current ? [...current, ...fields] : fields
}

function deltaSeconds(arg: string | undefined): number {
  if (arg === undefined || !/^\d+$/.test(arg)) return 0
  const n = Number(arg)
  return n > MAX_DELTA ? MAX_DELTA : n
}

/** Splits `a, b=1, c="x, y"` into `[name, value]` pairs; names lower-cased, quotes removed. */
function* splitDirectives(value: string): Generator<[string, string | undefined]> {
  const length = value.length
  let i = 0
  while (i < length) {
    while (i < length && (value[i] === ',' || value[i] === ' ' || value[i] === '\t')) i++
    if (i >= length) return
    const nameStart = i
    while (i < length && value[i] !== '=' && value[i] !== ',') i++
    const name = value.slice(nameStart, i).trim().toLowerCase()
    let arg: string | undefined
    if (value[i] === '=') {
      i++
      while (i < length && (value[i] === ' ' || value[i] === '\t')) i++
      if (value[i] === '"') {
        i++
        let text = ''
        while (i < length && value[i] !== '"') {
          if (value[i] === '\\' && i + 1 < length) i++
          text += value[i]
          i++
        }
        i++ // closing quote
        arg = text
        while (i < length && value[i] !== ',') i++
      } else {
        const argStart = i
        while (i < length && value[i] !== ',') i++
        arg = value.slice(argStart, i).trim()
      }
    }
    if (name) yield [name, arg]
  }
}
