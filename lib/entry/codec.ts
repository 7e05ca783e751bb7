import { type CacheEntry, ENTRY_VERSION, type EntryMeta } from './entry.js'
import { freshnessFacts } from './freshness-facts.js'

/**
 * How stores keep an entry: its metadata as JSON beside its body bytes. A row that does not decode
 * (corrupt, or written by another version) is `undefined`: a miss, never misread.
 */

/**
 * The fields a stored row already holds beside the metadata (the SQLite store's `key`, `url` and
 * `created_at` columns): left out of the JSON and filled back in when it is read. `createdAt` stands
 * for `responseTime` when they are equal (as they are until a 304 renews the entry).
 */
export interface RowColumns {
  key: string
  url: string
  createdAt?: number
}

/**
 * The metadata of an entry, as JSON (everything but the body). Compact: a field at its usual value
 * (a GET, a `response`, `OK`, no redirect, an identity body, the response
 * URL equal to the request URL, ...) is left out and restored on reading, so a 1 KiB entry's
 * metadata takes a third less room on disk, in Redis and in the memory store's packed form. (Not
 * node:http's STATUS_CODES: importing node:http makes Node create its global dispatcher.)
 */
export function encodeMeta(entry: EntryMeta & { body?: Uint8Array }, columns?: RowColumns): string {
  const { body: _body, ...meta } = entry
  const out: Partial<Record<keyof EntryMeta, unknown>> = { ...meta }
  if (columns && meta.key === columns.key) delete out.key
  if (columns && meta.url === columns.url) delete out.url
  if (meta.kind === 'response') delete out.kind
  if (meta.method === 'GET') delete out.method
  if (meta.responseUrl === meta.url) delete out.responseUrl
  if (meta.statusText === 'OK') delete out.statusText
  if (!meta.redirected) delete out.redirected
  if (meta.encoding === 'identity') delete out.encoding
  if (meta.bodyDigest === '') delete out.bodyDigest
  if (isEmpty(meta.requestHeaders)) delete out.requestHeaders
  if (meta.createdAt === meta.responseTime) delete out.createdAt
  if (columns?.createdAt !== undefined && meta.responseTime === columns.createdAt) delete out.responseTime
  if (meta.expires === null) delete out.expires
  return JSON.stringify(out)
}

function isEmpty(record: Record<string, string>): boolean {
  for (const _ in record) return false
  return true
}

/** An entry from its JSON metadata and body, or `undefined` when it cannot be read. */
export function decodeEntry(meta: string, body: Uint8Array, columns?: RowColumns): CacheEntry | undefined {
  const value = decodeMeta(meta, columns) as (EntryMeta & { body?: Uint8Array }) | undefined
  if (value === undefined) return undefined
  value.body = body
  return value as CacheEntry
}

/** An entry's metadata from its JSON, or `undefined` when it cannot be read. */
export function decodeMeta(meta: string, columns?: RowColumns): EntryMeta | undefined {
  let value: Record<string, unknown>
  try {
    value = JSON.parse(meta)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  value.key ??= columns?.key
  value.url ??= columns?.url
  value.kind ??= 'response'
  value.method ??= 'GET'
  value.responseUrl ??= value.url
  value.statusText ??= 'OK'
  value.redirected ??= false
  value.encoding ??= 'identity'
  value.bodyDigest ??= ''
  value.requestHeaders ??= {}
  value.responseTime ??= columns?.createdAt
  value.createdAt ??= value.responseTime
  value.expires ??= null
  return upgraded(value)
}

/** Version 3, the same entry without its freshness facts: read as the current version. */
const UPGRADABLE_VERSION = 3

/**
 * `value` as a current entry, or `undefined`: an entry of version 3, or one whose freshness facts are
 * missing or malformed, gets the facts of its own fields (entry/freshness-facts.ts).
 */
export function upgraded(value: Record<string, unknown>): EntryMeta | undefined {
  if (value.v === UPGRADABLE_VERSION) value.v = ENTRY_VERSION
  if (!isEntryMeta(value)) return undefined
  if (!hasFacts(value)) {
    delete value.directives
    Object.assign(value, freshnessFacts(value))
  }
  return value
}

/** Whether `value` is an entry of the current format, freshness facts included: what reading it back gives as is. */
export function isCurrentEntry(value: unknown): boolean {
  return isEntryMeta(value) && hasFacts(value)
}

function hasFacts(value: EntryMeta): boolean {
  return Number.isFinite(value.initialAge) && (value.directives === undefined || typeof value.directives === 'object')
}

/**
 * A cheap check of the fields every reader relies on, and of the version: an entry of another
 * version, or of another shape, is never misread. (The freshness facts are checked by {@link upgraded}.)
 */
export function isEntryMeta(value: unknown): value is EntryMeta {
  if (typeof value !== 'object' || value === null) return false
  const e = value as Record<string, unknown>
  return (
    e.v === ENTRY_VERSION &&
    typeof e.requestTime === 'number' &&
    typeof e.responseTime === 'number' &&
    typeof e.key === 'string' &&
    typeof e.url === 'string' &&
    typeof e.status === 'number' &&
    Array.isArray(e.headers) &&
    typeof e.createdAt === 'number' &&
    (e.expires === null || typeof e.expires === 'number')
  )
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * One entry packed into one byte array: a 4-byte metadata length, the metadata JSON, the body. In
 * memory that is a single allocation outside the JS heap instead of a tree of small objects.
 */
export function pack(entry: CacheEntry): Uint8Array {
  const meta = encoder.encode(encodeMeta(entry))
  const packed = new Uint8Array(4 + meta.byteLength + entry.body.byteLength)
  new DataView(packed.buffer).setUint32(0, meta.byteLength)
  packed.set(meta, 4)
  packed.set(entry.body, 4 + meta.byteLength)
  return packed
}

/** The entry in a packed array (its body a view into it, not a copy), or `undefined`. */
export function unpack(packed: Uint8Array): CacheEntry | undefined {
  if (packed.byteLength < 4) return undefined
  const length = new DataView(packed.buffer, packed.byteOffset, packed.byteLength).getUint32(0)
  if (4 + length > packed.byteLength) return undefined
  return decodeEntry(decoder.decode(packed.subarray(4, 4 + length)), packed.subarray(4 + length))
}
