import { type CacheEntry, ENTRY_VERSION, type EntryMeta } from './entry.js'

/**
 * How stores keep an entry: its metadata as JSON beside its body bytes. A row that does not decode
 * (corrupt, or written by another version) is `undefined`: a miss, never misread.
 */

/** The metadata of an entry, as JSON (everything but the body). */
export function encodeMeta(entry: EntryMeta & { body?: Uint8Array }): string {
  const { body: _body, ...meta } = entry
  return JSON.stringify(meta)
}

/** An entry from its JSON metadata and body, or `undefined` when it cannot be read. */
export function decodeEntry(meta: string, body: Uint8Array): CacheEntry | undefined {
  const value = decodeMeta(meta) as (EntryMeta & { body?: Uint8Array }) | undefined
  if (value === undefined) return undefined
  value.body = body
  return value as CacheEntry
}

/** An entry's metadata from its JSON, or `undefined` when it cannot be read. */
export function decodeMeta(meta: string): EntryMeta | undefined {
  let value: unknown
  try {
    value = JSON.parse(meta)
  } catch {
    return undefined
  }
  return isEntryMeta(value) ? value : undefined
}

/**
 * A cheap check of the fields every reader relies on, and of the version: an entry of another
 * version, or of another shape, is never misread.
 */
export function isEntryMeta(value: unknown): value is EntryMeta {
  if (typeof value !== 'object' || value === null) return false
  const e = value as Record<string, unknown>
  return (
    e.v === ENTRY_VERSION &&
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
