import type { ReuseDirectives } from '../http/cache-control.js'
import { decode } from '../http/content-coding.js'

/**
 * The version of the stored entry format. An entry with another `v` is never misread: it is a miss.
 * 2: credential query parameters hashed in `url`, `Set-Cookie` values sealed (entry/sealed-cookies.ts).
 * 3: compact metadata, fields at their usual value left out (entry/codec.ts).
 * 4: freshness facts (`initialAge`, `directives`) kept with the entry; a version-3 entry is read as
 *    version 4, its facts computed from its fields (entry/codec.ts).
 */
export const ENTRY_VERSION = 4

/**
 * In which form a stored body is.
 * - `identity`: the bytes a `fetch()` caller reads (content-coding already removed by fetch).
 * - `coded`: the bytes as they came off the wire, encoded as the `content-encoding` header says
 *   (what a dispatcher handler sees).
 */
export type BodyEncoding = 'identity' | 'coded'

/** One stored response, with what is needed to match, serve, revalidate and re-key it. */
export interface CacheEntry {
  v: typeof ENTRY_VERSION
  /** The key the entry is stored under. */
  key: string
  /**
   * `response`: a stored response. `vary`: a marker stored under the base key of a response that
   * carried `Vary`; it names the headers whose values pick the variant (RFC 9111 §4.1).
   */
  kind: 'response' | 'vary'
  /** The request method (upper case). */
  method: string
  /** The request URL, normalized, with ignored parameters redacted. */
  url: string
  /** The URL of the response (differs from `url` after redirects). */
  responseUrl: string
  /**
   * Request headers as sent (lower-case names), with credentials replaced by a keyed hash and
   * ignored parameters by `REDACTED`. Used for `Vary`, `matchHeaders` and `recreateKeys()`.
   */
  requestHeaders: Record<string, string>
  /** The normalized request body's digest, kept so keys can be recomputed without the body. */
  bodyDigest: string
  status: number
  statusText: string
  /** Response headers as ordered pairs (lower-case names). `set-cookie` only when `keepsSetCookie` (policy/actions.ts). */
  headers: [string, string][]
  redirected: boolean
  body: Uint8Array
  encoding: BodyEncoding
  /** Names from the response's `Vary` (lower case), when it had one. */
  vary?: string[]
  /**
   * The response's tags, from the fields `tagHeaders` names (`Cache-Tag`, `Surrogate-Key`), for
   * `cache.delete({ tags })`; absent when it had none.
   */
  tags?: string[]
  /** When the request was sent and the response received (ms since epoch): RFC 9111 §4.2.3. */
  requestTime: number
  responseTime: number
  /** When the entry was stored or last revalidated (ms since epoch). */
  createdAt: number
  /** When the entry expires (ms since epoch), or `null` for never. */
  expires: number | null
  /**
   * Freshness facts of the stored fields, computed when they were written (entry/freshness-facts.ts),
   * so that a hit compares numbers: `corrected_initial_age` of RFC 9111 §4.2.3 in ms, and the reuse
   * directives of the response's `Cache-Control` (absent when it has none).
   */
  initialAge: number
  directives?: ReuseDirectives
}

/** An entry without its body: what a 304's refresh writes, and what maintenance reads. */
export type EntryMeta = Omit<CacheEntry, 'body'>

/**
 * The entry object, its body's view and buffer objects, its key and digest strings, and the memory
 * store's bookkeeping: about 700 bytes on V8 whatever the content (measured with 1 KiB bodies).
 */
const ENTRY_OVERHEAD = 700
/** A string's header and padding, and an object or array slot holding it. */
const STRING_OVERHEAD = 24
/** A `[name, value]` pair's array, or a property of `requestHeaders`. */
const PAIR_OVERHEAD = 32

/**
 * The approximate number of bytes an entry takes in memory: what the memory store's `maxSize`
 * counts. It includes the objects around the content, so that many small entries cannot hold
 * several times the bound (spec/reliability/memory.test.ts measures it).
 */
export function entrySize(entry: CacheEntry): number {
  return metaSize(entry, entry.body.byteLength)
}

/** {@link entrySize} from an entry's metadata and its body's length. */
export function metaSize(entry: EntryMeta, bodySize: number): number {
  let size = ENTRY_OVERHEAD + bodySize + entry.url.length + entry.responseUrl.length + 2 * STRING_OVERHEAD
  for (const [name, value] of entry.headers) size += name.length + value.length + 2 * STRING_OVERHEAD + PAIR_OVERHEAD
  for (const name in entry.requestHeaders) {
    size += name.length + (entry.requestHeaders[name]?.length ?? 0) + 2 * STRING_OVERHEAD + PAIR_OVERHEAD
  }
  return size
}

/**
 * The `Vary` marker for a response stored as a variant: under the base key, with no body and no expiry
 * (it lives as long as a variant may need it), dated like the response it was written with.
 */
export function varyMarker(response: EntryMeta & { body?: Uint8Array }, baseKey: string): CacheEntry {
  return { ...response, key: baseKey, kind: 'vary', body: new Uint8Array(0), expires: null }
}

/**
 * Whether `variant`, found where `marker` points, is a response that marker covers. A variant older
 * than its marker predates an invalidation (RFC 9111 §4.4 removes the marker, not the variants it
 * cannot list) or a change of `Vary`: it must not come back, to a lookup or to `contains()`.
 */
export function isCurrentVariant(
  marker: Pick<EntryMeta, 'createdAt'>,
  variant: Pick<EntryMeta, 'kind' | 'createdAt'> | undefined,
): boolean {
  return variant?.kind === 'response' && variant.createdAt >= marker.createdAt
}

/**
 * A copy of `bytes` in an `ArrayBuffer` of its own size. Allocated and then filled: V8 copies a typed
 * array given to the `Uint8Array` constructor several times slower (1 KiB: about 4 µs against 1).
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength)
  copy.set(bytes)
  return copy
}

/** The body as a `fetch()` caller reads it: content-coding removed. */
export function identityBody(entry: CacheEntry): Uint8Array {
  if (entry.encoding === 'identity') return entry.body
  return decode(entry.body, storedField(entry, 'content-encoding') ?? undefined)
}

/**
 * A stored header field's value, as `Headers.get()` reads it (repeated lines joined with `, `), or
 * `null`: the one way every stage reads the stored fields, without building a `Headers`.
 */
export function storedField(entry: Pick<EntryMeta, 'headers'>, name: string): string | null {
  let value: string | null = null
  for (const [field, fieldValue] of entry.headers) {
    if (field === name) value = value === null ? fieldValue : `${value}, ${fieldValue}`
  }
  return value
}

/** Something whose header fields can be read by name: a `Headers`, or {@link storedFields} of an entry. */
export interface FieldReader {
  get(name: string): string | null
}

/** An entry's stored fields as a {@link FieldReader}. */
export function storedFields(entry: Pick<EntryMeta, 'headers'>): FieldReader {
  return { get: (name) => storedField(entry, name) }
}
