// What the inspection API (`Cache`) takes and gives: the shapes of its results, and the validation
// of its options (a typed error naming the option and the value, before any row is touched).

import type { EntryMeta } from '../entry/entry.js'
import { InvalidOptionTypeError, InvalidOptionValueError } from '../errors.js'
import { type ExpireAfter, parseExpireAfter } from '../options/expire-after.js'
import { isExpired } from '../policy/actions.js'
import { type CredentialParameters, normalizeUrl } from '../request/key.js'

/** One stored response, as `cache.responses()` and `cache.filter()` list it. */
export interface StoredResponse {
  /** `false`: the row was read. */
  readonly invalid: false
  /** The key the response is stored under (what `contains({ key })` and `delete({ keys })` take). */
  key: string
  /** The request method. */
  method: string
  /** The request URL as stored: fragment dropped, ignored parameters `REDACTED`. */
  url: string
  /** The response URL (differs from `url` after redirects). */
  responseUrl: string
  status: number
  statusText: string
  /** The stored response headers. */
  headers: Headers
  /** The stored body's length in bytes (as stored: still content-coded when `entry.encoding` is `'coded'`). */
  size: number
  /** When the response was stored, or last revalidated. */
  createdAt: Date
  /** When it expires; `undefined`: never. */
  expires: Date | undefined
  /** Whether `expires` has passed (an expired response may still be revalidated or served stale). */
  isExpired: boolean
  /**
   * The stored entry's metadata (everything but the body: listing reads no body). Treat it as
   * read-only: a memory store hands out the object it keeps.
   */
  entry: EntryMeta
  /** Reads the stored body (as stored, see `size`); `undefined` if the entry went meanwhile. */
  body(): Promise<Uint8Array | undefined>
}

/** A row that cannot be read (corrupt, or written by an incompatible version). It is a miss, never served. */
export interface InvalidEntry {
  /** `true`: the row could not be read; only its key is known. */
  readonly invalid: true
  key: string
}

/**
 * Which entries `cache.filter()`, `cache.responses()` and `cache.urls()` list. `valid`, `expired` and
 * `invalid` each add a group; `olderThan` then narrows the responses to those created before it.
 */
export interface CacheFilter {
  /**
   * Include responses that have not expired.
   * @default true
   */
  valid?: boolean
  /**
   * Include expired responses.
   * @default true
   */
  expired?: boolean
  /**
   * Include rows that cannot be read, as {@link InvalidEntry} (`urls()` has no URL for them).
   * @default false
   */
  invalid?: boolean
  /**
   * Only responses created (or last revalidated) before this: a duration ago (seconds, or a string
   * such as `'7d'`, as for `expireAfter`), or a `Date`. Does not narrow `invalid` rows, whose age is unknown.
   * @default no limit
   */
  olderThan?: ExpireAfter
}

/** What `cache.delete()` removes: the union of every group given. */
export interface CacheDeleteOptions {
  /** Entries stored under these keys. */
  keys?: readonly string[]
  /** Every response stored for these request URLs (any method, any variant), compared after normalization. */
  urls?: readonly (string | URL)[]
  /**
   * Every response whose stored request URL (as `cache.urls()` lists it: lower-case scheme and host,
   * query parameters sorted) matches one of these patterns, whole; `*` matches any run of characters.
   * @example ['https://api.example.com/things*']
   */
  urlPatterns?: readonly string[]
  /** Every response tagged with one of these, by its `Cache-Tag` / `Surrogate-Key` fields (the `tagHeaders` setting). */
  tags?: readonly string[]
  /**
   * Expired responses.
   * @default false
   */
  expired?: boolean
  /**
   * Rows that cannot be read.
   * @default false
   */
  invalid?: boolean
  /** Responses created (or last revalidated) before this: a duration ago, or a `Date` (as in {@link CacheFilter}). */
  olderThan?: ExpireAfter
}

/**
 * What `cache.contains()` looks for: a key; or what a bodyless request for a URL (GET unless `method`
 * says otherwise, no headers) would be served; or what a `Request` would be served. A `Request` with
 * a body is refused: the fetch front never caches one (it cannot key it without consuming it).
 */
export type ContainsQuery = { key: string } | { url: string | URL; method?: string } | { request: Request }

/** A `CacheFilter` after validation, with `olderThan` as a cutoff (ms since epoch). */
export interface ParsedFilter {
  valid: boolean
  expired: boolean
  invalid: boolean
  createdBefore: number | undefined
}

/** `CacheDeleteOptions` after validation. */
export interface ParsedDelete {
  keys: ReadonlySet<string>
  /** Normalized. */
  urls: ReadonlySet<string>
  /** `urlPatterns`, compiled. */
  urlPatterns: readonly RegExp[]
  tags: ReadonlySet<string>
  expired: boolean
  invalid: boolean
  createdBefore: number | undefined
}

const FILTER_OPTIONS: { [K in keyof CacheFilter]-?: true } = { valid: true, expired: true, invalid: true, olderThan: true }
const DELETE_OPTIONS: { [K in keyof CacheDeleteOptions]-?: true } = {
  keys: true,
  urls: true,
  urlPatterns: true,
  tags: true,
  expired: true,
  invalid: true,
  olderThan: true,
}

/** Validates the options of `filter()`; `now` turns `olderThan` into a cutoff. */
export function parseFilter(options: unknown, now: number): ParsedFilter {
  const given = checkObject(options, FILTER_OPTIONS, 'filter()')
  return {
    valid: flag(given, 'valid', true),
    expired: flag(given, 'expired', true),
    invalid: flag(given, 'invalid', false),
    createdBefore: given.olderThan === undefined ? undefined : olderThanCutoff('olderThan', given.olderThan, now),
  }
}

/** Validates the options of `delete()`; URLs are normalized as keys normalize them. */
export function parseDelete(
  options: unknown,
  now: number,
  ignored: ReadonlySet<string>,
  credentials?: CredentialParameters,
): ParsedDelete {
  const given = checkObject(options, DELETE_OPTIONS, 'delete()')
  return {
    keys: new Set(stringList(given.keys, 'keys')),
    urls: new Set(urlList(given.urls, 'urls').map((url) => normalizeUrl(url, ignored, credentials))),
    urlPatterns: stringList(given.urlPatterns, 'urlPatterns', true).map(urlPattern),
    tags: new Set(stringList(given.tags, 'tags', true)),
    expired: flag(given, 'expired', false),
    invalid: flag(given, 'invalid', false),
    createdBefore: given.olderThan === undefined ? undefined : olderThanCutoff('olderThan', given.olderThan, now),
  }
}

/**
 * The time (ms since epoch) an `olderThan` stands for: `now` minus a duration, or a `Date`.
 * `0` is "now" (everything stored so far); `NEVER_EXPIRE` and `DO_NOT_CACHE` mean nothing here.
 */
export function olderThanCutoff(option: string, value: unknown, now: number): number {
  const expiry = parseExpireAfter(option, value)
  switch (expiry.kind) {
    case 'duration':
      return now - expiry.ms
    case 'date':
      return expiry.at
    case 'immediately':
      return now
    case 'never':
    case 'skip':
      throw new InvalidOptionValueError(option, value, "must be a duration (seconds, or a string such as '7d') or a Date")
  }
}

/** Whether a response is in the groups `filter` selects. */
export function filterMatches(filter: ParsedFilter, entry: EntryMeta, now: number): boolean {
  const expired = isExpired(entry, now)
  if (!(expired ? filter.expired : filter.valid)) return false
  return filter.createdBefore === undefined || entry.createdAt < filter.createdBefore
}

/** Whether `delete()` removes a response. */
export function deleteMatches(
  options: ParsedDelete,
  key: string,
  entry: EntryMeta,
  now: number,
  ignored: ReadonlySet<string>,
): boolean {
  if (options.keys.has(key)) return true
  if (options.expired && isExpired(entry, now)) return true
  if (options.createdBefore !== undefined && entry.createdAt < options.createdBefore) return true
  if (options.urls.size > 0 && options.urls.has(sameUrl(entry.url, ignored))) return true
  if (options.urlPatterns.length > 0) {
    // As stored (as urls() lists it), or with the query sorted as keys sort it.
    const sorted = sameUrl(entry.url, ignored)
    if (options.urlPatterns.some((pattern) => pattern.test(entry.url) || pattern.test(sorted))) return true
  }
  return options.tags.size > 0 && entry.tags !== undefined && entry.tags.some((tag) => options.tags.has(tag))
}

/** A `urlPatterns` pattern as a RegExp matching a whole URL, `*` any run of characters. */
function urlPattern(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 's')
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

/** A stored URL in the form `delete({ urls })` compares (its credential parameters hashed already). */
export function sameUrl(storedUrl: string, ignored: ReadonlySet<string>): string {
  try {
    return normalizeUrl(storedUrl, ignored)
  } catch {
    return storedUrl
  }
}

/** A stored response's metadata, as listed; `body` reads the body when asked. */
export function describeEntry(
  key: string,
  entry: EntryMeta,
  bodySize: number,
  now: number,
  body: () => Promise<Uint8Array | undefined>,
): StoredResponse {
  return {
    invalid: false,
    key,
    method: entry.method,
    url: entry.url,
    responseUrl: entry.responseUrl,
    status: entry.status,
    statusText: entry.statusText,
    headers: toHeaders(entry.headers),
    size: bodySize,
    createdAt: new Date(entry.createdAt),
    expires: entry.expires === null ? undefined : new Date(entry.expires),
    isExpired: isExpired(entry, now),
    entry,
    body,
  }
}

/** Stored header pairs as `Headers`; a pair `Headers` refuses is left out rather than failing the listing. */
function toHeaders(pairs: readonly [string, string][]): Headers {
  const headers = new Headers()
  for (const [name, value] of pairs) {
    try {
      headers.append(name, value)
    } catch {}
  }
  return headers
}

function checkObject<T extends object>(options: unknown, known: { [K in keyof T]-?: true }, method: string): Partial<T> {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionTypeError('options', options, `an object (the options of ${method})`)
  }
  for (const name of Object.keys(options)) {
    if (!Object.hasOwn(known, name)) {
      throw new InvalidOptionValueError(name, (options as Record<string, unknown>)[name], `is not an option of ${method}`)
    }
  }
  return options as Partial<T>
}

function flag<T extends object>(options: Partial<T>, name: keyof T & string, fallback: boolean): boolean {
  const value: unknown = options[name]
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new InvalidOptionTypeError(name, value, 'a boolean')
  return value
}

function stringList(value: unknown, option: string, nonEmpty = false): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new InvalidOptionTypeError(option, value, 'an array of strings')
  value.forEach((item, i) => {
    if (typeof item !== 'string') throw new InvalidOptionTypeError(`${option}[${i}]`, item, 'a string')
    if (nonEmpty && item === '') throw new InvalidOptionValueError(`${option}[${i}]`, item, 'must not be empty')
  })
  return value as string[]
}

function urlList(value: unknown, option: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new InvalidOptionTypeError(option, value, 'an array of URLs')
  return value.map((item, i) => {
    if (item instanceof URL) return item.href
    if (typeof item !== 'string') throw new InvalidOptionTypeError(`${option}[${i}]`, item, 'a URL string or a URL')
    if (!URL.canParse(item)) throw new InvalidOptionValueError(`${option}[${i}]`, item, 'must be an absolute URL')
    return item
  })
}
