import { MAX_DELTA_SECONDS, parseCacheControl, type ReuseDirectives } from '../http/cache-control.js'
import { firstHttpDate } from '../http/dates.js'
import { type EntryMeta, storedField } from './entry.js'

/**
 * The freshness facts an entry carries (`initialAge`, `directives`), computed from its fields when it
 * is written or renewed, so that a hit compares numbers instead of parsing header text. They are a
 * function of the stored fields and times alone: whatever changes those (a new entry, a 304, a HEAD)
 * computes them again here, and an entry read without them (format 3, a fixture file) gets them here.
 */

export type FreshnessFacts = Pick<EntryMeta, 'initialAge' | 'directives'>

/** What {@link freshnessFacts} reads. */
type Sources = Pick<EntryMeta, 'headers' | 'requestTime' | 'responseTime'>

/** The facts of an entry's fields and times. */
export function freshnessFacts(entry: Sources): FreshnessFacts {
  const initialAge = correctedInitialAge(
    storedField(entry, 'date'),
    storedField(entry, 'age'),
    entry.requestTime,
    entry.responseTime,
  )
  const directives = reuseDirectives(storedField(entry, 'cache-control'))
  return directives === undefined ? { initialAge } : { initialAge, directives }
}

/** `entry` with the facts of its own fields (those it carried, from fields since replaced, dropped). */
export function withFreshnessFacts<T extends Sources & Partial<FreshnessFacts>>(entry: T): T & FreshnessFacts {
  const { directives: _stale, ...rest } = entry
  return { ...rest, ...freshnessFacts(entry) } as T & FreshnessFacts
}

/** `corrected_initial_age` of RFC 9111 §4.2.3, in ms. */
export function correctedInitialAge(date: string | null, age: string | null, requestTime: number, responseTime: number): number {
  const apparentAge = Math.max(0, responseTime - (firstHttpDate(date) ?? responseTime))
  const responseDelay = Math.max(0, responseTime - requestTime)
  const correctedAgeValue = parseAge(age) * 1000 + responseDelay
  return Math.max(apparentAge, correctedAgeValue)
}

/**
 * The `Age` header as seconds. A list uses its first member and an invalid value (not a non-negative
 * integer: `-5`, `1.5`, `abc`) is ignored, i.e. 0 (RFC 9111 §5.1).
 */
export function parseAge(value: string | null): number {
  if (value === null) return 0
  const text = value.split(',')[0]?.trim() ?? ''
  if (!/^\d+$/.test(text)) return 0
  return Math.min(Number(text), MAX_DELTA_SECONDS)
}

const REUSE_NAMES = [
  'noCache',
  'mustRevalidate',
  'proxyRevalidate',
  'immutable',
  'public',
  'sMaxAge',
  'staleIfError',
  'staleWhileRevalidate',
] as const satisfies readonly (keyof ReuseDirectives)[]

/** The reuse directives of a `Cache-Control` value, `undefined` when it has none. */
function reuseDirectives(cacheControl: string | null): ReuseDirectives | undefined {
  if (cacheControl === null) return undefined
  const parsed = parseCacheControl(cacheControl)
  let directives: Record<string, unknown> | undefined
  for (const name of REUSE_NAMES) {
    if (parsed[name] === undefined) continue
    directives ??= {}
    directives[name] = parsed[name]
  }
  return directives && (Object.freeze(directives) as ReuseDirectives)
}
