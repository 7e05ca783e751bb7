/**
 * Cache-Control parsing (RFC 9111 §5.2). Never throws. An unknown directive is ignored (§5.2.3); a
 * known one with a malformed argument is read the safe way: an invalid `max-age` makes the response
 * stale (§4.2.1 "caches are encouraged to consider responses that have invalid freshness information
 * ... to be stale"), an invalid `max-stale` / `min-fresh` / `stale-*` is ignored (no stale serving).
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
  noTransform?: true
}

/**
 * The response directives that decide whether and how long a stored response may be reused (RFC 9111
 * §3.5, §4.2.4, §5.2.2; RFC 8246; RFC 5861): what an entry keeps of its `Cache-Control`.
 */
export type ReuseDirectives = Pick<
  Directives,
  'noCache' | 'mustRevalidate' | 'proxyRevalidate' | 'immutable' | 'public' | 'sMaxAge' | 'staleIfError' | 'staleWhileRevalidate'
>

const EMPTY: Directives = Object.freeze({})
/** 2^31: RFC 9111 §1.2.2 says to use it when delta-seconds overflows. */
export const MAX_DELTA_SECONDS = 2_147_483_648

/** A directive's argument: absent, well-formed text, or present but malformed (e.g. `max-age= 5`). */
type Argument = string | undefined | typeof MALFORMED
const MALFORMED = Symbol('malformed')

/** Parses one or more `Cache-Control` field values (several field lines are joined with commas). */
export function parseCacheControl(value: string | null | undefined): Directives {
  if (!value) return EMPTY
  const directives: Directives = {}
  for (const [name, arg] of splitDirectives(value)) {
    // RFC 9111 §4.2.1: with duplicates, use the first occurrence (`??=`).
    switch (name) {
      case 'max-age':
        directives.maxAge ??= deltaSeconds(arg) ?? 0
        break
      case 's-maxage':
        // Heeded by a shared cache (`cacheControl: 'shared'`); a private one ignores it (§5.2.2.10).
        directives.sMaxAge ??= deltaSeconds(arg) ?? 0
        break
      case 'max-stale':
        // A bare max-stale accepts any staleness (§5.2.1.2); a malformed one is ignored.
        setOnce(directives, 'maxStale', arg === undefined ? Number.POSITIVE_INFINITY : deltaSeconds(arg))
        break
      case 'min-fresh':
        setOnce(directives, 'minFresh', deltaSeconds(arg))
        break
      case 'stale-while-revalidate':
        setOnce(directives, 'staleWhileRevalidate', deltaSeconds(arg))
        break
      case 'stale-if-error':
        setOnce(directives, 'staleIfError', deltaSeconds(arg))
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
      case 'no-transform':
        directives.noTransform = true
        break
      // Unknown directives are ignored (§5.2.3).
    }
  }
  return directives
}

type Numeric = 'maxStale' | 'minFresh' | 'staleWhileRevalidate' | 'staleIfError'

/** Keeps the first well-formed value of a directive whose malformed form is ignored. */
function setOnce(directives: Directives, name: Numeric, seconds: number | undefined): void {
  if (directives[name] === undefined && seconds !== undefined) directives[name] = seconds
}

/**
 * `no-cache` / `private` without a value apply to the whole response; with a (quoted) list, to the
 * named fields (§5.2.2.4, §5.2.2.7). Once the whole response is covered, it stays covered. A malformed
 * argument is read as the unqualified form, the stricter one.
 */
function mergeFieldList(current: true | string[] | undefined, arg: Argument): true | string[] {
  if (current === true || arg === undefined || arg === MALFORMED) return true
  const fields = arg
    .split(',')
    .map((f) => f.trim().toLowerCase())
    .filter(Boolean)
  if (fields.length === 0) return true
  return current ? [...current, ...fields] : fields
}

/**
 * delta-seconds (§1.2.2): digits only, capped at 2^31. `undefined` when malformed: a sign, a decimal
 * point, letters, whitespace, single quotes or an empty value.
 */
function deltaSeconds(arg: Argument): number | undefined {
  if (typeof arg !== 'string' || !/^\d+$/.test(arg)) return undefined
  const n = Number(arg)
  return Math.min(n, MAX_DELTA_SECONDS)
}

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/

/**
 * Splits `a, b=1, c="x, y"` into `[name, argument]` pairs (names lower-cased, quoted-strings
 * unescaped). The grammar (§5.2) is `token [ "=" ( token / quoted-string ) ]` with no whitespace
 * around `=`: `max-age =5` and `max-age= 5` are malformed. A comma inside a quoted-string does not
 * end the directive, so `ext="max-age=5"` is one unknown directive.
 */
function* splitDirectives(value: string): Generator<[string, Argument]> {
  const length = value.length
  let i = 0
  while (i < length) {
    while (i < length && (value[i] === ',' || value[i] === ' ' || value[i] === '\t')) i++
    if (i >= length) return
    const nameStart = i
    while (i < length && value[i] !== '=' && value[i] !== ',') i++
    const rawName = value.slice(nameStart, i)
    const name = rawName.trim().toLowerCase()
    let arg: Argument
    if (value[i] === '=') {
      i++
      let malformed = rawName !== rawName.trimEnd()
      if (value[i] === ' ' || value[i] === '\t') malformed = true
      while (i < length && (value[i] === ' ' || value[i] === '\t')) i++
      if (value[i] === '"') {
        i++
        let text = ''
        while (i < length && value[i] !== '"') {
          if (value[i] === '\\' && i + 1 < length) i++
          text += value[i]
          i++
        }
        if (i >= length) malformed = true // unterminated quoted-string
        i++ // closing quote
        const rest = value.slice(i, value.indexOf(',', i) === -1 ? length : value.indexOf(',', i))
        if (rest.trim() !== '') malformed = true
        while (i < length && value[i] !== ',') i++
        arg = malformed ? MALFORMED : text
      } else {
        const argStart = i
        while (i < length && value[i] !== ',') i++
        const text = value.slice(argStart, i).trimEnd()
        arg = malformed || !TCHAR.test(text.toLowerCase()) ? MALFORMED : text
      }
    }
    if (name && TCHAR.test(name)) yield [name, arg]
  }
}
