import { InvalidOptionTypeError, InvalidOptionValueError } from '../errors.js'
import { MAX_DELTA_SECONDS } from '../http/cache-control.js'

/** Never expire: the entry is served until it is deleted. The default. */
export const NEVER_EXPIRE = -1
/** Store only responses that carry a validator, and revalidate them on every use. */
export const EXPIRE_IMMEDIATELY = 0
/** Neither read from nor write to the cache. */
export const DO_NOT_CACHE = -2

/**
 * How long a response stays fresh: seconds (a number), a duration string (`'90s'`, `'5m'`,
 * `'1h30m'`, `'7d'`), an absolute `Date`, or one of the constants `NEVER_EXPIRE`,
 * `EXPIRE_IMMEDIATELY`, `DO_NOT_CACHE`.
 */
export type ExpireAfter = number | string | Date

/** An `ExpireAfter` after validation. */
export type Expiry =
  | { kind: 'never' }
  | { kind: 'immediately' }
  | { kind: 'skip' }
  | { kind: 'duration'; ms: number }
  | { kind: 'date'; at: number }

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }
const DURATION = /^\s*(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w)\s*)+$/
const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/g

export const NEVER: Expiry = Object.freeze({ kind: 'never' })

/** Validates an `ExpireAfter`, throwing a typed error naming `option`. */
export function parseExpireAfter(option: string, value: unknown): Expiry {
  if (typeof value === 'number') {
    if (value === NEVER_EXPIRE) return NEVER
    if (value === DO_NOT_CACHE) return { kind: 'skip' }
    if (value === EXPIRE_IMMEDIATELY) return { kind: 'immediately' }
    if (!Number.isFinite(value) || value < 0) {
      throw new InvalidOptionValueError(
        option,
        value,
        'must be a number of seconds >= 0, or NEVER_EXPIRE (-1), EXPIRE_IMMEDIATELY (0) or DO_NOT_CACHE (-2)',
      )
    }
    return { kind: 'duration', ms: Math.min(value, MAX_DELTA_SECONDS) * 1000 }
  }
  if (typeof value === 'string') {
    const ms = parseDuration(value)
    if (ms === undefined) {
      throw new InvalidOptionValueError(option, value, "must be a duration such as '90s', '5m', '1h30m' or '7d'")
    }
    return ms === 0 ? { kind: 'immediately' } : { kind: 'duration', ms }
  }
  if (value instanceof Date) {
    const at = value.getTime()
    if (Number.isNaN(at)) throw new InvalidOptionValueError(option, value, 'must be a valid Date')
    return { kind: 'date', at }
  }
  throw new InvalidOptionTypeError(option, value, 'a number of seconds, a duration string, a Date or an expiry constant')
}

/**
 * `'1h30m'` → 5_400_000; `undefined` when the string is not a duration. Capped, as a number of seconds
 * is, at 2^31 s (68 years), as RFC 9111 §1.2.2 caps delta-seconds: an expiry stays a valid `Date` and
 * `Cache-Status`'s `ttl` an integer.
 */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined
  let ms = 0
  for (const match of text.matchAll(DURATION_PART)) ms += Number(match[1]) * (UNIT_MS[match[2] as string] as number)
  return Math.min(ms, MAX_DELTA_SECONDS * 1000)
}

/** A duration option that is `true` (no limit), `false` (off) or an `ExpireAfter` (the limit). */
export function parseStaleLimit(option: string, value: unknown): number {
  if (value === false) return 0
  if (value === true) return Number.POSITIVE_INFINITY
  const expiry = parseExpireAfter(option, value)
  switch (expiry.kind) {
    case 'never':
      return Number.POSITIVE_INFINITY
    case 'duration':
      return expiry.ms
    case 'immediately':
    case 'skip':
      return 0
    case 'date':
      throw new InvalidOptionValueError(option, value, 'must be true, false or a duration (not a Date)')
  }
}

/** The absolute expiry (ms since epoch) an `Expiry` gives a response stored at `now`; `null` is never. */
export function expiresAt(expiry: Expiry, now: number): number | null {
  switch (expiry.kind) {
    case 'never':
      return null
    case 'duration':
      return now + expiry.ms
    case 'date':
      return expiry.at
    case 'immediately':
    case 'skip':
      return now
  }
}

/** A compiled `urlsExpireAfter` rule. */
export interface UrlRule {
  pattern: string | RegExp
  test(url: string): boolean
  expiry: Expiry
}

/**
 * Compiles `urlsExpireAfter`. Globs match the URL without its scheme as a prefix (`*` is any run of
 * characters, `?` one); RegExps are searched in the whole URL. Order is kept: the first match wins.
 */
export function compileUrlRules(option: string, value: unknown): UrlRule[] {
  let pairs: [unknown, unknown][]
  if (Array.isArray(value)) {
    pairs = value.map((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new InvalidOptionTypeError(`${option}[${i}]`, pair, 'a [pattern, expireAfter] pair')
      }
      return [pair[0], pair[1]]
    })
  } else if (value !== null && typeof value === 'object' && !(value instanceof RegExp)) {
    pairs = Object.entries(value)
  } else {
    throw new InvalidOptionTypeError(
      option,
      value,
      'an object { pattern: expireAfter } or an array of [pattern, expireAfter] pairs',
    )
  }
  return pairs.map(([pattern, expireAfter]) => {
    const name = `${option}[${typeof pattern === 'string' ? JSON.stringify(pattern) : String(pattern)}]`
    const expiry = parseExpireAfter(name, expireAfter)
    if (pattern instanceof RegExp) {
      const regex = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''))
      return { pattern, expiry, test: (url: string) => regex.test(url) }
    }
    if (typeof pattern !== 'string' || pattern === '') {
      throw new InvalidOptionTypeError(name, pattern, 'a non-empty glob string or a RegExp')
    }
    const glob = globToRegExp(pattern)
    return { pattern, expiry, test: (url: string) => glob.test(stripScheme(url)) }
  })
}

function globToRegExp(glob: string): RegExp {
  const body = stripScheme(glob)
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${body}`)
}

function stripScheme(url: string): string {
  const i = url.indexOf('://')
  return i === -1 ? url : url.slice(i + 3)
}
