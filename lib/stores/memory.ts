import { randomBytes } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { InvalidOptionTypeError, InvalidOptionValueError } from '../errors.js'
import { pack, unpack } from './codec.js'
import type { CacheEntry, EntryMeta } from './entry.js'
import { RecentEntries } from './recent-entries.js'
import type { MetaRecord, Store, StoreRecord } from './store.js'

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The most entries kept; past it the least-recently-used one is evicted.
   * @default 10_000
   */
  maxEntries?: number
  /**
   * The most bytes kept (packed entries plus a per-entry allowance); past it least-recently-used entries are
   * evicted. An entry larger than this is not stored.
   * @default 268_435_456 (256 MiB)
   */
  maxSize?: number
}

const DEFAULTS = Object.freeze({ maxEntries: 10_000, maxSize: 256 * 1024 * 1024 })
/** The heap around one packed entry (its key string, the array object, lru-cache's slots), measured. */
const PACKED_OVERHEAD = 256
/** Bounds of the decoded hot entries (their bodies are views into the packed arrays, not copies). */
const RECENT_ENTRIES = 256
const RECENT_BYTES = 64 * 1024 * 1024

const KNOWN_OPTIONS: { [K in keyof MemoryStoreOptions]-?: true } = { maxEntries: true, maxSize: true }

/**
 * A {@link Store} in this process's memory, bounded by entries and bytes with LRU eviction.
 * Entries are kept as given (treat them as immutable) and without TTL: expired entries stay until
 * evicted, since they can still be revalidated or served stale.
 */
export class MemoryStore implements Store {
  /** Random per instance: the entries do not outlive it, so neither must the secret. */
  readonly secret: string = randomBytes(32).toString('hex')
  /** Entries packed one byte array each (see codec.ts): little heap per entry. */
  readonly #lru: LRUCache<string, Uint8Array>
  /** Decoded entries of the latest hits, so a hot entry is not parsed on every hit. */
  readonly #recent = new RecentEntries(RECENT_ENTRIES, RECENT_BYTES)

  constructor(options: MemoryStoreOptions = {}) {
    checkOptions(options)
    const { maxEntries = DEFAULTS.maxEntries, maxSize = DEFAULTS.maxSize } = options
    // lru-cache skips (and deletes the old value of) an entry larger than maxSize instead of throwing.
    this.#lru = new LRUCache({
      max: maxEntries,
      maxSize,
      sizeCalculation: (packed, key) => packed.byteLength + key.length + PACKED_OVERHEAD,
      dispose: (_packed, key) => this.#recent.delete(key),
    })
  }

  /** The entry under `key`, or `undefined` (one that cannot be read is deleted). Marks it recently used. */
  get(key: string): CacheEntry | undefined {
    const packed = this.#lru.get(key)
    if (packed === undefined) return undefined
    const recent = this.#recent.get(key)
    if (recent) return recent.entry
    const entry = unpack(packed)
    if (entry === undefined) this.#lru.delete(key)
    else this.#recent.set(key, entry, 0)
    return entry
  }

  /** Store `entry` under `key`, replacing any entry there; evicts LRU entries past the bounds. */
  set(key: string, entry: CacheEntry): void {
    this.#recent.delete(key)
    this.#lru.set(key, pack(entry))
  }

  /**
   * Replace the metadata of the response under `key` stored at `storedAt` (its `createdAt`), keeping
   * its body (a 304). Nothing is written if that response was replaced or deleted meanwhile.
   */
  refresh(key: string, meta: EntryMeta, storedAt: number): void {
    const packed = this.#lru.peek(key)
    const current = packed && unpack(packed)
    if (current === undefined || current.createdAt !== storedAt) return
    this.set(key, { ...meta, body: current.body } as CacheEntry)
  }

  /** The metadata of the entry under `key`, without marking it used. */
  getMeta(key: string): MetaRecord | undefined {
    const packed = this.#lru.peek(key)
    if (packed === undefined) return undefined
    const entry = unpack(packed)
    return { key, meta: entry, bodySize: entry?.body.byteLength ?? 0 }
  }

  /** Every entry's metadata, most recently used first, without changing recency. */
  *metaRecords(): Generator<MetaRecord, void, undefined> {
    for (const { key, entry } of this.records()) yield { key, meta: entry, bodySize: entry?.body.byteLength ?? 0 }
  }

  /** Delete the entries under `keys`. Unknown keys are ignored. */
  delete(keys: readonly string[]): void {
    for (const key of keys) this.#lru.delete(key)
  }

  /** Delete every entry. */
  clear(): void {
    this.#lru.clear()
    this.#recent.clear()
  }

  /** Every entry, most recently used first, without changing recency; safe to write while iterating. */
  *records(): Generator<StoreRecord, void, undefined> {
    for (const key of [...this.#lru.keys()]) {
      const packed = this.#lru.peek(key)
      if (packed === undefined) continue // deleted since the snapshot
      yield { key, entry: unpack(packed) }
    }
  }

  /** Stored bytes: the packed entries plus a per-entry allowance for the objects around them. */
  size(): number {
    return this.#lru.calculatedSize
  }

  /** The number of stored entries. */
  count(): number {
    return this.#lru.size
  }

  /** The distinct (normalized request) URLs stored, sorted. */
  urls(): string[] {
    const urls = new Set<string>()
    for (const { entry } of this.records()) if (entry) urls.add(entry.url)
    return [...urls].sort()
  }

  /** Delete the entries that expire at or before `now` (ms); returns how many were deleted. */
  deleteExpired(now: number): number {
    return this.#deleteWhere((entry) => entry.expires !== null && entry.expires <= now)
  }

  /** Delete the entries created (or last revalidated) before `createdBefore` (ms); returns how many. */
  deleteOlderThan(createdBefore: number): number {
    return this.#deleteWhere((entry) => entry.createdAt < createdBefore)
  }

  /** Drop every entry: a memory store has nothing else to release. */
  close(): void {
    this.clear()
  }

  #deleteWhere(matches: (entry: CacheEntry) => boolean): number {
    const keys: string[] = []
    for (const { key, entry } of this.records()) if (entry && matches(entry)) keys.push(key)
    for (const key of keys) this.#lru.delete(key)
    return keys.length
  }
}

function checkOptions(options: MemoryStoreOptions): void {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionTypeError('options', options, 'an object')
  for (const name of Object.keys(options)) {
    if (!Object.hasOwn(KNOWN_OPTIONS, name)) {
      throw new InvalidOptionValueError(name, (options as Record<string, unknown>)[name], 'is not an option of MemoryStore')
    }
  }
  for (const name of ['maxEntries', 'maxSize'] as const) {
    const value: unknown = options[name]
    if (value === undefined) continue
    if (typeof value !== 'number') throw new InvalidOptionTypeError(name, value, 'a number')
    if (!Number.isSafeInteger(value) || value < 1) throw new InvalidOptionValueError(name, value, 'must be an integer >= 1')
  }
}
